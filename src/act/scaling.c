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

// One contiguous range, sequential (the compiler vectorises it); counts returned in *st.
static void fp8_range(float *y, const float *x, size_t n, const qfmt *q, float scale, num_qstats *st) {
    float inv = 1.0f / scale, amax = 0;
    uint64_t n_sat = 0, n_ftz = 0;
    for (size_t i = 0; i < n; i++) {
        float xi = x[i], ax = fabsf(xi), v = xi * scale;
        float r = round_mag(fabsf(v), q);
        int sat = r > q->max;  // false for NaN
        r = sat ? q->max : r;
        n_sat += (uint64_t)sat;
        n_ftz += (uint64_t)(xi != 0 && r == 0);
        amax = ax <= FLT_MAX && ax > amax ? ax : amax;
        y[i] = copysignf(r, v) * inv;
    }
    *st = (num_qstats){n, n_sat, n_ftz, amax};
}

static void bf16_range(float *y, const float *x, size_t n, num_qstats *st) {
    float amax = 0;
    uint64_t n_sat = 0, n_ftz = 0;
    for (size_t i = 0; i < n; i++) {
        float xi = x[i], ax = fabsf(xi), r = num_bf16_to_f32(num_f32_to_bf16(xi));
        n_sat += (uint64_t)(ax <= FLT_MAX && isinf(r));  // rounds past bf16's largest finite value
        n_ftz += (uint64_t)(xi != 0 && r == 0);
        amax = ax <= FLT_MAX && ax > amax ? ax : amax;
        y[i] = r;
    }
    *st = (num_qstats){n, n_sat, n_ftz, amax};
}

// Fixed chunks shared out by OpenMP; integer counts and a max reduce the same way for any split.
static void qdq_chunked(float *y, const float *x, size_t n, const qfmt *q, float scale, num_qstats *st) {
    long chunks = (long)((n + CHUNK - 1) / CHUNK);
    uint64_t n_sat = 0, n_ftz = 0;
    float amax = 0;
#pragma omp parallel for schedule(static) reduction(+ : n_sat, n_ftz) reduction(max : amax) if (n >= PAR_MIN_ELEMS)
    for (long c = 0; c < chunks; c++) {
        size_t i0 = (size_t)c * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        num_qstats cs;
        if (q) fp8_range(y + i0, x + i0, len, q, scale, &cs);
        else bf16_range(y + i0, x + i0, len, &cs);
        n_sat += cs.n_sat;
        n_ftz += cs.n_ftz;
        amax = cs.amax > amax ? cs.amax : amax;
    }
    if (st) num_qstats_merge(st, &(num_qstats){n, n_sat, n_ftz, amax});
}

void num_fp8_qdq(float *y, const float *x, size_t n, num_fp8_format f, float scale, num_qstats *st) {
    qfmt q = qfmt_fp8(f);
    qdq_chunked(y, x, n, &q, scale, st);
}

void num_bf16_qdq(float *y, const float *x, size_t n, num_qstats *st) { qdq_chunked(y, x, n, NULL, 1.0f, st); }

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
        for (int r = r0; r < r0 + nr; r++) {
            num_qstats ts;
            fp8_range(y + (size_t)r * cols + c0, x + (size_t)r * cols + c0, (size_t)nc, &q, s, &ts);
            n_sat += ts.n_sat;
            n_ftz += ts.n_ftz;
            amax = ts.amax > amax ? ts.amax : amax;
        }
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
