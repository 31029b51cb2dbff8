// mx.c — block-scaled quantise/dequantise: MXFP8 (E4M3, E5M2) and MXFP4 with a power-of-two E8M0
// scale per block (OCP Microscaling Formats (MX) v1.0), NVFP4 with an E4M3 scale per block and an
// f32 scale per tensor (NVIDIA, "Pretraining Large Language Models with NVFP4", 2025, as
// Transformer Engine computes it). The output is what the GEMM sees: element × block scale
// (× tensor decode scale), in f32.
//
// Every element's result depends only on its block (and, for NVFP4, the tensor amax), and the
// random number of stochastic rounding only on its index, so values are bit-identical for any
// thread count. The counts are integer sums; the one floating-point sum (relative error) is taken
// per fixed work unit and the units are added in order, so it is bit-identical too.
#include "actlab.h"
#include "minifloat.h"
#include "vmath.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAR_MIN_ELEMS 65536
#define UNIT_ELEMS 4096  // about this many elements per work unit (whole blocks)

void num_bstats_clear(num_bstats *s) { memset(s, 0, sizeof *s); }

void num_bstats_merge(num_bstats *into, const num_bstats *s) {
    into->n += s->n;
    into->n_sat += s->n_sat;
    into->n_zero += s->n_zero;
    into->n_err += s->n_err;
    into->sum_rel_err += s->sum_rel_err;
    into->blocks += s->blocks;
    into->blocks_nonfinite += s->blocks_nonfinite;
    into->blocks_outlier += s->blocks_outlier;
}

// emax of the element format: the exponent of its largest normal (E4M3 448 = 1.75·2^8, E5M2
// 57344 = 1.75·2^15, E2M1 6 = 1.5·2^2).
static int elem_emax(num_block_format f) { return f == NUM_MXFP8_E4M3 ? 8 : f == NUM_MXFP8_E5M2 ? 15 : 2; }

uint8_t num_mx_scale(float amax, num_block_format f) {
    if (!isfinite(amax)) return 255;
    if (amax == 0) return 0;  // floor(log2 0) = −inf, clamped to the smallest scale
    int e;
    frexpf(amax, &e);  // amax = m·2^e with m in [0.5, 1), so floor(log2 amax) = e − 1 (subnormals too)
    int x = e - 1 - elem_emax(f);
    x = x < -127 ? -127 : x > 127 ? 127 : x;
    return (uint8_t)(x + 127);
}

float num_nvfp4_tensor_scale(float amax) {
    if (!(amax > 0)) return 1.0f;  // 0 (nothing to scale), or NaN
    float s = fminf(448.0f * 6.0f / amax, FLT_MAX);
    return s == 0 ? 1.0f : s;  // s is 0 for amax = inf
}

uint8_t num_nvfp4_block_scale(float block_amax, float s_enc) {
    if (!isfinite(block_amax)) return 0x7f;  // E4M3 NaN
    return num_f32_to_fp8(fminf(block_amax * (s_enc * (1.0f / 6.0f)), 448.0f), NUM_E4M3, NUM_SATURATE);
}

typedef struct {
    const num_block_spec *s;
    qfmt q;
    int rows, cols;
    float s_enc, s_dec;  // NVFP4's tensor scales (1 for MX)
    int codes;           // 1: the output leaves s_dec out (num_block_codes)
} qctx;

typedef struct {
    uint64_t n_sat, n_zero, n_err, nonfinite, outlier;
    double err;
} qacc;

// 2^e for an integer e in [−127, 127], exactly, from the bits (2^−127 is the one subnormal).
static inline float pow2i(int e) {
    float p = am_f32_from_bits((uint32_t)((e > -127 ? e : -126) + 127) << 23);
    return e > -127 ? p : 0x1p-127f;
}

// The factors of a block of amax m (finite): element = round(|x|·up), value = (element·down)·s_dec.
// up = 0 marks a block whose scale decodes to zero (all its values are 0). Inline and branch-free so
// a unit's blocks get theirs in one vectorised loop; the same values as the scalar codecs
// (num_mx_scale with ldexpf; num_nvfp4_block_scale then num_fp8_to_f32), which test_mx checks.
static inline void block_factors(float m, int fmt_mx, int emax, float k, float s_dec, const qfmt *e4m3, float *up,
                                 float *down) {
    if (fmt_mx) {
        // floor(log2 m) from the exponent field; a subnormal m is first scaled by 2^64 (exact)
        int sub = m < 0x1p-126f;
        int e = (int)((am_bits_of_f32(sub ? m * 0x1p64f : m) >> 23) & 255) - 127 - (sub ? 64 : 0);
        int x = e - emax;
        x = x < -127 ? -127 : x > 127 ? 127 : x;
        x = m == 0 ? -127 : x;  // the spec's floor(log2 0) = −inf, clamped
        *up = pow2i(-x), *down = pow2i(x);
        return;
    }
    // Transformer Engine's operations: the E4M3 scale of min(m·(s_enc/6), 448), and the encode
    // factor 1/(d·s_dec), so the elements match its cast.
    // fminf written as selects (the same results for these operands, and no libm call in the loop)
    float v = m * k;
    float d = round_mag(v < 448.0f ? v : 448.0f, e4m3), inv = 1.0f / (d * s_dec);
    *up = d == 0 ? 0 : (inv < FLT_MAX ? inv : FLT_MAX);
    *down = d;
}

// Scratch of one thread: per column of a work unit, the top two |x| down the block rows, then the
// factors of the column's block (expanded per column so the element loop reads them contiguously);
// per block, its amax and factors.
typedef struct {
    float *a1, *a2, *up, *down;
    float *xs, *yd;  // statistics only: one row's inputs and dequantised values (1 where not counted)
    float *bmax, *bup, *bdown;  // per block
    int32_t *bad;   // the column holds a NaN or ±inf; then: its block does (32 bits like the floats)
    int32_t *bbad;  // per block
} qscratch;

// Top two |x| of every column [c0, c0+nc) over rows [r0, r0+nr), and whether a NaN or ±inf occurs:
// down the rows, so the loop runs along contiguous columns (second = max when the max occurs twice).
static void column_top2(const float *x, int ld, int r0, int nr, int c0, int nc, qscratch *w) {
    for (int j = 0; j < nc; j++) w->a1[j] = 0, w->a2[j] = 0, w->bad[j] = 0;
    for (int r = r0; r < r0 + nr; r++) {
        const float *xr = x + (size_t)r * ld + c0;
#pragma omp simd
        for (int j = 0; j < nc; j++) {
            float a = fabsf(xr[j]), a1 = w->a1[j], a2 = w->a2[j];
            w->bad[j] |= !(a <= FLT_MAX);
            w->a2[j] = a > a1 ? a1 : (a > a2 ? a : a2);
            w->a1[j] = a > a1 ? a : a1;
        }
    }
}

// Whether a block whose columns [j0, j1) have amax m1 is outlier-dominated: m1 > 2 × its second
// largest |x|, which is m1 itself if two columns reach m1, else the largest of every column's second
// and the other columns' firsts (a column's second never exceeds its first).
static int block_outlier(const qscratch *w, int j0, int j1, float m1) {
    float m2 = 0;
    int at_max = 0;
#pragma omp simd reduction(max : m2) reduction(+ : at_max)
    for (int j = j0; j < j1; j++) {
        float a1 = w->a1[j], a2 = w->a2[j], other = a1 < m1 ? a1 : 0;
        at_max += a1 == m1;
        m2 = a2 > m2 ? a2 : m2;
        m2 = other > m2 ? other : m2;
    }
    if (at_max > 1) m2 = m1;
    return m1 > 0 && m1 > 2 * m2;
}

// The blocks of one work unit: block row bi, blocks [bj0, bj1) along it: each block's amax from its
// columns, its factors (vectorised over the blocks), then the factors copied to its columns.
static void unit_scales(const qctx *c, int bj0, int bj1, int c0, qscratch *w, uint8_t *scales, int stats, qacc *acc) {
    int bc = c->s->bc, nb = bj1 - bj0, last = c->cols - c0;
    for (int b = 0; b < nb; b++) {
        int j0 = b * bc, j1 = j0 + bc < last ? j0 + bc : last;
        float m1 = 0;
        int bad = 0;
#pragma omp simd reduction(max : m1) reduction(| : bad)
        for (int j = j0; j < j1; j++) {
            bad |= w->bad[j];
            m1 = w->a1[j] > m1 ? w->a1[j] : m1;
        }
        w->bmax[b] = m1, w->bbad[b] = bad;
        acc->nonfinite += (uint64_t)bad;
        if (stats && !bad) acc->outlier += (uint64_t)block_outlier(w, j0, j1, m1);
    }
    int mx = c->s->fmt != NUM_NVFP4, emax = elem_emax(c->s->fmt);
    float k = c->s_enc * (1.0f / 6.0f), s_dec = c->s_dec;
    qfmt e4m3 = qfmt_fp8(NUM_E4M3);
    float *bup = w->bup, *bdown = w->bdown;
    const float *bmax = w->bmax;
    const int32_t *bbad = w->bbad;
#pragma omp simd
    for (int b = 0; b < nb; b++) {
        float up, down;
        block_factors(bbad[b] ? 0.0f : bmax[b], mx, emax, k, s_dec, &e4m3, &up, &down);
        bup[b] = bbad[b] ? NAN : up, bdown[b] = bbad[b] ? NAN : down;  // the spec's NaN scale: all NaN
    }
    if (scales)  // the codes themselves, for callers that store them (not the model)
        for (int b = 0; b < nb; b++) {
            uint8_t nan_code = mx ? 255 : 0x7f;
            scales[bj0 + b] = bbad[b] ? nan_code
                              : mx    ? num_mx_scale(bmax[b], c->s->fmt)
                                      : num_nvfp4_block_scale(bmax[b], c->s_enc);
        }
    for (int b = 0; b < nb; b++) {
        int j0 = b * bc, j1 = j0 + bc < last ? j0 + bc : last;
        for (int j = j0; j < j1; j++) w->up[j] = bup[b], w->down[j] = bdown[b], w->bad[j] = bbad[b];
    }
}

// The elements of one unit, rows [r0, r0+nr), columns [c0, c0+nc), with their columns' factors.
// sr: stochastic rounding; stats 0 skips the statistics (their division per element costs as much
// as the rounding). Both are constants at every call, so each of the four loops is branch-free
// after inlining, which is what lets GCC vectorise it.
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void unit_elements(float *y, const float *x, const qctx *c, int r0, int nr, int c0, int nc,
                                 const qscratch *w, int sr, int stats, qacc *acc) {
    float qmax = c->q.max, s_dec = c->s_dec;
    // Locals, not w->…: the stores to xs and yd could otherwise alias w's own fields for GCC.
    const float *up = w->up, *down = w->down;
    const int32_t *bad = w->bad;
    float *xs = w->xs, *yd = w->yd;
    const qfmt q = c->q;
    const int codes = c->codes;
    const uint64_t seed = c->s->seed;
    double err = 0;
    for (int r = r0; r < r0 + nr; r++) {
        size_t row = (size_t)r * c->cols + c0;
        const float *xr = x + row;
        float *yr = y + row;
        int n_sat = 0, n_zero = 0, n_err = 0;  // per row (≤ UNIT_ELEMS): 32-bit lanes like the floats
#pragma omp simd reduction(+ : n_sat, n_zero, n_err)
        for (int j = 0; j < nc; j++) {
            float xi = xr[j], v = fabsf(xi) * up[j], e;
            int sat;
            if (sr) {
                sat = v > qmax;
                e = sat ? qmax : round_mag_stochastic(v, &q, sr_uniform(seed, row + (size_t)j));
            } else {
                e = round_mag(v, &q);
                sat = e > qmax;
                e = sat ? qmax : e;
            }
            float ed = e * down[j], yi = copysignf(ed * s_dec, xi);
            int ok = !bad[j];
            yr[j] = ok ? (codes ? copysignf(ed, xi) : yi) : NAN;
            if (stats) {
                int counted = ok && xi != 0;
                n_sat += ok && sat;
                n_zero += counted && e == 0;
                n_err += counted;
                xs[j] = counted ? xi : 1.0f;
                yd[j] = counted ? yi : 1.0f;
            }
        }
        if (!stats) continue;
        acc->n_sat += (uint64_t)n_sat, acc->n_zero += (uint64_t)n_zero, acc->n_err += (uint64_t)n_err;
        // The relative errors in double in a loop of their own: in the loop above, a double sum
        // beside the f32 lanes keeps GCC from vectorising anything.
#pragma omp simd reduction(+ : err)
        for (int j = 0; j < nc; j++) err += fabs((double)yd[j] - (double)xs[j]) / fabs((double)xs[j]);
    }
    acc->err += err;
}

// One work unit: block row bi, blocks [bj0, bj1).
static void quant_unit(float *y, const float *x, const qctx *c, int bi, int bj0, int bj1, qscratch *w,
                       uint8_t *scales, int stats, qacc *acc) {
    const num_block_spec *s = c->s;
    int r0 = bi * s->br, nr = c->rows - r0 < s->br ? c->rows - r0 : s->br;
    int c0 = bj0 * s->bc, c1 = bj1 * s->bc < c->cols ? bj1 * s->bc : c->cols;
    column_top2(x, c->cols, r0, nr, c0, c1 - c0, w);
    unit_scales(c, bj0, bj1, c0, w, scales, stats, acc);
    int nc = c1 - c0;
    if (c->s->rnd == NUM_ROUND_STOCHASTIC) {
        if (stats) unit_elements(y, x, c, r0, nr, c0, nc, w, 1, 1, acc);
        else unit_elements(y, x, c, r0, nr, c0, nc, w, 1, 0, acc);
    } else {
        if (stats) unit_elements(y, x, c, r0, nr, c0, nc, w, 0, 1, acc);
        else unit_elements(y, x, c, r0, nr, c0, nc, w, 0, 0, acc);
    }
}

// num_block_qdq and num_block_codes: codes 1 leaves the tensor decode scale out of the output.
// Work units: runs of whole blocks along one block row, about UNIT_ELEMS elements, fixed by the
// shape alone; each unit is worked column-wise (the top two down its rows, then the elements along
// them), so every pass is a contiguous, vectorised loop whatever the block shape (1×B, B×B, B×1).
static int block_quantize(float *y, const float *x, int rows, int cols, const num_block_spec *s, uint8_t *scales,
                          float *s_dec, float *s_enc, num_bstats *st, int codes) {
    if (!s || s->br < 1 || s->bc < 1 || s->fmt < NUM_MXFP8_E4M3 || s->fmt > NUM_NVFP4 || rows < 0 || cols < 0) return -1;
    qctx c = {s, s->fmt == NUM_MXFP8_E4M3 ? qfmt_fp8(NUM_E4M3) : s->fmt == NUM_MXFP8_E5M2 ? qfmt_fp8(NUM_E5M2) : qfmt_e2m1(),
              rows, cols, 1.0f, 1.0f, codes};
    size_t n = (size_t)rows * (size_t)cols;
    if (s->fmt == NUM_NVFP4) {
        c.s_enc = num_nvfp4_tensor_scale(num_amax(x, n));
        c.s_dec = 1.0f / c.s_enc;
    }
    if (s_dec) *s_dec = c.s_dec;
    if (s_enc) *s_enc = c.s_enc;
    int tr = (rows + s->br - 1) / s->br, tc = (cols + s->bc - 1) / s->bc;
    long per_block = (long)s->br * s->bc, g = per_block >= UNIT_ELEMS ? 1 : UNIT_ELEMS / per_block;
    long ug = (tc + g - 1) / g, units = (long)tr * ug;
    size_t ucols = (size_t)g * (size_t)s->bc;  // columns of a unit, at most
    double *part = malloc(sizeof(double) * (size_t)(units ? units : 1));
    if (!part) return -1;
    int failed = 0, stats = st != NULL;
    uint64_t n_sat = 0, n_zero = 0, n_err = 0, nonfinite = 0, outlier = 0;
#pragma omp parallel reduction(+ : n_sat, n_zero, n_err, nonfinite, outlier) reduction(| : failed) if (n >= PAR_MIN_ELEMS)
    {
        float *f = malloc(sizeof(float) * 9 * ucols);
        int32_t *b = malloc(sizeof(int32_t) * 2 * ucols);
        qscratch w = {f,
                      f + ucols,
                      f + 2 * ucols,
                      f + 3 * ucols,
                      f + 4 * ucols,
                      f + 5 * ucols,
                      f + 6 * ucols,
                      f + 7 * ucols,
                      f + 8 * ucols,
                      b,
                      b + ucols};
        failed = !f || !b;
#pragma omp for schedule(static)
        for (long u = 0; u < units; u++) {
            if (failed) continue;
            int bi = (int)(u / ug), bj0 = (int)((u % ug) * g), bj1 = bj0 + (int)g < tc ? bj0 + (int)g : tc;
            qacc acc = {0};
            quant_unit(y, x, &c, bi, bj0, bj1, &w, scales ? scales + (size_t)bi * tc : NULL, stats, &acc);
            part[u] = acc.err;
            n_sat += acc.n_sat, n_zero += acc.n_zero, n_err += acc.n_err;
            nonfinite += acc.nonfinite, outlier += acc.outlier;
        }
        free(f), free(b);
    }
    if (st && !failed) {
        double err = 0;
        for (long u = 0; u < units; u++) err += part[u];
        num_bstats add = {n, n_sat, n_zero, n_err, err, (uint64_t)tr * (uint64_t)tc, nonfinite, outlier};
        num_bstats_merge(st, &add);
    }
    free(part);
    return failed ? -1 : 0;
}

int num_block_qdq(float *y, const float *x, int rows, int cols, const num_block_spec *s, uint8_t *scales,
                  float *s_dec, num_bstats *st) {
    return block_quantize(y, x, rows, cols, s, scales, s_dec, NULL, st, 0);
}

int num_block_codes(float *y, const float *x, int rows, int cols, const num_block_spec *s, float *s_enc,
                    num_bstats *st) {
    return block_quantize(y, x, rows, cols, s, NULL, NULL, s_enc, st, 1);
}
