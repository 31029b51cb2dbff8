// test_act_lut.c — bf16 storage by table (src/act/lut.h) gives the bits of the f32 computation
// rounded once, over every bf16 gate input (NaN, ±inf, subnormals included; a NaN for a NaN), in
// the forward and the backward; the same past the table cache's capacity, where the kernels compute instead.
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

enum { CODES = 65536 };

static uint64_t g_seed;

// A NaN for a NaN, as everywhere in libactlab: its sign and payload are not part of the result
// (the gates' selects and negations pass it on differently on different code paths).
static int is_nan(uint16_t c) { return (c & 0x7f80) == 0x7f80 && (c & 0x7f); }

// Every bf16 code as the input (the gate z for gated activations), u and dy drawn from the seed;
// bf16 storage against the f32 kernels on the same (widened) values, rounded.
static void expect_table_exact(const act_spec *s, rng_t *rng) {
    const act_desc *d = act_desc_of(s->kind);
    static uint16_t xb[CODES], ub[CODES], dyb[CODES], yb[CODES], dxb[CODES], dub[CODES];
    static float x[CODES], u[CODES], dy[CODES], y[CODES], dx[CODES], du[CODES];
    for (int i = 0; i < CODES; i++) {
        xb[i] = (uint16_t)i;
        ub[i] = num_f32_to_bf16(3.0f * rng_normal(rng));
        dyb[i] = num_f32_to_bf16(rng_normal(rng));
        x[i] = num_bf16_to_f32(xb[i]), u[i] = num_bf16_to_f32(ub[i]), dy[i] = num_bf16_to_f32(dyb[i]);
    }
    const void *ug = d->gated ? (const void *)u : NULL, *ubg = d->gated ? (const void *)ub : NULL;
    act_forward(s, ACT_F32, 1, CODES, x, ug, NULL, y);
    act_backward(s, ACT_F32, 1, CODES, x, ug, NULL, dy, dx, d->gated ? du : NULL, NULL);
    act_forward(s, ACT_BF16, 1, CODES, xb, ubg, NULL, yb);
    act_backward(s, ACT_BF16, 1, CODES, xb, ubg, NULL, dyb, dxb, d->gated ? dub : NULL, NULL);
    for (int i = 0; i < CODES; i++) {
        uint16_t want[3] = {num_f32_to_bf16(y[i]), num_f32_to_bf16(dx[i]), d->gated ? num_f32_to_bf16(du[i]) : 0};
        uint16_t got[3] = {yb[i], dxb[i], d->gated ? dub[i] : 0};
        for (int k = 0; k < 3; k++)
            if (got[k] != want[k] && !(is_nan(got[k]) && is_nan(want[k])))
                fail_msg("%s (hp %g) %s at code %#06x (%.9g): bf16 %#06x, f32 rounded %#06x; seed %llu", d->name,
                         (double)s->hp[0], k == 0 ? "y" : k == 1 ? "dx" : "du", i, (double)x[i], got[k], want[k],
                         (unsigned long long)g_seed);
    }
}

static void test_every_code(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed);
    for (int k = 0; k < ACT_COUNT; k++) {
        const act_desc *d = act_desc_of((act_kind)k);
        if (d->rowwise || d->n_params) continue;  // PolyNorm, PolyReLU: no tables
        act_spec s;
        assert_int_equal(act_spec_init(&s, d->name), 0);
        expect_table_exact(&s, &rng);
    }
}

// More PowLU exponents than the cache holds (16 tables): the later ones are computed, the same bits.
static void test_past_the_cache(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed ^ 0x1007);
    act_spec s;
    assert_int_equal(act_spec_init(&s, "powlu"), 0);
    for (int i = 0; i < 20; i++) {
        s.hp[0] = 1.5f + 0.25f * (float)i;
        expect_table_exact(&s, &rng);
    }
}

int main(void) {
    g_seed = test_seed("test_act_lut");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_code), cmocka_unit_test(test_past_the_cache)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
