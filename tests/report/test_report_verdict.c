// test_report_verdict.c — each claim's rule on hand-made numbers: every verdict reachable, and the
// boundaries on the side the rule states.
#include "report/report_verdict.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static rp_stat st(double mean, double sd, int n) { return (rp_stat){mean, sd, n}; }

static void test_e3_pair(void **state) {
    (void)state;
    double diff, se;
    // se = sqrt(0.01²/4 + 0.01²/4) = 0.00707; 2·se = 0.01414
    assert_int_equal(rp_verdict_e3_pair(st(3.00, 0.01, 4), st(3.02, 0.01, 4), &diff, &se), RP_REPRODUCED);
    assert_true(fabs(diff + 0.02) < 1e-12);
    assert_true(fabs(se - sqrt(0.0001 / 2)) < 1e-12);
    assert_int_equal(rp_verdict_e3_pair(st(3.02, 0.01, 4), st(3.00, 0.01, 4), &diff, &se), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e3_pair(st(3.00, 0.01, 4), st(3.01, 0.01, 4), &diff, &se), RP_INCONCLUSIVE);
    // one seed on a side: inconclusive however large the difference
    assert_int_equal(rp_verdict_e3_pair(st(2.0, NAN, 1), st(3.0, 0.01, 4), &diff, &se), RP_INCONCLUSIVE);
    assert_true(isnan(se));
    assert_int_equal(rp_verdict_e3_pair(st(NAN, NAN, 0), st(3.0, 0.01, 4), &diff, &se), RP_INCONCLUSIVE);
}

static void test_e3_overall(void **state) {
    (void)state;
    rp_verdict all[3] = {RP_REPRODUCED, RP_REPRODUCED, RP_REPRODUCED};
    assert_int_equal(rp_verdict_e3_overall(all, 3), RP_REPRODUCED);
    rp_verdict mixed[3] = {RP_REPRODUCED, RP_INCONCLUSIVE, RP_REPRODUCED};
    assert_int_equal(rp_verdict_e3_overall(mixed, 3), RP_INCONCLUSIVE);
    rp_verdict bad[3] = {RP_REPRODUCED, RP_INCONCLUSIVE, RP_NOT_REPRODUCED};
    assert_int_equal(rp_verdict_e3_overall(bad, 3), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e3_overall(NULL, 0), RP_INCONCLUSIVE);
}

static void test_e4(void **state) {
    (void)state;
    double spread, se, mean;
    rp_stat same[3] = {st(3.000, 0.01, 3), st(3.005, 0.01, 3), st(3.002, 0.01, 3)};
    assert_int_equal(rp_verdict_e4(same, 3, &spread, &se, &mean), RP_REPRODUCED);
    assert_true(fabs(spread - 0.005) < 1e-12);
    assert_true(fabs(se - sqrt(2 * 0.0001 / 3)) < 1e-12);
    // 0.1 apart with tiny noise: beyond 2·se and beyond 1% of ~3.05
    rp_stat apart[2] = {st(3.0, 0.001, 3), st(3.1, 0.001, 3)};
    assert_int_equal(rp_verdict_e4(apart, 2, &spread, &se, &mean), RP_NOT_REPRODUCED);
    // beyond 2·se but within 1%: inconclusive
    rp_stat close[2] = {st(3.0, 0.001, 3), st(3.01, 0.001, 3)};
    assert_int_equal(rp_verdict_e4(close, 2, &spread, &se, &mean), RP_INCONCLUSIVE);
    // only one m with two seeds: inconclusive
    rp_stat thin[2] = {st(3.0, 0.01, 2), st(3.5, NAN, 1)};
    assert_int_equal(rp_verdict_e4(thin, 2, &spread, &se, &mean), RP_INCONCLUSIVE);
    assert_true(isnan(spread));
}

static void test_e1(void **state) {
    (void)state;
    assert_int_equal(rp_verdict_e1(0.5, 0.7), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e1(0.5, 1.0), RP_NOT_REPRODUCED);   // "either >= 1.0"
    assert_int_equal(rp_verdict_e1(1.2, 0.5), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e1(0.8, 0.5), RP_INCONCLUSIVE);     // "both < 0.8" fails at 0.8
    assert_int_equal(rp_verdict_e1(0.9, 0.95), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_e1(NAN, 0.5), RP_INCONCLUSIVE);
}

static rp_ladder ladder(int n, const double *lr, const int *stable) {
    rp_ladder l = {.n = n};
    for (int i = 0; i < n; i++) l.lr[i] = lr[i], l.stable[i] = stable[i];
    return l;
}

static void test_e2(void **state) {
    (void)state;
    const double lr[3] = {1e-3, 3e-3, 1e-2};
    rp_ladder all = ladder(3, lr, (int[]){1, 1, 1}), two = ladder(3, lr, (int[]){1, 1, 0});
    rp_ladder one = ladder(3, lr, (int[]){1, 0, 0}), none = ladder(3, lr, (int[]){0, 0, 0});
    assert_true(rp_ladder_largest_stable(&two) == 3e-3);
    assert_true(rp_ladder_largest_stable(&none) == 0);
    assert_int_equal(rp_verdict_e2(&two, &one), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e2(&all, &one), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e2(&one, &two), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e2(&two, &two), RP_NOT_REPRODUCED);   // equal, and swiglu fails at 1e-2
    assert_int_equal(rp_verdict_e2(&all, &all), RP_INCONCLUSIVE);     // ladder too low
    assert_int_equal(rp_verdict_e2(&none, &none), RP_INCONCLUSIVE);   // both unstable everywhere
    assert_int_equal(rp_verdict_e2(&one, &all), RP_INCONCLUSIVE);     // swiglu never unstable
    rp_ladder empty = {.n = 0};
    assert_int_equal(rp_verdict_e2(&empty, &one), RP_INCONCLUSIVE);
}

static void test_e5(void **state) {
    (void)state;
    assert_int_equal(rp_verdict_e5(0.004), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e5(0.01), RP_REPRODUCED);   // "<= 1%"
    assert_int_equal(rp_verdict_e5(0.02), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_e5(0.03), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_e5(0.031), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e5(NAN), RP_INCONCLUSIVE);
    assert_string_equal(rp_verdict_name(RP_NOT_REPRODUCED), "not reproduced");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e3_pair), cmocka_unit_test(test_e3_overall), cmocka_unit_test(test_e4),
        cmocka_unit_test(test_e1),      cmocka_unit_test(test_e2),         cmocka_unit_test(test_e5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
