// test_act_registry.c — descriptors, lookup by name and enum, hyperparameter validation.
#include "actlab.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void test_lookup_round_trips(void **state) {
    (void)state;
    for (int k = 0; k < ACT_COUNT; k++) {
        const act_desc *d = act_desc_of((act_kind)k);
        assert_non_null(d);
        assert_int_equal(d->kind, k);
        assert_ptr_equal(act_find(d->name), d);
        for (int j = 0; j < k; j++) assert_string_not_equal(d->name, act_desc_of((act_kind)j)->name);
    }
    assert_null(act_desc_of(ACT_COUNT));
    assert_null(act_desc_of((act_kind)-1));
    assert_null(act_find("SwiGLU"));  // names are exact
    assert_null(act_find(""));
    assert_null(act_find(NULL));
}

static void test_forms_and_parameters(void **state) {
    (void)state;
    const char *gated[] = {"swiglu", "geglu", "reglu", "swiglu_clip", "powlu"};
    int n_gated = 0;
    for (int k = 0; k < ACT_COUNT; k++) n_gated += act_desc_of((act_kind)k)->gated;
    assert_int_equal(n_gated, 5);
    for (int i = 0; i < 5; i++) assert_true(act_find(gated[i])->gated);
    assert_true(act_find("polynorm")->rowwise);
    assert_false(act_find("polyrelu")->rowwise);
    for (int i = 0; i < 2; i++) {
        const act_desc *d = act_find(i ? "polynorm" : "polyrelu");
        float p[ACT_MAX_PARAMS];
        assert_int_equal(d->n_params, 4);
        act_params_init(d->kind, p);
        assert_true(p[0] == 1.0f / 3 && p[1] == 1.0f / 3 && p[2] == 1.0f / 3 && p[3] == 0.0f);
    }
    assert_int_equal(act_find("swiglu")->n_params, 0);
}

static void test_hyperparameters(void **state) {
    (void)state;
    act_spec s;
    assert_int_equal(act_spec_init(&s, "nope"), -1);
    assert_int_equal(act_spec_init(&s, "powlu"), 0);
    assert_true(s.hp[0] == 3.0f);
    assert_int_equal(act_spec_set(&s, "m", 2.0f), 0);
    assert_true(s.hp[0] == 2.0f);
    assert_int_equal(act_spec_set(&s, "m", 0.0f), -2);
    assert_int_equal(act_spec_set(&s, "m", 11.0f), -2);
    assert_int_equal(act_spec_set(&s, "m", NAN), -2);
    assert_true(s.hp[0] == 2.0f);  // a refused value changes nothing
    assert_int_equal(act_spec_set(&s, "limit", 3.0f), -1);
    assert_int_equal(act_spec_init(&s, "swiglu_clip"), 0);
    assert_true(s.hp[0] == 7.0f && s.hp[1] == 1.702f);
    assert_int_equal(act_spec_set(&s, "alpha", 1.0f), 0);
    assert_true(s.hp[1] == 1.0f);
    float x = 1.0f, f, df;
    act_spec_init(&s, "polynorm");
    assert_int_equal(act_curve(&s, NULL, 1, &x, &f, &df), -1);  // no elementwise curve
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_round_trips),
        cmocka_unit_test(test_forms_and_parameters),
        cmocka_unit_test(test_hyperparameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
