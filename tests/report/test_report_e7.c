// test_report_e7.c — E7's analysis and section on planted sweeps (in memory, as the loader leaves
// them): the 4-bit ladders get E2's stability verdict, the paired loss gap to bf16 its verdict
// (narrower, wider, within the margin, too noisy), the block telemetry is averaged by blocks and
// elements, and the section appears only when the sweep has E7 runs.
#include "report/report_e7.h"
#include "report/rp_md.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_RUNS 128
#define E7_BIT (1u << 6)
#define RUNGS 5
#define SEEDS 3

// The planted noise is drawn from a fixed seed: the "too noisy" case must straddle 0 for sure (a
// random seed would exclude 0 by chance one time in twenty).
#define NOISE_SEED 7

typedef struct {
    rp_sweep s;
    rp_run runs[MAX_RUNS];
} planted;

static rp_run *add(planted *p, const char *act, const char *prec, double lr, long seed, double val, int bad) {
    assert_true(p->s.n < MAX_RUNS);
    rp_run *r = &p->runs[p->s.n++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s-%zu", act, p->s.n);
    snprintf(r->act, sizeof r->act, "%s", act);
    snprintf(r->status, sizeof r->status, "%s", bad ? "diverged" : "done");
    snprintf(r->precision, sizeof r->precision, "%s", prec);
    snprintf(r->recipe, sizeof r->recipe, "-");
    r->exps = E7_BIT, r->finished = 1, r->seed = seed, r->lr = lr, r->rht = 1;
    r->final_val = r->final_loss = bad ? NAN : val;
    r->diverged_step = bad ? 50 : -1, r->last_spike_step = -1, r->m = NAN;
    return r;
}

// A ladder of RUNGS rungs × SEEDS seeds for powlu and swiglu: bf16 controls at a seed-dependent
// level (pairing must remove it), nvfp4 runs at control + gap + noise; swiglu's nvfp4 runs diverge
// from rung fail_s on. Planted telemetry on powlu's runs: 10 of 40 blocks outlier-dominated.
static planted *plant(double gap_p, double gap_s, double noise, int fail_s, rng_t *rng) {
    planted *p = calloc(1, sizeof *p);
    p->s.runs = p->runs;
    for (int i = 0; i < RUNGS; i++)
        for (long seed = 1; seed <= SEEDS; seed++) {
            double lr = 1e-3 * pow(sqrt(2.0), i), level = 3.0 + 0.1 * (double)seed;
            static const char *const ACTS[] = {"powlu", "swiglu"};
            for (int a = 0; a < 2; a++) {
                add(p, ACTS[a], "bf16", lr, seed, level, 0);
                double gap = a ? gap_s : gap_p;
                rp_run *r = add(p, ACTS[a], "nvfp4", lr, seed, level + gap + noise * rng_normal(rng), a && i >= fail_s);
                if (!a) {
                    r->has_down_blk = 1, r->down_blocks = 40, r->down_outlier = 10;
                    r->down_bn = 640, r->down_zero = 64, r->down_bsat = 0, r->down_err = 0.2 * 640;
                }
            }
        }
    return p;
}

static void verdicts(const planted *p, rp_verdict *stab, rp_verdict *gap, rp_e7gap *g) {
    rp_e7 *e = malloc(sizeof *e);
    rp_analyze_e7(&p->s, e);
    const rp_e7group *pw = rp_find_e7(e, "powlu", "nvfp4", 1), *sw = rp_find_e7(e, "swiglu", "nvfp4", 1);
    assert_non_null(pw);
    assert_non_null(sw);
    assert_int_equal(pw->lad.n, RUNGS);
    assert_int_equal(pw->lad.r[0].ctl_n, SEEDS);
    assert_true(fabs(pw->outlier_frac - 0.25) < 1e-12 && fabs(pw->zero_frac - 0.1) < 1e-12);
    assert_true(fabs(pw->rel_err - 0.2) < 1e-12);
    const char *why;
    *stab = rp_verdict_e2(&pw->lad, &sw->lad, &why);
    *g = rp_e7_gap_cmp(pw, sw);
    *gap = g->v;
    free(e);
}

static void test_e7_verdicts(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, NOISE_SEED);
    struct { double gp, gs, noise; int fail_s; rp_verdict stab, gap; int pairs; } C[] = {
        {0.02, 0.08, 0.005, 2, RP_REPRODUCED, RP_REPRODUCED, 2 * SEEDS},   // swiglu fails from rung 2
        {0.08, 0.02, 0.005, 9, RP_INCONCLUSIVE, RP_NOT_REPRODUCED, RUNGS * SEEDS},  // no failure: censored
        {0.05, 0.05, 0.001, 9, RP_INCONCLUSIVE, RP_NOT_REPRODUCED, RUNGS * SEEDS},  // within ±margin
        {0.05, 0.05, 0.2, 9, RP_INCONCLUSIVE, RP_INCONCLUSIVE, RUNGS * SEEDS},      // too noisy
    };
    for (size_t k = 0; k < sizeof C / sizeof C[0]; k++) {
        planted *p = plant(C[k].gp, C[k].gs, C[k].noise, C[k].fail_s, &rng);
        rp_verdict s, g;
        rp_e7gap gc;
        verdicts(p, &s, &g, &gc);
        printf("case %zu: stability %s, gap difference %+.4f [%+.4f, %+.4f] over %d pairs: %s\n", k, rp_verdict_name(s),
               gc.c.diff, gc.c.lo, gc.c.hi, gc.n_pairs, rp_verdict_name(g));
        assert_int_equal(s, C[k].stab);
        assert_int_equal(g, C[k].gap);
        assert_int_equal(gc.n_pairs, C[k].pairs);
        free(p);
    }
}

// The section exists with E7 runs (its tables and verdict rows), and not at all without them.
static void test_e7_section(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, NOISE_SEED + 1);
    planted *p = plant(0.02, 0.08, 0.005, 2, &rng);
    rp_buf md = {0};
    rp_ctx c = {.s = &p->s, .md = &md};
    rp_md_e7(&c);
    assert_non_null(md.p);
    assert_non_null(strstr(md.p, "## 11. E7"));
    assert_non_null(strstr(md.p, "question neither paper tested"));
    assert_non_null(strstr(md.p, "| nvfp4 | yes | powlu vs swiglu |"));
    byte_buf_free(&md);
    for (size_t i = 0; i < p->s.n; i++) p->runs[i].exps = 1u << 1;  // the same runs tagged E2 only
    rp_buf none = {0};
    c.md = &none;
    rp_md_e7(&c);
    assert_true(none.n == 0);
    byte_buf_free(&none);
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e7_verdicts),
        cmocka_unit_test(test_e7_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
