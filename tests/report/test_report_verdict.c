// test_report_verdict.c — each claim's rule on hand-made numbers: every verdict reachable, the design
// minimums, and E2's ladder logic rung by rung. The planted sweeps through the whole analysis are in
// test_report_planted.c.
#include "report/report_verdict.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void test_all(void **state) {
    (void)state;
    rp_verdict all[3] = {RP_REPRODUCED, RP_REPRODUCED, RP_REPRODUCED};
    assert_int_equal(rp_verdict_all(all, 3), RP_REPRODUCED);
    rp_verdict mixed[3] = {RP_REPRODUCED, RP_INCONCLUSIVE, RP_REPRODUCED};
    assert_int_equal(rp_verdict_all(mixed, 3), RP_INCONCLUSIVE);
    rp_verdict bad[3] = {RP_REPRODUCED, RP_INCONCLUSIVE, RP_NOT_REPRODUCED};
    assert_int_equal(rp_verdict_all(bad, 3), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_all(NULL, 0), RP_INCONCLUSIVE);
    assert_string_equal(rp_verdict_name(RP_NOT_REPRODUCED), "not reproduced");
}

static void test_e1(void **state) {
    (void)state;
    assert_int_equal(rp_verdict_e1(1, 0.2, 0.6, RP_E1_PAPER_ACT), RP_REPRODUCED);      // excludes 1, below
    assert_int_equal(rp_verdict_e1(1, 1.1, 1.6, RP_E1_PAPER_ACT), RP_NOT_REPRODUCED);  // excludes 1, above
    assert_int_equal(rp_verdict_e1(1, 0.5, 1.2, RP_E1_PAPER_ACT), RP_NOT_REPRODUCED);  // has 1, excludes 0.25
    assert_int_equal(rp_verdict_e1(1, 0.2, 1.2, RP_E1_PAPER_ACT), RP_INCONCLUSIVE);    // straddles both
    assert_int_equal(rp_verdict_e1(1, 0.25, 1.0, RP_E1_PAPER_ACT), RP_INCONCLUSIVE);   // closed ends count
    assert_int_equal(rp_verdict_e1(0, 0.2, 0.6, RP_E1_PAPER_ACT), RP_INCONCLUSIVE);    // no interval
    assert_int_equal(rp_verdict_e1(1, NAN, 0.6, RP_E1_PAPER_GRAD), RP_INCONCLUSIVE);
}

static void test_e3(void **state) {
    (void)state;
    double paper = 2.171 - 2.190;   // PolyNorm − SwiGLU
    assert_int_equal(rp_verdict_e3(1, -0.05, -0.01, paper), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e3(1, 0.01, 0.05, paper), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e3(1, -0.005, 0.005, paper), RP_NOT_REPRODUCED);   // rules the paper's gap out
    assert_int_equal(rp_verdict_e3(1, -0.03, 0.01, paper), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_e3(0, -0.05, -0.01, paper), RP_INCONCLUSIVE);
}

static void test_e4(void **state) {
    (void)state;
    assert_int_equal(rp_verdict_e4(1, -0.004, 0.006), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e4(1, -0.004, RP_E4_MARGIN), RP_INCONCLUSIVE);   // must lie strictly inside
    assert_int_equal(rp_verdict_e4(1, 0.011, 0.03), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e4(1, -0.03, -0.011), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e4(1, -0.002, 0.02), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_e4(0, -0.004, 0.006), RP_INCONCLUSIVE);
}

static void test_e5(void **state) {
    (void)state;
    assert_int_equal(rp_verdict_e5(1, 1, 0.002, 0.008), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e5(1, 1, 0.002, RP_E5_OVERLAP), RP_REPRODUCED);   // "upper end <= 1%"
    assert_int_equal(rp_verdict_e5(1, 1, 0.011, 0.03), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e5(1, 1, 0.005, 0.02), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_e5(0, 1, 0.002, 0.008), RP_INCONCLUSIVE);   // too few sizes or seeds
    assert_int_equal(rp_verdict_e5(1, 0, 0.002, 0.008), RP_INCONCLUSIVE);   // no bootstrap interval
}

// ---- E2 ----

// A rung: lr, FP8 runs and how many unstable, control runs and how many unstable.
static rp_rung rung(double lr, int n, int bad, int cn, int cbad) {
    return (rp_rung){lr, n, bad, cn, cbad, NAN, NAN, NAN};
}

static rp_ladder ladder(int n, const rp_rung *r) {
    rp_ladder l = {.n = n};
    for (int i = 0; i < n; i++) l.r[i] = r[i];
    return l;
}

static void test_ladder_summary(void **state) {
    (void)state;
    rp_ladder l = ladder(4, (rp_rung[]){rung(1, 1, 0, 1, 0), rung(2, 3, 0, 3, 0), rung(2.8, 3, 3, 3, 0), rung(4, 1, 1, 1, 1)});
    rp_ladder_sum s = rp_ladder_summary(&l);
    assert_int_equal(s.limit, 1);
    assert_int_equal(s.fail, 2);
    assert_true(s.fail_attributable && s.has_control && !s.disagree);
    assert_int_equal(s.ctl_limit, 2);   // the control is stable up to 2.8, fails at 4
    assert_int_equal(s.min_seeds, 3);
    assert_true(fabs(s.spacing - 1.4) < 1e-12);
    assert_true(rp_ladder_lr(&l, s.limit) == 2 && rp_ladder_lr(&l, -1) == 0);
    // An FP8-stable rung whose control fails is not the FP8 limit.
    l = ladder(2, (rp_rung[]){rung(1, 3, 0, 3, 0), rung(2, 3, 0, 3, 1)});
    s = rp_ladder_summary(&l);
    assert_true(s.limit == 0 && s.fail == -1 && s.ctl_limit == 0);
    // Mixed FP8 seeds at the fail rung.
    l = ladder(2, (rp_rung[]){rung(1, 3, 0, 3, 0), rung(2, 3, 1, 3, 0)});
    s = rp_ladder_summary(&l);
    assert_true(s.fail == 1 && s.disagree);
    // No control at all.
    l = ladder(2, (rp_rung[]){rung(1, 3, 0, 0, 0), rung(2, 3, 3, 0, 0)});
    s = rp_ladder_summary(&l);
    assert_true(!s.has_control && s.limit == -1 && s.fail == 1 && !s.fail_attributable);
}

static void test_e2(void **state) {
    (void)state;
    const char *why;
    // PowLU stable through 2.8, fails at 4 (control stable): FP8 limit 2.8. SwiGLU: limit 1.4, fails at 2.
    rp_ladder p = ladder(5, (rp_rung[]){rung(1, 3, 0, 3, 0), rung(1.4, 3, 0, 3, 0), rung(2, 3, 0, 3, 0),
                                        rung(2.8, 3, 0, 3, 0), rung(4, 3, 3, 3, 0)});
    rp_ladder s = ladder(5, (rp_rung[]){rung(1, 3, 0, 3, 0), rung(1.4, 3, 0, 3, 0), rung(2, 3, 3, 3, 0),
                                        rung(2.8, 3, 3, 3, 0), rung(4, 3, 3, 3, 0)});
    assert_int_equal(rp_verdict_e2(&p, &s, &why), RP_REPRODUCED);
    assert_int_equal(rp_verdict_e2(&s, &p, &why), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_e2(&p, &p, &why), RP_INCONCLUSIVE);   // equal limits
    // SwiGLU's failure at 2 also in its control: not FP8's.
    rp_ladder sc = s;
    sc.r[2].ctl_unstable = 3;
    assert_int_equal(rp_verdict_e2(&p, &sc, &why), RP_INCONCLUSIVE);
    // Seeds disagree at SwiGLU's fail rung.
    rp_ladder sd = s;
    sd.r[2].unstable = 2;
    assert_int_equal(rp_verdict_e2(&p, &sd, &why), RP_INCONCLUSIVE);
    // One seed at a decisive rung.
    rp_ladder s1 = s;
    s1.r[1].n = 1, s1.r[1].ctl_n = 1;
    assert_int_equal(rp_verdict_e2(&p, &s1, &why), RP_INCONCLUSIVE);
    // No control: inconclusive whatever the FP8 runs did.
    rp_ladder pn = p, sn = s;
    for (int i = 0; i < 5; i++) pn.r[i].ctl_n = pn.r[i].ctl_unstable = 0, sn.r[i].ctl_n = sn.r[i].ctl_unstable = 0;
    assert_int_equal(rp_verdict_e2(&pn, &sn, &why), RP_INCONCLUSIVE);
    // PowLU never fails (censored) but SwiGLU does: PowLU's limit is higher, reproduced.
    rp_ladder pc = p;
    pc.r[4].unstable = 0;
    assert_int_equal(rp_verdict_e2(&pc, &s, &why), RP_REPRODUCED);
    // SwiGLU never fails under FP8 and PowLU is lower only because its control failed: inconclusive.
    rp_ladder pl = p;
    pl.r[3].ctl_unstable = 3, pl.r[4].ctl_unstable = 3;
    rp_ladder sa = s;
    for (int i = 2; i < 5; i++) sa.r[i].unstable = 0;
    assert_int_equal(rp_verdict_e2(&pl, &sa, &why), RP_INCONCLUSIVE);
    // Both stable to the top rung: the ladder is too low, whatever the seeds.
    rp_ladder top = ladder(2, (rp_rung[]){rung(1, 1, 0, 1, 0), rung(2, 1, 0, 1, 0)});
    assert_int_equal(rp_verdict_e2(&top, &top, &why), RP_INCONCLUSIVE);
    assert_non_null(strstr(why, "extend the ladder"));
    rp_ladder empty = {.n = 0};
    assert_int_equal(rp_verdict_e2(&empty, &s, &why), RP_INCONCLUSIVE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all), cmocka_unit_test(test_e1), cmocka_unit_test(test_e3),
        cmocka_unit_test(test_e4),  cmocka_unit_test(test_e5), cmocka_unit_test(test_ladder_summary),
        cmocka_unit_test(test_e2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
