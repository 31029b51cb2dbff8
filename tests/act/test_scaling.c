// test_scaling.c — scaled quantisation (scaling.c) against the scalar FP8 encoder/decoder of
// fp8.c (itself tested against a brute-force reference in test_fp8.c): bit-identical values and
// exact saturation / flush-to-zero counts on random tensors spanning every range; per-tile
// scales for block-wise scaling; the delayed-scaling history as Transformer Engine defines it; the
// encoders that write the same roundings as bf16 codes for native GEMMs.
#include "actlab.h"
#include "test_seed.h"
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

// Values from below E5M2's subnormals (2^-30) to beyond both maxima (2^20), both signs, with
// exact zeros, f32 subnormals, infinities and NaNs mixed in.
static void fill_wide(float *x, size_t n, rng_t *r) {
    for (size_t i = 0; i < n; i++) {
        float v = ldexpf(1.0f + rng_uniform(r), (int)(rng_u64(r) % 52) - 31);
        switch (rng_u64(r) % 64) {
        case 0: v = 0; break;
        case 1: v = 1e-40f; break;
        case 2: v = INFINITY; break;
        case 3: v = NAN; break;
        case 4: v = FLT_MAX; break;
        default: break;
        }
        x[i] = rng_uniform(r) < 0.5f ? -v : v;
    }
}

// The reference: encode (saturating) and decode one element, and what the rounding did to it.
static float ref_qdq(float x, num_fp8_format f, float scale, int *sat, int *ftz) {
    float v = x * scale;
    uint8_t c = num_f32_to_fp8(v, f, NUM_SATURATE);
    float over = num_fp8_to_f32(num_f32_to_fp8(v, f, NUM_OVERFLOW), f);
    *sat = !isnan(v) && (isnan(over) || isinf(over));
    float r = num_fp8_to_f32(c, f);
    *ftz = x != 0 && r == 0;
    return r * (1.0f / scale);
}

static int same_bits(float a, float b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_qdq_matches_codec(void **state) {
    (void)state;
    enum { N = 200000 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    rng_t r;
    rng_seed(&r, g_seed);
    fill_wide(x, N, &r);
    const float scales[4] = {1.0f, 0.0173f, 448.0f / 3.7f, 65536.0f};
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < 4; k++) {
            num_qstats st;
            num_qstats_clear(&st);
            num_fp8_qdq(y, x, N, (num_fp8_format)f, scales[k], &st);
            uint64_t sat = 0, ftz = 0;
            float amax = 0;
            for (size_t i = 0; i < N; i++) {
                int s, z;
                float want = ref_qdq(x[i], (num_fp8_format)f, scales[k], &s, &z);
                if (!same_bits(y[i], want))
                    fail_msg("format %d scale %g: x = %a -> %a, reference %a", f, scales[k], x[i], y[i], want);
                sat += (uint64_t)s, ftz += (uint64_t)z;
                if (isfinite(x[i]) && fabsf(x[i]) > amax) amax = fabsf(x[i]);
            }
            assert_int_equal(st.n, N);
            assert_int_equal(st.n_sat, sat);
            assert_int_equal(st.n_ftz, ftz);
            assert_true(st.amax == amax);
            assert_true(sat > 0 && ftz > 0);  // the input really reaches both ends
        }
    free(x);
    free(y);
}

static void test_bf16_qdq(void **state) {
    (void)state;
    enum { N = 50000 };
    float x[N], y[N];
    rng_t r;
    rng_seed(&r, g_seed + 1);
    fill_wide(x, N, &r);
    x[0] = FLT_MAX;  // rounds up past bf16's largest finite value
    num_qstats st;
    num_qstats_clear(&st);
    num_bf16_qdq(y, x, N, &st);
    uint64_t ftz = 0;
    for (size_t i = 0; i < N; i++) {
        assert_true(same_bits(y[i], num_bf16_to_f32(num_f32_to_bf16(x[i]))));
        ftz += x[i] != 0 && y[i] == 0;
    }
    assert_int_equal(st.n_ftz, ftz);
    assert_true(st.n_sat >= 1);
}

static void test_scale_formula(void **state) {
    (void)state;
    assert_true(num_fp8_scale(NUM_E4M3, 448.0f, 0, 7) == 1.0f);
    assert_true(num_fp8_scale(NUM_E4M3, 2.0f, 0, 7) == 224.0f);
    assert_true(num_fp8_scale(NUM_E5M2, 57344.0f, 1, 7) == 0.5f);  // margin 1 halves the scale
    assert_true(num_fp8_scale(NUM_E4M3, 0.0f, 0, 7) == 7.0f);      // nothing seen: keep the old scale
    assert_true(num_fp8_scale(NUM_E4M3, NAN, 0, 7) == 7.0f);
    assert_true(num_fp8_scale(NUM_E4M3, INFINITY, 0, 7) == 7.0f);
    // at the scale for its own amax, a tensor never saturates
    float x[3] = {-3.3f, 1e-3f, 0.25f}, y[3];
    num_qstats st;
    num_qstats_clear(&st);
    num_fp8_qdq(y, x, 3, NUM_E4M3, num_fp8_scale(NUM_E4M3, num_amax(x, 3), 0, 1), &st);
    assert_int_equal(st.n_sat, 0);
    assert_true(st.amax == 3.3f);
}

// Block-wise: every tile equals a per-tensor quantisation of that tile at its own amax.
static void test_blocks(void **state) {
    (void)state;
    enum { R = 130, C = 300, BR = 128, BC = 128 };
    float *x = malloc(R * C * sizeof(float)), *y = malloc(R * C * sizeof(float));
    float tile[BR * BC], out[BR * BC];
    rng_t r;
    rng_seed(&r, g_seed + 2);
    for (int i = 0; i < R * C; i++) x[i] = rng_normal(&r) * ldexpf(1, (int)(rng_u64(&r) % 8));
    x[5 * C + 200] = 1e4f;  // one outlier: only its tile's scale drops
    num_qstats st;
    num_qstats_clear(&st);
    float smin;
    num_fp8_qdq_blocks(y, x, R, C, BR, BC, NUM_E4M3, 0, &st, &smin);
    assert_int_equal(st.n, R * C);
    assert_int_equal(st.n_sat, 0);  // current scales: nothing saturates
    assert_true(smin == num_fp8_scale(NUM_E4M3, 1e4f, 0, 1));
    for (int r0 = 0; r0 < R; r0 += BR)
        for (int c0 = 0; c0 < C; c0 += BC) {
            int nr = R - r0 < BR ? R - r0 : BR, nc = C - c0 < BC ? C - c0 : BC;
            for (int i = 0; i < nr; i++) memcpy(tile + i * nc, x + (size_t)(r0 + i) * C + c0, sizeof(float) * nc);
            float s = num_fp8_scale(NUM_E4M3, num_amax(tile, (size_t)nr * nc), 0, 1);
            num_fp8_qdq(out, tile, (size_t)nr * nc, NUM_E4M3, s, NULL);
            for (int i = 0; i < nr; i++)
                for (int j = 0; j < nc; j++)
                    if (!same_bits(out[i * nc + j], y[(size_t)(r0 + i) * C + c0 + j]))
                        fail_msg("tile (%d,%d) element (%d,%d) differs", r0, c0, i, j);
        }
    free(x);
    free(y);
}

// Transformer Engine's delayed scaling: the scale in use comes from the max over the last `len`
// amaxes; an outlier pins it for exactly len pushes, then drops out of the window.
static void test_delayed_history(void **state) {
    (void)state;
    float hist[4];
    num_delayed d;
    num_delayed_init(&d, hist, 4);
    assert_true(d.scale == 1.0f);
    num_delayed_push(&d, 2.0f, NUM_E4M3, 0);
    assert_true(d.scale == 224.0f);
    num_delayed_push(&d, 100.0f, NUM_E4M3, 0);  // outlier
    for (int k = 0; k < 3; k++) {
        assert_true(d.scale == 4.48f);
        num_delayed_push(&d, 1.0f, NUM_E4M3, 0);
    }
    assert_true(d.scale == 4.48f);               // the outlier is still the 4th newest
    num_delayed_push(&d, 1.0f, NUM_E4M3, 0);
    assert_true(d.scale == 448.0f);              // ... and now it has left the window
    num_delayed_push(&d, NAN, NUM_E4M3, 0);      // not recorded; the window max stays 1
    assert_true(d.scale == 448.0f);
    num_delayed_push(&d, 4.0f, NUM_E4M3, 2);     // margin 2: a quarter of max/amax
    assert_true(d.scale == 28.0f);
}

// Counts and values do not depend on the OpenMP thread count.
static void test_thread_invariance(void **state) {
    (void)state;
    enum { N = 300000 };
    float *x = malloc(N * sizeof(float)), *y1 = malloc(N * sizeof(float)), *y2 = malloc(N * sizeof(float));
    rng_t r;
    rng_seed(&r, g_seed + 3);
    fill_wide(x, N, &r);
    num_qstats a, b;
    num_qstats_clear(&a);
    num_qstats_clear(&b);
    omp_set_num_threads(1);
    num_fp8_qdq(y1, x, N, NUM_E5M2, 3.0f, &a);
    omp_set_num_threads(3);
    num_fp8_qdq(y2, x, N, NUM_E5M2, 3.0f, &b);
    assert_memory_equal(y1, y2, N * sizeof(float));
    assert_memory_equal(&a, &b, sizeof a);
    num_qstats_clear(&a);
    num_qstats_clear(&b);
    omp_set_num_threads(1);
    num_bf16_qdq(y1, x, N, &a);
    omp_set_num_threads(3);
    num_bf16_qdq(y2, x, N, &b);
    assert_memory_equal(y1, y2, N * sizeof(float));
    assert_memory_equal(&a, &b, sizeof a);
    for (size_t i = 0; i < N; i++) assert_true(same_bits(y1[i], num_bf16_to_f32(num_f32_to_bf16(x[i]))));
    free(x);
    free(y1);
    free(y2);
}

// The encoders write the bf16 bits of what num_bf16_qdq / num_fp8_codes compute, with the same
// counts, into a strided output or in place (codes in the first half of each f32 row), for row
// lengths that do not fill the rounding's internal blocks.
static void expect_encoded(const uint16_t *y, size_t ldy, const float *want, int rows, int cols) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float got = num_bf16_to_f32(y[(size_t)r * ldy + c]), w = want[(size_t)r * cols + c];
            if (!same_bits(got, w)) fail_msg("(%d, %d): code %a, expected %a", r, c, got, w);
        }
}

// Every bf16 code's neighbourhood: each high half with low halves at and around the rounding
// boundaries (0, 1, 0x7fff, 0x8000, 0x8001, 0xffff) and two random ones, so every finite, subnormal,
// saturating, infinite and NaN case occurs; shuffled, so that 16-element vectors mix the cases the
// CPU's own conversion takes (scaling.c) with those it leaves to the portable loop. Bits against
// num_f32_to_bf16, counts and amax against their definitions.
static void test_bf16_every_code(void **state) {
    (void)state;
    enum { LOWS = 8, COLS = 1000 };
    size_t n = (size_t)65536 * LOWS;
    float *x = malloc(n * sizeof(float));
    uint16_t *y = malloc(n * sizeof(uint16_t));
    rng_t r;
    rng_seed(&r, g_seed + 7);
    for (uint32_t hi = 0; hi < 65536; hi++) {
        uint32_t lows[LOWS] = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, (uint32_t)(rng_u64(&r) & 0xffff),
                               (uint32_t)(rng_u64(&r) & 0xffff)};
        for (int k = 0; k < LOWS; k++) {
            uint32_t u = hi << 16 | lows[k];
            memcpy(&x[hi * LOWS + k], &u, sizeof u);
        }
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rng_u64(&r) % (i + 1));
        float t = x[i];
        x[i] = x[j], x[j] = t;
    }
    uint64_t sat = 0, ftz = 0;
    float amax = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t want = num_f32_to_bf16(x[i]);
        float back = num_bf16_to_f32(want);
        sat += isfinite(x[i]) && isinf(back);
        ftz += x[i] != 0 && back == 0;
        if (isfinite(x[i]) && fabsf(x[i]) > amax) amax = fabsf(x[i]);
    }
    num_qstats st;
    num_qstats_clear(&st);
    num_bf16_encode(y, COLS, x, COLS, (int)(n / COLS), COLS, &st);
    size_t done = n / COLS * COLS;  // the last partial row as a row of its own
    num_bf16_encode(y + done, n - done, x + done, n - done, 1, (int)(n - done), &st);
    for (size_t i = 0; i < n; i++)
        if (y[i] != num_f32_to_bf16(x[i])) fail_msg("x = %a (bits %08x): code %04x, expected %04x", x[i],
                                                   (unsigned)(*(uint32_t *)&x[i]), y[i], num_f32_to_bf16(x[i]));
    assert_int_equal(st.n, n);
    assert_int_equal(st.n_sat, sat);
    assert_int_equal(st.n_ftz, ftz);
    assert_true(st.amax == amax);
    // again without the huge values, so that the amax comes from vectors the CPU converts
    size_t m = 0;
    amax = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) < 0x1p100f) {
            x[m++] = x[i];
            if (fabsf(x[i]) > amax) amax = fabsf(x[i]);
        }
    num_qstats_clear(&st);
    num_bf16_encode(y, m, x, m, 1, (int)m, &st);
    assert_true(st.amax == amax);
    free(x), free(y);
}

static void test_encode(void **state) {
    (void)state;
    static const int SHAPES[][2] = {{1, 7}, {37, 300}, {64, 1000}, {300, 513}};
    rng_t r;
    rng_seed(&r, g_seed + 4);
    for (size_t k = 0; k < sizeof SHAPES / sizeof SHAPES[0]; k++) {
        int rows = SHAPES[k][0], cols = SHAPES[k][1];
        size_t n = (size_t)rows * cols;
        float *x = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float)), *inplace = malloc(n * sizeof(float));
        uint16_t *y = malloc(n * 2 * sizeof(uint16_t));
        fill_wide(x, n, &r);
        for (int f = -1; f <= 1; f++) {  // -1: bf16, then E4M3 and E5M2
            float scale = f < 0 ? 1.0f : ldexpf(1.0f, (int)(rng_u64(&r) % 16) - 8);
            num_qstats a, b, c;
            num_qstats_clear(&a), num_qstats_clear(&b), num_qstats_clear(&c);
            memcpy(inplace, x, n * sizeof(float));
            if (f < 0) {
                num_bf16_qdq(want, x, n, &a);
                num_bf16_encode(y, 2 * (size_t)cols, x, (size_t)cols, rows, cols, &b);
                num_bf16_encode((uint16_t *)inplace, 2 * (size_t)cols, inplace, (size_t)cols, rows, cols, &c);
            } else {
                num_fp8_codes(want, x, n, (num_fp8_format)f, scale, &a);
                num_fp8_encode(y, 2 * (size_t)cols, x, (size_t)cols, rows, cols, (num_fp8_format)f, scale, &b);
                num_fp8_encode((uint16_t *)inplace, 2 * (size_t)cols, inplace, (size_t)cols, rows, cols,
                               (num_fp8_format)f, scale, &c);
            }
            expect_encoded(y, 2 * (size_t)cols, want, rows, cols);
            expect_encoded((const uint16_t *)inplace, 2 * (size_t)cols, want, rows, cols);
            assert_memory_equal(&a, &b, sizeof a);
            assert_memory_equal(&a, &c, sizeof a);
        }
        free(x), free(want), free(inplace), free(y);
    }
}

int main(void) {
    g_seed = test_seed("test_scaling");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qdq_matches_codec), cmocka_unit_test(test_bf16_qdq),
        cmocka_unit_test(test_scale_formula),     cmocka_unit_test(test_bf16_every_code),     cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_delayed_history),   cmocka_unit_test(test_thread_invariance),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
