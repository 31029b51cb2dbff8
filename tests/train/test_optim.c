// test_optim.c — AdamW against a hand-written double reference, clipping, schedules.
#include "train/optim.h"
#include "util/rng.h"
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

// PyTorch's AdamW written out in double, for 3 steps, with two groups (decay on the first 5 only).
static void test_adamw_matches_reference(void **state) {
    (void)state;
    enum { N = 9, STEPS = 3 };
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    float p[N], g[STEPS][N];
    double rp[N], rm[N] = {0}, rv[N] = {0};
    for (int i = 0; i < N; i++) rp[i] = p[i] = rng_normal(&r);
    for (int s = 0; s < STEPS; s++)
        for (int i = 0; i < N; i++) g[s][i] = rng_normal(&r) * 0.1f;
    param_group groups[2] = {{5, 4, 0}, {0, 5, 1}};  // deliberately out of order
    adamw o;
    adamw_init(&o, N, groups, 2);
    adamw_config c;
    adamw_config_default(&c);
    c.weight_decay = 0.1f;
    const float lrs[STEPS] = {1e-2f, 5e-3f, 2e-3f};
    const float gscale = 0.5f;
    for (int s = 0; s < STEPS; s++) {
        adamw_step(&o, &c, p, g[s], gscale, lrs[s]);
        int t = s + 1;
        for (int i = 0; i < N; i++) {
            double x = (double)g[s][i] * gscale;
            if (i < 5) rp[i] *= 1.0 - (double)lrs[s] * 0.1;
            rm[i] = 0.9 * rm[i] + 0.1 * x;
            rv[i] = 0.95 * rv[i] + 0.05 * x * x;
            double mh = rm[i] / (1 - pow(0.9, t)), vh = rv[i] / (1 - pow(0.95, t));
            rp[i] -= (double)lrs[s] * mh / (sqrt(vh) + 1e-8);
        }
    }
    for (int i = 0; i < N; i++) {
        assert_true(fabs(p[i] - rp[i]) < 1e-5 * (1 + fabs(rp[i])));
        assert_true(fabs(o.m[i] - rm[i]) < 1e-6);
    }
    assert_int_equal(o.t, STEPS);
    adamw_free(&o);
}

// A zero gradient moves only decayed parameters, and only by the decay factor.
static void test_decay_only_where_flagged(void **state) {
    (void)state;
    float p[4] = {1, 2, 3, 4}, g[4] = {0, 0, 0, 0};
    param_group groups[2] = {{0, 2, 1}, {2, 2, 0}};
    adamw o;
    adamw_init(&o, 4, groups, 2);
    adamw_config c;
    adamw_config_default(&c);
    adamw_step(&o, &c, p, g, 1.0f, 0.5f);
    assert_float_equal(p[0], 1 * (1 - 0.5f * 0.1f), 1e-7);
    assert_float_equal(p[1], 2 * (1 - 0.5f * 0.1f), 1e-7);
    assert_true(p[2] == 3 && p[3] == 4);
    adamw_free(&o);
}

static void test_grad_norm_and_clip(void **state) {
    (void)state;
    size_t n = 100003;
    float *g = malloc(n * sizeof(float));
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    double ref = 0;
    for (size_t i = 0; i < n; i++) {
        g[i] = rng_normal(&r);
        ref += (double)g[i] * g[i];
    }
    ref = sqrt(ref);
    omp_set_num_threads(1);
    double n1 = optim_grad_norm(g, n);
    omp_set_num_threads(2);
    double n2 = optim_grad_norm(g, n);
    assert_true(n1 == n2);  // fixed blocks: bitwise the same on any thread count
    assert_true(fabs(n1 - ref) < 1e-9 * ref);
    assert_float_equal(optim_clip_scale(4.0, 1.0f), 0.25f, 1e-7);
    assert_float_equal(optim_clip_scale(0.5, 1.0f), 1.0f, 0);
    assert_float_equal(optim_clip_scale(40.0, 0.0f), 1.0f, 0);
    free(g);
}

static void test_schedules(void **state) {
    (void)state;
    schedule s = {SCHED_COSINE, 10, 110, 0.2f};
    assert_float_equal(schedule_lr(&s, 1.0f, 0.1f, 0), 0.1f, 1e-7);
    assert_float_equal(schedule_lr(&s, 1.0f, 0.1f, 9), 1.0f, 1e-7);
    assert_float_equal(schedule_lr(&s, 1.0f, 0.1f, 10), 1.0f, 1e-7);
    assert_float_equal(schedule_lr(&s, 1.0f, 0.1f, 60), 0.55f, 1e-6);  // half way down the cosine
    assert_float_equal(schedule_lr(&s, 1.0f, 0.1f, 110), 0.1f, 1e-7);
    for (long t = 11; t < 110; t++) assert_true(schedule_lr(&s, 1, 0.1f, t) <= schedule_lr(&s, 1, 0.1f, t - 1));
    schedule w = {SCHED_WSD, 10, 100, 0.2f};
    assert_float_equal(schedule_lr(&w, 1.0f, 0.0f, 50), 1.0f, 0);
    assert_float_equal(schedule_lr(&w, 1.0f, 0.0f, 79), 1.0f, 0);
    assert_float_equal(schedule_lr(&w, 1.0f, 0.0f, 80), 0.95f, 1e-6);   // decay starts at 100 - 20
    assert_float_equal(schedule_lr(&w, 1.0f, 0.0f, 99), 0.0f, 1e-6);    // last step reaches min_lr
    schedule k = {SCHED_CONSTANT, 0, 100, 0};
    assert_float_equal(schedule_lr(&k, 0.3f, 0.0f, 77), 0.3f, 0);
    // The names table is indexed by the enum and NULL-terminated (the config's enum keys read it).
    assert_string_equal(sched_names[SCHED_WSD], "wsd");
    for (int i = 0; i < SCHED_COUNT; i++) assert_string_equal(sched_name((sched_kind)i), sched_names[i]);
    assert_null(sched_names[SCHED_COUNT]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adamw_matches_reference),
        cmocka_unit_test(test_decay_only_where_flagged),
        cmocka_unit_test(test_grad_norm_and_clip),
        cmocka_unit_test(test_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
