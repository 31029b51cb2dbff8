// scaling.c — scaled quantise/dequantise of f32 tensors to FP8 (per-tensor, block-wise, delayed)
// and bf16, as the inputs of a low-precision matmul see them.
//
// The rounding here is the same function as num_f32_to_fp8 followed by num_fp8_to_f32 with
// saturation (tests/act/test_scaling.c checks it bit for bit), but written for speed: training
// emulation quantises every matmul input of every step (round_mag in minifloat.h).
//
// Counts and amax are reductions of integers and a max, so they do not depend on how OpenMP
// splits the loop: results are bit-identical for any thread count.
#include "actlab.h"
#include "minifloat.h"

#include <float.h>
#include <math.h>
#include <string.h>
#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

#define PAR_MIN_ELEMS 65536
#define CHUNK ((size_t)16384)  // fixed work unit of the parallel loops

void num_qstats_clear(num_qstats *s) { memset(s, 0, sizeof *s); }

void num_qstats_merge(num_qstats *into, const num_qstats *s) {
    into->n += s->n;
    into->n_sat += s->n_sat;
    into->n_ftz += s->n_ftz;
    if (s->amax > into->amax) into->amax = s->amax;
}

static float amax_range(const float *x, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        m = a <= FLT_MAX && a > m ? a : m;
    }
    return m;
}

float num_amax(const float *x, size_t n) {
    if (n < PAR_MIN_ELEMS) return amax_range(x, n);
    long chunks = (long)((n + CHUNK - 1) / CHUNK);
    float m = 0;
#pragma omp parallel for schedule(static) reduction(max : m)
    for (long c = 0; c < chunks; c++) {
        size_t i0 = (size_t)c * CHUNK;
        float a = amax_range(x + i0, n - i0 < CHUNK ? n - i0 : CHUNK);
        m = a > m ? a : m;
    }
    return m;
}

float num_fp8_scale(num_fp8_format f, float amax, float margin, float fallback) {
    if (!(amax > 0) || !isfinite(amax)) return fallback;
    float s = num_fp8_max(f) / amax / exp2f(margin);
    return isfinite(s) && s > 0 ? s : fallback;
}

// ---- the rounding core: blocks of up to BLK elements into a local buffer ----------------------
// Each block is rounded into a stack array first and stored after: the compiler then vectorises
// the rounding (no aliasing to fear), and a caller may quantise in place, even into the bf16
// codes that fill the first half of a row's own f32 storage (the store of block j writes bytes
// that hold elements already read). Counts are integers and amax a max of bit patterns (|x| of
// finite floats orders like its bits), so no reduction depends on the order or the thread count.
enum { BLK = 256 };

typedef struct {
    uint32_t n_sat, n_ftz, amax_bits;
} blk_counts;

typedef enum { OUT_QDQ, OUT_CODES_F32, OUT_BF16 } out_kind;

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

// c[i] = ±Q(|x[i]·scale|): the signed FP8 value, saturated at the format's max.
static void fp8_round_block(float *c, const float *x, int n, const qfmt *q, float scale, blk_counts *k) {
    uint32_t n_sat = 0, n_ftz = 0;
    int32_t amax = 0;
    for (int i = 0; i < n; i++) {
        float xi = x[i], v = xi * scale;
        uint32_t ab = f32_bits(xi) & 0x7fffffffu;
        float r = round_mag(fabsf(v), q);
        uint32_t sat = r > q->max;  // false for NaN
        r = sat ? q->max : r;
        n_sat += sat;
        n_ftz += (uint32_t)(ab != 0) & (uint32_t)(r == 0);
        int32_t fin = ab <= 0x7f7fffffu ? (int32_t)ab : 0;  // signed: GCC vectorises this max
        amax = fin > amax ? fin : amax;
        c[i] = bits_f32(f32_bits(r) | (f32_bits(v) & 0x80000000u));
    }
    k->n_sat += n_sat, k->n_ftz += n_ftz;
    k->amax_bits = (uint32_t)amax > k->amax_bits ? (uint32_t)amax : k->amax_bits;
}

// b[i] = bf16 bits of x[i], round to nearest even (num_f32_to_bf16, NaN kept quiet), any elements.
static void bf16_round_portable(uint16_t *b, const float *x, int n, blk_counts *k) {
    uint32_t n_sat = 0, n_ftz = 0;
    int32_t amax = 0;
    for (int i = 0; i < n; i++) {
        uint32_t u = f32_bits(x[i]), ab = u & 0x7fffffffu;
        uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16, nan = (u >> 16) | 0x0040u;
        // a select by mask: with ?: here GCC 12 does not vectorise the loop (amax's max beside it)
        uint32_t m = 0u - (uint32_t)(ab > 0x7f800000u), code = (nan & m) | (r & ~m), rab = code & 0x7fffu;
        n_sat += (uint32_t)(ab <= 0x7f7fffffu) & (uint32_t)(rab == 0x7f80u);  // past bf16's largest finite value
        n_ftz += (uint32_t)(ab != 0) & (uint32_t)(rab == 0);
        int32_t fin = ab <= 0x7f7fffffu ? (int32_t)ab : 0;  // signed: GCC vectorises this max
        amax = fin > amax ? fin : amax;
        b[i] = (uint16_t)code;
    }
    k->n_sat += n_sat, k->n_ftz += n_ftz;
    k->amax_bits = (uint32_t)amax > k->amax_bits ? (uint32_t)amax : k->amax_bits;
}

// The same for a whole block. Where the CPU converts f32 to bf16 itself (AVX-512 BF16), 16 at a
// time: VCVTNEPS2BF16 rounds to nearest even and quiets a NaN exactly as num_f32_to_bf16 does, but
// reads a subnormal input as zero, so a vector holding a subnormal, or anything whose rounding
// saturates or is not finite (|x| >= 0x7f7f8000 as bits), goes through the portable loop instead;
// in every other vector nothing saturates or flushes, and amax is the max of |x|. The same bits and
// counts either way (test_scaling checks every bf16 code and its rounding boundaries), at about half
// the portable loop's time: the casts of a bf16 training step are bound by their instructions.
static void bf16_round_block(uint16_t *b, const float *x, int n, blk_counts *k) {
    int i = 0;
#if defined(__AVX512BF16__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
    __m512i amax = _mm512_setzero_si512();
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), big = _mm512_set1_epi32(0x7f7f8000);
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512i ab = _mm512_and_si512(_mm512_castps_si512(v), abs_mask);
        if (_mm512_cmpge_epi32_mask(ab, big) | _mm512_fpclass_ps_mask(v, 0x20)) {  // 0x20: subnormal
            bf16_round_portable(b + i, x + i, 16, k);
            continue;
        }
        _mm256_storeu_si256((__m256i *)(b + i), (__m256i)_mm512_cvtneps_pbh(v));
        amax = _mm512_max_epi32(amax, ab);
    }
    uint32_t m = (uint32_t)_mm512_reduce_max_epi32(amax);
    k->amax_bits = m > k->amax_bits ? m : k->amax_bits;
#endif
    bf16_round_portable(b + i, x + i, n - i, k);
}

// One row of n elements: x -> y (f32 or uint16 by kind); q NULL: bf16.
static void round_row(void *y, const float *x, int n, const qfmt *q, float scale, out_kind kind, blk_counts *k) {
    float c[BLK];
    uint16_t b[BLK];
    float inv = 1.0f / scale;
    for (int j = 0; j < n; j += BLK) {
        int len = n - j < BLK ? n - j : BLK;
        if (q) fp8_round_block(c, x + j, len, q, scale, k);
        else bf16_round_block(b, x + j, len, k);
        if (kind == OUT_BF16) {
            uint16_t *o = (uint16_t *)y + j;
            if (q)
                for (int i = 0; i < len; i++) b[i] = (uint16_t)(f32_bits(c[i]) >> 16);  // FP8 values are bf16 values
            memcpy(o, b, sizeof(uint16_t) * (size_t)len);
        } else {
            float *o = (float *)y + j;
            if (!q)
                for (int i = 0; i < len; i++) o[i] = num_bf16_to_f32(b[i]);
            else if (kind == OUT_QDQ)
                for (int i = 0; i < len; i++) o[i] = c[i] * inv;
            else
                memcpy(o, c, sizeof(float) * (size_t)len);
        }
    }
}

// x: (rows, cols) of row stride ldx -> y of row stride ldy (elements of the output type), rows
// shared out by OpenMP in a fixed split.
static void round_2d(void *y, size_t ldy, const float *x, size_t ldx, int rows, int cols, const qfmt *q, float scale,
                     out_kind kind, num_qstats *st) {
    size_t esz = kind == OUT_BF16 ? sizeof(uint16_t) : sizeof(float);
    uint64_t n_sat = 0, n_ftz = 0;
    uint32_t amax = 0;
    // Small calls (a caller rounding its output piece by piece) skip OpenMP altogether: even a
    // parallel region that runs on one thread costs microseconds, more than a few KiB of rounding.
    if ((size_t)rows * (size_t)cols < PAR_MIN_ELEMS || rows == 1) {
        blk_counts k = {0, 0, 0};
        for (int r = 0; r < rows; r++) round_row((char *)y + (size_t)r * ldy * esz, x + (size_t)r * ldx, cols, q, scale, kind, &k);
        if (st) num_qstats_merge(st, &(num_qstats){(uint64_t)rows * (uint64_t)cols, k.n_sat, k.n_ftz, bits_f32(k.amax_bits)});
        return;
    }
#pragma omp parallel for schedule(static) reduction(+ : n_sat, n_ftz) reduction(max : amax)
    for (int r = 0; r < rows; r++) {
        blk_counts k = {0, 0, 0};
        round_row((char *)y + (size_t)r * ldy * esz, x + (size_t)r * ldx, cols, q, scale, kind, &k);
        n_sat += k.n_sat, n_ftz += k.n_ftz;
        amax = k.amax_bits > amax ? k.amax_bits : amax;
    }
    if (st) num_qstats_merge(st, &(num_qstats){(uint64_t)rows * (uint64_t)cols, n_sat, n_ftz, bits_f32(amax)});
}

// A flat tensor of n elements: rows of CHUNK (the parallel work unit), then the rest.
static void round_flat(void *y, const float *x, size_t n, const qfmt *q, float scale, out_kind kind, num_qstats *st) {
    size_t full = n / CHUNK, rest = n - full * CHUNK, esz = kind == OUT_BF16 ? sizeof(uint16_t) : sizeof(float);
    if (full) round_2d(y, CHUNK, x, CHUNK, (int)full, (int)CHUNK, q, scale, kind, st);
    if (rest || !full) round_2d((char *)y + full * CHUNK * esz, rest, x + full * CHUNK, rest, 1, (int)rest, q, scale, kind, st);
}

void num_fp8_qdq(float *y, const float *x, size_t n, num_fp8_format f, float scale, num_qstats *st) {
    qfmt q = qfmt_fp8(f);
    round_flat(y, x, n, &q, scale, OUT_QDQ, st);
}

void num_fp8_codes(float *y, const float *x, size_t n, num_fp8_format f, float scale, num_qstats *st) {
    qfmt q = qfmt_fp8(f);
    round_flat(y, x, n, &q, scale, OUT_CODES_F32, st);
}

void num_bf16_qdq(float *y, const float *x, size_t n, num_qstats *st) { round_flat(y, x, n, NULL, 1.0f, OUT_QDQ, st); }

void num_bf16_encode(uint16_t *y, size_t ldy, const float *x, size_t ldx, int rows, int cols, num_qstats *st) {
    round_2d(y, ldy, x, ldx, rows, cols, NULL, 1.0f, OUT_BF16, st);
}

void num_fp8_encode(uint16_t *y, size_t ldy, const float *x, size_t ldx, int rows, int cols, num_fp8_format f,
                    float scale, num_qstats *st) {
    qfmt q = qfmt_fp8(f);
    round_2d(y, ldy, x, ldx, rows, cols, &q, scale, OUT_BF16, st);
}

// One tile: rows r0.., columns c0.. of x (ld = cols).
static float tile_amax(const float *x, int ld, int r0, int nr, int c0, int nc) {
    float m = 0;
    for (int r = r0; r < r0 + nr; r++) {
        float a = amax_range(x + (size_t)r * ld + c0, (size_t)nc);
        m = a > m ? a : m;
    }
    return m;
}

void num_fp8_qdq_blocks(float *y, const float *x, int rows, int cols, int br, int bc, num_fp8_format f,
                        float margin, num_qstats *st, float *min_scale) {
    qfmt q = qfmt_fp8(f);
    int tr = (rows + br - 1) / br, tc = (cols + bc - 1) / bc;
    long n_tiles = (long)tr * tc;
    float smin = INFINITY, amax = 0;
    uint64_t n_sat = 0, n_ftz = 0;
#pragma omp parallel for schedule(static) reduction(+ : n_sat, n_ftz) reduction(min : smin) reduction(max : amax) \
    if ((size_t)rows * (size_t)cols >= PAR_MIN_ELEMS)
    for (long t = 0; t < n_tiles; t++) {
        int r0 = (int)(t / tc) * br, c0 = (int)(t % tc) * bc;
        int nr = rows - r0 < br ? rows - r0 : br, nc = cols - c0 < bc ? cols - c0 : bc;
        float s = num_fp8_scale(f, tile_amax(x, cols, r0, nr, c0, nc), margin, 1.0f);
        blk_counts k = {0, 0, 0};
        for (int r = r0; r < r0 + nr; r++)
            round_row(y + (size_t)r * cols + c0, x + (size_t)r * cols + c0, nc, &q, s, OUT_QDQ, &k);
        n_sat += k.n_sat;
        n_ftz += k.n_ftz;
        amax = bits_f32(k.amax_bits) > amax ? bits_f32(k.amax_bits) : amax;
        smin = s < smin ? s : smin;
    }
    if (st) {
        st->n += (uint64_t)rows * (uint64_t)cols;
        st->n_sat += n_sat;
        st->n_ftz += n_ftz;
        if (amax > st->amax) st->amax = amax;
    }
    if (min_scale) *min_scale = n_tiles ? smin : 1.0f;
}

void num_delayed_init(num_delayed *d, float *hist, int len) {
    d->hist = hist;
    d->len = len < 1 ? 1 : len;
    d->pos = 0;
    d->scale = 1.0f;
    memset(hist, 0, sizeof(float) * (size_t)d->len);
}

void num_delayed_push(num_delayed *d, float amax, num_fp8_format f, float margin) {
    // A non-finite amax is not recorded (it would pin the scale for len steps); Transformer
    // Engine likewise keeps the previous scale when the amax is not finite.
    d->hist[d->pos] = isfinite(amax) ? amax : 0;
    d->pos = (d->pos + 1) % d->len;
    float m = 0;
    for (int i = 0; i < d->len; i++) m = d->hist[i] > m ? d->hist[i] : m;
    d->scale = num_fp8_scale(f, m, margin, d->scale);
}
