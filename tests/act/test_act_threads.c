// test_act_threads.c — identical bits with 1, 2 and 3 threads, for every activation, f32 and bf16,
// outputs and parameter gradients (the chunking and the order of the sums do not follow threads).
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define R 37
#define C 2053  // many chunks, ragged last chunk
#define M (R * C)

typedef struct {
    float y[M], dx[M], du[M], dp[ACT_MAX_PARAMS];
} result;

static void run(const act_spec *s, act_dtype dt, int threads, const void *x, const void *u, const void *dy, result *out) {
    const act_desc *d = act_desc_of(s->kind);
    float params[ACT_MAX_PARAMS] = {0.3f, -0.2f, 0.7f, 0.1f};
    memset(out, 0, sizeof *out);
    omp_set_num_threads(threads);
    act_forward(s, dt, R, C, x, d->gated ? u : NULL, params, out->y);
    act_backward(s, dt, R, C, x, d->gated ? u : NULL, params, dy, out->dx, d->gated ? out->du : NULL, out->dp);
}

static void test_bits_do_not_depend_on_threads(void **state) {
    (void)state;
    uint64_t seed = test_seed("test_act_threads");
    rng_t rng;
    rng_seed(&rng, seed);
    static float x[M], u[M], dy[M];
    static uint16_t xb[M], ub[M], dyb[M];
    for (int i = 0; i < M; i++) {
        x[i] = 4.0f * rng_normal(&rng), u[i] = rng_normal(&rng), dy[i] = rng_normal(&rng);
        xb[i] = num_f32_to_bf16(x[i]), ub[i] = num_f32_to_bf16(u[i]), dyb[i] = num_f32_to_bf16(dy[i]);
    }
    static result base, other;
    for (int k = 0; k < ACT_COUNT; k++) {
        act_spec s;
        act_spec_init(&s, act_desc_of((act_kind)k)->name);
        for (int dti = 0; dti < 2; dti++) {
            act_dtype dt = dti ? ACT_BF16 : ACT_F32;
            const void *px = dti ? (const void *)xb : x, *pu = dti ? (const void *)ub : u, *pdy = dti ? (const void *)dyb : dy;
            run(&s, dt, 1, px, pu, pdy, &base);
            for (int t = 2; t <= 3; t++) {
                run(&s, dt, t, px, pu, pdy, &other);
                if (memcmp(&base, &other, sizeof base)) {
                    print_error("%s (%s): %d threads differ from 1 thread\n", act_desc_of(s.kind)->name,
                                dti ? "bf16" : "f32", t);
                    fail();
                }
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bits_do_not_depend_on_threads)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
