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

// The largest and second-largest |x| of a block (second = amax when the max occurs twice), and
// whether it holds a NaN or ±inf.
static void block_top2(const float *x, int ld, int r0, int nr, int c0, int nc, float *m1, float *m2, int *bad) {
    float a1 = 0, a2 = 0;
    int nonfinite = 0;
    for (int r = r0; r < r0 + nr; r++)
        for (int c = c0; c < c0 + nc; c++) {
            float a = fabsf(x[(size_t)r * ld + c]);
            nonfinite |= !(a <= FLT_MAX);
            if (a > a1) a2 = a1, a1 = a;
            else if (a > a2) a2 = a;
        }
    *m1 = a1, *m2 = a2, *bad = nonfinite;
}

// The block's scale code, and the factors of its elements: element = round(|x|·up), value =
// (element·down)·s_dec. up = 0 marks a block whose scale decodes to zero (all its values are 0).
static uint8_t block_scale(const qctx *c, float amax, float *up, float *down) {
    if (c->s->fmt != NUM_NVFP4) {
        uint8_t code = num_mx_scale(amax, c->s->fmt);
        *up = ldexpf(1.0f, 127 - code), *down = ldexpf(1.0f, code - 127);  // exact powers of two
        return code;
    }
    uint8_t code = num_nvfp4_block_scale(amax, c->s_enc);
    float d = num_fp8_to_f32(code, NUM_E4M3);
    // Transformer Engine's encode factor, in the same f32 operations, so the elements match its cast.
    *up = d == 0 ? 0 : fminf(1.0f / (d * c->s_dec), FLT_MAX);
    *down = d;
    return code;
}

static void quant_block(float *y, const float *x, const qctx *c, int r0, int nr, int c0, int nc, uint8_t *scale,
                        qacc *acc) {
    float amax, second, up, down;
    int bad;
    block_top2(x, c->cols, r0, nr, c0, nc, &amax, &second, &bad);
    if (bad) {  // the spec's NaN scale: the whole block decodes to NaN
        *scale = c->s->fmt == NUM_NVFP4 ? 0x7f : 255;
        for (int r = r0; r < r0 + nr; r++)
            for (int j = c0; j < c0 + nc; j++) y[(size_t)r * c->cols + j] = NAN;
        acc->nonfinite++;
        return;
    }
    *scale = block_scale(c, amax, &up, &down);
    acc->outlier += amax > 0 && amax > 2 * second;
    int sr = c->s->rnd == NUM_ROUND_STOCHASTIC;
    for (int r = r0; r < r0 + nr; r++)
        for (int j = c0; j < c0 + nc; j++) {
            size_t i = (size_t)r * c->cols + j;
            float xi = x[i], v = fabsf(xi) * up, e;
            int sat;
            if (sr) {
                sat = v > c->q.max;
                e = sat ? c->q.max : round_mag_stochastic(v, &c->q, num_sr_uniform(c->s->seed, i));
            } else {
                e = round_mag(v, &c->q);
                sat = e > c->q.max;
                e = sat ? c->q.max : e;
            }
            float yi = copysignf(e * down * c->s_dec, xi);
            y[i] = c->codes ? copysignf(e * down, xi) : yi;
            acc->n_sat += (uint64_t)sat;
            if (xi != 0) {
                acc->n_zero += e == 0;
                acc->n_err++;
                acc->err += fabs((double)yi - (double)xi) / fabs((double)xi);
            }
        }
}

// num_block_qdq and num_block_codes: codes 1 leaves the tensor decode scale out of the output.
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
    // Work units: runs of g blocks along one block row, fixed by the shape alone.
    long per_block = (long)s->br * s->bc, g = per_block >= UNIT_ELEMS ? 1 : UNIT_ELEMS / per_block;
    long ug = (tc + g - 1) / g, units = (long)tr * ug;
    double *part = malloc(sizeof(double) * (size_t)(units ? units : 1));
    if (!part) return -1;
    uint64_t n_sat = 0, n_zero = 0, n_err = 0, nonfinite = 0, outlier = 0;
#pragma omp parallel for schedule(static) reduction(+ : n_sat, n_zero, n_err, nonfinite, outlier) if (n >= PAR_MIN_ELEMS)
    for (long u = 0; u < units; u++) {
        int bi = (int)(u / ug), bj0 = (int)((u % ug) * g), bj1 = bj0 + (int)g < tc ? bj0 + (int)g : tc;
        qacc acc = {0};
        uint8_t code;
        for (int bj = bj0; bj < bj1; bj++) {
            int r0 = bi * s->br, c0 = bj * s->bc;
            int nr = rows - r0 < s->br ? rows - r0 : s->br, nc = cols - c0 < s->bc ? cols - c0 : s->bc;
            quant_block(y, x, &c, r0, nr, c0, nc, &code, &acc);
            if (scales) scales[(size_t)bi * tc + bj] = code;
        }
        part[u] = acc.err;
        n_sat += acc.n_sat, n_zero += acc.n_zero, n_err += acc.n_err;
        nonfinite += acc.nonfinite, outlier += acc.outlier;
    }
    if (st) {
        double err = 0;
        for (long u = 0; u < units; u++) err += part[u];
        num_bstats add = {n, n_sat, n_zero, n_err, err, (uint64_t)tr * (uint64_t)tc, nonfinite, outlier};
        num_bstats_merge(st, &add);
    }
    free(part);
    return 0;
}

int num_block_qdq(float *y, const float *x, int rows, int cols, const num_block_spec *s, uint8_t *scales,
                  float *s_dec, num_bstats *st) {
    return block_quantize(y, x, rows, cols, s, scales, s_dec, NULL, st, 0);
}

int num_block_codes(float *y, const float *x, int rows, int cols, const num_block_spec *s, float *s_enc,
                    num_bstats *st) {
    return block_quantize(y, x, rows, cols, s, NULL, NULL, s_enc, st, 1);
}
