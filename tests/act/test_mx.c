// test_mx.c — block-scaled quantisation (mx.c): scale selection on hand-made blocks (all zero, one
// outlier, saturating, subnormal range, NaN/inf, NVFP4 scales that underflow); every format, block
// shape and rounding mode against a reference built here from the spec's rules and the
// brute-force rounding of refquant.c, bit for bit, with the telemetry recomputed independently;
// 16×16 blocks give Q(W)ᵀ = Q(Wᵀ); stochastic rounding is unbiased and reproducible from its seed;
// results do not depend on the thread count.
#include "refimpl.h"
#include "refquant.h"
#include "util/rng.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint64_t g_seed;

static int same_bits(float a, float b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

static ref_elem elem_of(num_block_format f) {
    return f == NUM_MXFP8_E4M3 ? REF_E4M3 : f == NUM_MXFP8_E5M2 ? REF_E5M2 : REF_E2M1;
}

// ---- the reference ----------------------------------------------------------------------------

// MX (spec): shared exponent floor(log2 amax) − emax, found by scanning the powers of two, clamped.
static int ref_mx_exponent(double amax, num_block_format f) {
    int emax = (int)floor(log2(ref_code_value(elem_of(f), ref_top_code(elem_of(f)))));
    int k = -160;
    while (k < 200 && ldexp(1, k + 1) <= amax) k++;
    int x = amax == 0 ? -127 : k - emax;
    return x < -127 ? -127 : x > 127 ? 127 : x;
}

// NVFP4 (Transformer Engine, in its f32 operations): tensor encode scale 448·6/amax.
static float ref_nv_tensor_scale(float amax) {
    float s = 2688.0f / amax;
    if (s > FLT_MAX) s = FLT_MAX;
    return amax == 0 || s == 0 ? 1.0f : s;
}

typedef struct {
    float *y;
    uint8_t *scales;
    float s_dec;
    num_bstats st;
} ref_out;

static void ref_block_qdq(const float *x, int rows, int cols, const num_block_spec *s, ref_out *o) {
    ref_elem el = elem_of(s->fmt);
    float amax_t = 0;
    for (int i = 0; i < rows * cols; i++)
        if (isfinite(x[i]) && fabsf(x[i]) > amax_t) amax_t = fabsf(x[i]);
    float s_enc = s->fmt == NUM_NVFP4 ? ref_nv_tensor_scale(amax_t) : 1.0f;
    o->s_dec = 1.0f / s_enc;
    memset(&o->st, 0, sizeof o->st);
    int tr = (rows + s->br - 1) / s->br, tc = (cols + s->bc - 1) / s->bc;
    for (int bi = 0; bi < tr; bi++)
        for (int bj = 0; bj < tc; bj++) {
            int r1 = bi * s->br + s->br < rows ? bi * s->br + s->br : rows;
            int c1 = bj * s->bc + s->bc < cols ? bj * s->bc + s->bc : cols;
            double amax = 0;
            int bad = 0, at_half = 0;  // elements with |x| ≥ amax/2
            for (int r = bi * s->br; r < r1; r++)
                for (int c = bj * s->bc; c < c1; c++) {
                    bad |= !isfinite(x[r * cols + c]);
                    amax = fmax(amax, fabs((double)x[r * cols + c]));
                }
            for (int r = bi * s->br; r < r1; r++)
                for (int c = bj * s->bc; c < c1; c++) at_half += amax > 0 && fabs((double)x[r * cols + c]) * 2 >= amax;
            o->st.blocks++;
            uint8_t *code = &o->scales[bi * tc + bj];
            if (bad) {
                *code = s->fmt == NUM_NVFP4 ? 0x7f : 255;
                o->st.blocks_nonfinite++;
                for (int r = bi * s->br; r < r1; r++)
                    for (int c = bj * s->bc; c < c1; c++) o->y[r * cols + c] = NAN;
                continue;
            }
            o->st.blocks_outlier += at_half == 1;
            float d = 0, coeff = 0;
            int xe = 0;
            if (s->fmt == NUM_NVFP4) {
                *code = num_f32_to_fp8(fminf((float)amax * (s_enc * (1.0f / 6.0f)), 448.0f), NUM_E4M3, NUM_SATURATE);
                d = num_fp8_to_f32(*code, NUM_E4M3);
                coeff = d == 0 ? 0 : fminf(1.0f / (d * o->s_dec), FLT_MAX);
            } else {
                xe = ref_mx_exponent(amax, s->fmt);
                *code = (uint8_t)(xe + 127);
            }
            for (int r = bi * s->br; r < r1; r++)
                for (int c = bj * s->bc; c < c1; c++) {
                    float xi = x[r * cols + c];
                    double v = s->fmt == NUM_NVFP4 ? (double)(fabsf(xi) * coeff) : ldexp(fabs((double)xi), -xe);
                    int sat;
                    double q = ref_round(v, el, s->rnd == NUM_ROUND_STOCHASTIC,
                                         num_sr_uniform(s->seed, (uint64_t)r * cols + c), &sat);
                    float yi = s->fmt == NUM_NVFP4 ? (float)q * d * o->s_dec : (float)ldexp(q, xe);
                    yi = copysignf(yi, xi);
                    o->y[r * cols + c] = yi;
                    o->st.n_sat += sat;
                    if (xi != 0) {
                        o->st.n_zero += yi == 0;
                        o->st.n_err++;
                        o->st.sum_rel_err += fabs((double)yi - xi) / fabs((double)xi);
                    }
                }
        }
    o->st.n = (uint64_t)rows * cols;
}

// Runs num_block_qdq and the reference and compares values, scales and telemetry; the telemetry is
// added to *seen (may be NULL), so a test can check that its inputs reached every case.
static void check_against_reference(const float *x, int rows, int cols, const num_block_spec *s, const char *what,
                                    num_bstats *seen) {
    int n = rows * cols, nb = ((rows + s->br - 1) / s->br) * ((cols + s->bc - 1) / s->bc);
    float *y = malloc(sizeof(float) * n);
    uint8_t *sc = malloc((size_t)nb);
    ref_out o = {malloc(sizeof(float) * n), malloc((size_t)nb), 0, {0}};
    num_bstats st;
    num_bstats_clear(&st);
    float s_dec;
    assert_int_equal(num_block_qdq(y, x, rows, cols, s, sc, &s_dec, &st), 0);
    ref_block_qdq(x, rows, cols, s, &o);
    for (int i = 0; i < n; i++)
        if (!same_bits(y[i], o.y[i]))
            fail_msg("%s, fmt %d, %dx%d blocks, rnd %d: x[%d] = %a -> %a, reference %a", what, s->fmt, s->br, s->bc,
                     s->rnd, i, x[i], y[i], o.y[i]);
    for (int b = 0; b < nb; b++)
        if (sc[b] != o.scales[b]) fail_msg("%s, fmt %d: block %d scale 0x%02x, reference 0x%02x", what, s->fmt, b, sc[b], o.scales[b]);
    assert_true(s_dec == o.s_dec);
    assert_int_equal(st.n, o.st.n);
    assert_int_equal(st.n_sat, o.st.n_sat);
    assert_int_equal(st.n_zero, o.st.n_zero);
    assert_int_equal(st.n_err, o.st.n_err);
    assert_int_equal(st.blocks, o.st.blocks);
    assert_int_equal(st.blocks_nonfinite, o.st.blocks_nonfinite);
    assert_int_equal(st.blocks_outlier, o.st.blocks_outlier);
    assert_true(fabs(st.sum_rel_err - o.st.sum_rel_err) <= 1e-9 * (1 + o.st.sum_rel_err));
    if (seen) num_bstats_merge(seen, &st);
    // y may alias x
    float *z = malloc(sizeof(float) * n);
    memcpy(z, x, sizeof(float) * n);
    num_block_qdq(z, z, rows, cols, s, NULL, NULL, NULL);
    for (int i = 0; i < n; i++) assert_true(same_bits(z[i], y[i]));
    free(z);
    free(y), free(sc), free(o.y), free(o.scales);
}

// ---- hand-made blocks ---------------------------------------------------------------------------

static num_block_spec spec(num_block_format f, int br, int bc, num_rounding rnd, uint64_t seed) {
    return (num_block_spec){f, br, bc, rnd, seed};
}

static void test_mx_hand_blocks(void **state) {
    (void)state;
    float x[32], y[32];
    uint8_t sc;
    num_bstats st;
    num_block_spec s = spec(NUM_MXFP4, 1, 32, NUM_ROUND_NEAREST, 0);

    memset(x, 0, sizeof x);  // all zero: the smallest scale, zeros out, nothing counted
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(sc, 0);
    for (int i = 0; i < 32; i++) assert_true(y[i] == 0);
    assert_int_equal(st.n_zero + st.n_sat + st.n_err + st.blocks_outlier, 0);
    assert_int_equal(st.blocks, 1);

    for (int i = 0; i < 32; i++) x[i] = 0.01f;  // one outlier: scale 2^(6−2), the rest round to zero
    x[5] = -100.0f;
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(sc, 127 + 4);
    assert_true(y[5] == -96.0f);  // 100/16 = 6.25 -> 6
    assert_int_equal(st.n_zero, 31);
    assert_int_equal(st.blocks_outlier, 1);
    assert_int_equal(st.n_sat, 0);

    for (int i = 0; i < 32; i++) x[i] = 1.0f;  // amax 7: scale 1, 7 is past 6 (ties to 8): saturates
    x[0] = 7.0f;
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(sc, 127);
    assert_true(y[0] == 6.0f && y[1] == 1.0f);
    assert_int_equal(st.n_sat, 1);
    assert_int_equal(st.blocks_outlier, 1);
    x[1] = 3.5f;  // now two elements at ≥ half the amax: not an outlier block
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(st.blocks_outlier, 0);
    x[1] = -7.0f;  // the amax twice, everything else below half of it: still not an outlier block
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(st.blocks_outlier, 0);
    num_block_spec s2 = spec(NUM_MXFP4, 32, 1, NUM_ROUND_NEAREST, 0);  // the same down a column
    num_bstats_clear(&st);
    num_block_qdq(y, x, 32, 1, &s2, &sc, NULL, &st);
    assert_int_equal(st.blocks_outlier, 0);

    // Subnormal range: f32 subnormals 2^-140. The scale clamps at 2^-127; E5M2 (down to 2^-16)
    // still holds 2^-140 exactly, E2M1 (down to 0.5) flushes it.
    for (int i = 0; i < 32; i++) x[i] = ldexpf(i % 2 ? 1 : -1, -140);
    num_block_spec s5 = spec(NUM_MXFP8_E5M2, 1, 32, NUM_ROUND_NEAREST, 0);
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s5, &sc, NULL, &st);
    assert_int_equal(sc, 0);
    for (int i = 0; i < 32; i++) assert_true(y[i] == x[i]);
    assert_int_equal(st.n_zero, 0);
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(sc, 0);
    assert_int_equal(st.n_zero, 32);
    x[3] = ldexpf(1.5f, -124);  // now in range: scale 2^-126, 1.5·2^-124 is 6·2^-126
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, NULL);
    assert_int_equal(sc, 1);
    assert_true(y[3] == x[3]);

    x[7] = NAN;  // the spec's NaN scale: the whole block is NaN
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, &st);
    assert_int_equal(sc, 255);
    for (int i = 0; i < 32; i++) assert_true(isnan(y[i]));
    assert_int_equal(st.blocks_nonfinite, 1);
    assert_int_equal(st.n_err, 0);
    x[7] = -INFINITY;
    num_block_qdq(y, x, 1, 32, &s, &sc, NULL, NULL);
    assert_int_equal(sc, 255);

    // MXFP8 E4M3: amax 500 has shared exponent 8 − 8 = 0; 500 is past 448 and saturates.
    num_block_spec s4 = spec(NUM_MXFP8_E4M3, 1, 32, NUM_ROUND_NEAREST, 0);
    for (int i = 0; i < 32; i++) x[i] = 300.0f;
    x[0] = 500.0f;
    num_bstats_clear(&st);
    num_block_qdq(y, x, 1, 32, &s4, &sc, NULL, &st);
    assert_int_equal(sc, 127);
    assert_true(y[0] == 448.0f && y[1] == 288.0f);  // 300 between 288 and 320: nearest 288
    assert_int_equal(st.n_sat, 1);
}

static void test_nvfp4_scales(void **state) {
    (void)state;
    assert_true(num_nvfp4_tensor_scale(2688.0f) == 1.0f);
    assert_true(num_nvfp4_tensor_scale(1.0f) == 2688.0f);
    assert_true(num_nvfp4_tensor_scale(0.0f) == 1.0f);       // an all-zero tensor
    assert_true(num_nvfp4_tensor_scale(1e-42f) == FLT_MAX);  // clamped, not inf
    assert_true(num_nvfp4_tensor_scale(NAN) == 1.0f && num_nvfp4_tensor_scale(INFINITY) == 1.0f);
    assert_int_equal(num_nvfp4_block_scale(6.0f, 1.0f), 0x38);     // 1.0 in E4M3
    assert_int_equal(num_nvfp4_block_scale(2688.0f, 1.0f), 0x7e);  // 448
    assert_int_equal(num_nvfp4_block_scale(0.0f, 1.0f), 0x00);
    assert_int_equal(num_nvfp4_block_scale(NAN, 1.0f), 0x7f);

    // Tensor amax 2688 (s_enc = 1): a block of amax 6 has scale 1 and E2M1 values come out exact;
    // a block of amax 1e-3 has scale 1e-3/6 < 2^-10, below half of E4M3's smallest subnormal: it
    // underflows to 0 and the whole block becomes zero.
    float x[48], y[48];
    uint8_t sc[3];
    float s_dec;
    num_bstats st;
    num_bstats_clear(&st);
    for (int i = 0; i < 16; i++) x[i] = num_fp4_to_f32((uint8_t)i);  // ±every E2M1 value
    for (int i = 16; i < 32; i++) x[i] = 1e-3f * (i % 3 ? 1.0f : -0.5f);
    for (int i = 32; i < 48; i++) x[i] = i == 40 ? 2688.0f : 1.0f;
    num_block_spec s = spec(NUM_NVFP4, 1, 16, NUM_ROUND_NEAREST, 0);
    num_block_qdq(y, x, 1, 48, &s, sc, &s_dec, &st);
    assert_true(s_dec == 1.0f);
    assert_int_equal(sc[0], 0x38);
    assert_int_equal(sc[1], 0x00);
    assert_int_equal(sc[2], 0x7e);
    for (int i = 0; i < 16; i++) assert_true(same_bits(y[i], x[i]));
    for (int i = 16; i < 32; i++) assert_true(y[i] == 0);
    assert_true(y[40] == 2688.0f && y[33] == 0.0f);  // 1/448 rounds to 0 in E2M1 (< 0.25)
    assert_int_equal(st.n_zero, 16 + 15);
    assert_int_equal(st.blocks_outlier, 1);  // blocks 0 and 1 hold their amax twice; block 2 is one
}

// ---- random tensors against the reference ------------------------------------------------------

// Values over every range a block can meet: each 8×8 tile has its own binade from 2^-140 (f32
// subnormals) to 2^60, elements spread over 12 binades below it, with zeros, outliers (×2^10)
// and, in a few tiles, NaN/inf.
static void fill_tiles(float *x, int rows, int cols, rng_t *r) {
    int tiles_c = (cols + 7) / 8, ntile = ((rows + 7) / 8) * tiles_c;
    int *te = malloc(sizeof(int) * ntile);
    for (int t = 0; t < ntile; t++) te[t] = (int)(rng_u64(r) % 201) - 140;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            int t = (i / 8) * tiles_c + j / 8;
            float v = ldexpf(1.0f + rng_uniform(r), te[t] - (int)(rng_u64(r) % 12));
            switch (rng_u64(r) % 128) {
            case 0: case 1: case 2: case 3: v = 0; break;
            case 4: v = ldexpf(v, 10); break;
            case 5: if (t % 7 == 3) v = NAN; break;
            case 6: if (t % 11 == 5) v = INFINITY; break;
            default: break;
            }
            x[i * cols + j] = rng_u64(r) & 1 ? -v : v;
        }
    free(te);
}

static void test_random_against_reference(void **state) {
    (void)state;
    enum { R = 48, C = 80 };  // C: two whole 32-blocks and a short one
    static float x[R * C];
    const int shapes[5][2] = {{1, 32}, {1, 16}, {16, 16}, {16, 1}, {3, 5}};
    rng_t r;
    rng_seed(&r, g_seed);
    num_bstats seen[4][2];
    memset(seen, 0, sizeof seen);
    for (int rep = 0; rep < 6; rep++) {
        fill_tiles(x, R, C, &r);
        for (int f = 0; f < 4; f++)
            for (int k = 0; k < 5; k++)
                for (int rnd = 0; rnd < 2; rnd++) {
                    num_block_spec s = spec((num_block_format)f, shapes[k][0], shapes[k][1], (num_rounding)rnd, rng_u64(&r));
                    check_against_reference(x, R, C, &s, "random tiles", &seen[f][rnd]);
                }
    }
    for (int f = 0; f < 4; f++)
        for (int rnd = 0; rnd < 2; rnd++) {
            num_bstats *t = &seen[f][rnd];
            if (!t->n_sat || !t->n_zero || !t->blocks_outlier || !t->blocks_nonfinite || t->n_err == t->n_zero)
                fail_msg("fmt %d rnd %d: the inputs missed a case (sat %llu, zero %llu, outlier %llu, nonfinite %llu)", f,
                         rnd, (unsigned long long)t->n_sat, (unsigned long long)t->n_zero,
                         (unsigned long long)t->blocks_outlier, (unsigned long long)t->blocks_nonfinite);
        }
    // NVFP4 with a tensor of f32 subnormals only: the tensor scale clamps at FLT_MAX
    for (int i = 0; i < R * C; i++) x[i] = ldexpf((float)(i % 7) - 3, -145);
    num_block_spec s = spec(NUM_NVFP4, 1, 16, NUM_ROUND_NEAREST, 0);
    check_against_reference(x, R, C, &s, "subnormal tensor", NULL);
}

// MX blocks whose elements sit exactly halfway between two codes (ties) at a random shared exponent.
static void test_mx_ties(void **state) {
    (void)state;
    enum { R = 16, C = 64 };
    static float x[R * C];
    rng_t r;
    rng_seed(&r, g_seed + 1);
    for (int f = 0; f < 3; f++) {
        ref_elem el = elem_of((num_block_format)f);
        int top = ref_top_code(el), emax = (int)floor(log2(ref_code_value(el, top)));
        for (int b = 0; b < R * C / 32; b++) {
            int xe = (int)(rng_u64(&r) % 200) - 120;
            float *blk = x + b * 32;
            blk[0] = (float)ldexp(1.0 + rng_uniform_d(&r) * 0.75, xe + emax);  // sets the exponent xe
            for (int i = 1; i < 32; i++) {
                int c = (int)(rng_u64(&r) % (unsigned)top);
                double mid = 0.5 * (ref_code_value(el, c) + ref_code_value(el, c + 1));
                blk[i] = (float)ldexp(rng_u64(&r) & 1 ? -mid : mid, xe);
            }
        }
        num_block_spec s = spec((num_block_format)f, 1, 32, NUM_ROUND_NEAREST, 0);
        check_against_reference(x, R, C, &s, "ties", NULL);
    }
}

// ---- properties ---------------------------------------------------------------------------------

// 16×16 weight blocks: the quantised Wᵀ is the transpose of the quantised W (the forward and the
// transposed backward GEMM see the same weight); 1×16 blocks do not have this property.
static void test_weight_blocks_transpose(void **state) {
    (void)state;
    enum { R = 48, C = 80 };
    static float w[R * C], wt[C * R], qw[R * C], qwt[C * R];
    uint8_t sw[3 * 5], swt[5 * 3];
    rng_t r;
    rng_seed(&r, g_seed + 2);
    for (int i = 0; i < R * C; i++) w[i] = rng_normal(&r) * (rng_u64(&r) % 50 ? 0.02f : 1.0f);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) wt[j * R + i] = w[i * C + j];
    num_block_spec s = spec(NUM_NVFP4, 16, 16, NUM_ROUND_NEAREST, 0);
    float d1, d2;
    num_block_qdq(qw, w, R, C, &s, sw, &d1, NULL);
    num_block_qdq(qwt, wt, C, R, &s, swt, &d2, NULL);
    assert_true(d1 == d2);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) assert_true(same_bits(qw[i * C + j], qwt[j * R + i]));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) assert_int_equal(sw[i * 5 + j], swt[j * 3 + i]);
    s.br = 1;
    num_block_qdq(qw, w, R, C, &s, NULL, NULL, NULL);
    num_block_qdq(qwt, wt, C, R, &s, NULL, NULL, NULL);
    int differ = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) differ += !same_bits(qw[i * C + j], qwt[j * R + i]);
    assert_true(differ > 0);
}

// Stochastic rounding: over many seeds the mean of each quantised element is the element (for
// MXFP4, whose scaling is exact), and the mean over a whole NVFP4 tensor is unbiased; the same seed
// gives the same bits, another seed other bits.
static void test_stochastic_unbiased_and_seeded(void **state) {
    (void)state;
    enum { C = 32, K = 4000 };
    float x[C], y[C], y2[C];
    double sum[C] = {0};
    rng_t r;
    rng_seed(&r, g_seed + 3);
    for (int i = 0; i < C; i++) x[i] = (rng_uniform(&r) * 2 - 1) * 5.5f;
    x[0] = 6.0f;  // scale 2^0: the elements are the values themselves
    num_block_spec s = spec(NUM_MXFP4, 1, 32, NUM_ROUND_STOCHASTIC, 0);
    for (int k = 0; k < K; k++) {
        s.seed = g_seed + 1000u + (uint64_t)k;
        num_block_qdq(y, x, 1, C, &s, NULL, NULL, NULL);
        for (int i = 0; i < C; i++) sum[i] += y[i];
        num_block_qdq(y2, x, 1, C, &s, NULL, NULL, NULL);
        assert_memory_equal(y, y2, sizeof y);  // reproducible from the seed
    }
    for (int i = 0; i < C; i++) {
        // one draw is lo or hi (step ≤ 2), so its standard deviation is at most 1
        if (fabs(sum[i] / K - x[i]) > 5.0 / sqrt(K)) fail_msg("element %d: mean %g, x %g", i, sum[i] / K, x[i]);
    }
    // NVFP4, 1×16 blocks, one seed over a large tensor: the mean error is ~0 relative to the spread
    enum { N = 1 << 16 };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N), *c2 = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) a[i] = 0.3f + 0.1f * rng_uniform(&r);  // one sign: errors cannot cancel by symmetry
    s = spec(NUM_NVFP4, 1, 16, NUM_ROUND_STOCHASTIC, g_seed);
    num_block_qdq(b, a, 1, N, &s, NULL, NULL, NULL);
    double bias = 0, spread = 0;
    for (int i = 0; i < N; i++) bias += (double)b[i] - a[i], spread += fabs((double)b[i] - a[i]);
    assert_true(fabs(bias) < 6 * spread / sqrt(N));
    num_block_spec rne = spec(NUM_NVFP4, 1, 16, NUM_ROUND_NEAREST, 0);
    num_block_qdq(c2, a, 1, N, &rne, NULL, NULL, NULL);
    double bias_rne = 0;
    for (int i = 0; i < N; i++) bias_rne += (double)c2[i] - a[i];
    s.seed++;
    num_block_qdq(c2, a, 1, N, &s, NULL, NULL, NULL);
    assert_true(memcmp(b, c2, sizeof(float) * N) != 0);  // another seed, other draws
    print_message("NVFP4 SR bias %.3g, RNE bias %.3g, mean |err| %.3g\n", bias / N, bias_rne / N, spread / N);
    free(a), free(b), free(c2);
}

static void test_bad_spec(void **state) {
    (void)state;
    float x[4] = {0}, y[4];
    num_block_spec s = spec(NUM_MXFP4, 0, 32, NUM_ROUND_NEAREST, 0);
    assert_int_equal(num_block_qdq(y, x, 1, 4, &s, NULL, NULL, NULL), -1);
    s = spec((num_block_format)7, 1, 32, NUM_ROUND_NEAREST, 0);
    assert_int_equal(num_block_qdq(y, x, 1, 4, &s, NULL, NULL, NULL), -1);
}

// Values, scales and telemetry do not depend on the thread count (1, 2, 3).
static void test_thread_invariance(void **state) {
    (void)state;
    enum { R = 160, C = 1040 };  // > the parallel threshold; ragged for 32-wide blocks
    float *x = malloc(sizeof(float) * R * C), *y1 = malloc(sizeof(float) * R * C), *y2 = malloc(sizeof(float) * R * C);
    uint8_t *s1 = malloc(R * C), *s2 = malloc(R * C);
    rng_t r;
    rng_seed(&r, g_seed + 4);
    fill_tiles(x, R, C, &r);
    const int shapes[4][2] = {{1, 32}, {1, 16}, {16, 16}, {16, 1}};
    for (int f = 0; f < 4; f++)
        for (int k = 0; k < 4; k++)
            for (int rnd = 0; rnd < 2; rnd++) {
                num_block_spec s = spec((num_block_format)f, shapes[k][0], shapes[k][1], (num_rounding)rnd, g_seed);
                num_bstats a, b;
                float da, db;
                num_bstats_clear(&a);
                omp_set_num_threads(1);
                num_block_qdq(y1, x, R, C, &s, s1, &da, &a);
                for (int t = 2; t <= 3; t++) {
                    num_bstats_clear(&b);
                    omp_set_num_threads(t);
                    num_block_qdq(y2, x, R, C, &s, s2, &db, &b);
                    int nb = ((R + s.br - 1) / s.br) * ((C + s.bc - 1) / s.bc);
                    if (memcmp(y1, y2, sizeof(float) * R * C) || memcmp(s1, s2, (size_t)nb) || memcmp(&a, &b, sizeof a) || da != db)
                        fail_msg("fmt %d, %dx%d, rnd %d: %d threads differ from 1", f, s.br, s.bc, rnd, t);
                }
            }
    free(x), free(y1), free(y2), free(s1), free(s2);
}

int main(void) {
    g_seed = test_seed("test_mx");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mx_hand_blocks),
        cmocka_unit_test(test_nvfp4_scales),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_mx_ties),
        cmocka_unit_test(test_weight_blocks_transpose),
        cmocka_unit_test(test_stochastic_unbiased_and_seeded),
        cmocka_unit_test(test_bad_spec),
        cmocka_unit_test(test_thread_invariance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
