// test_report_planted.c — planted sweeps through the whole analysis (rp_analyze): for each of E1-E5 a
// dataset whose effect clearly passes (reproduced), one that clearly fails (not reproduced) and one
// whose interval straddles the rule (inconclusive). The runs are built in memory, as the loader would
// leave them; the effects are planted so the expected verdict follows from the rule by hand, and the
// reported numbers are checked against direct computations here.
#include "report/report_analyze.h"
#include "report/rp_md.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_RUNS 256
#define TEST_BOOT_N 1000   // bootstrap resamples here (the report draws RP_BOOT_N): the verdicts planted
                           // are far from their boundaries, and 10000 refits per case are slow
#define TELE_STEPS 4   // telemetry at steps 25, 50, 75, 100 of 100: the last two are "late"

typedef struct {
    rp_sweep s;
    rp_run runs[MAX_RUNS];
    rp_tele tele[MAX_RUNS][TELE_STEPS];
} planted;

static planted *new_planted(void) {
    planted *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->s.runs = p->runs;
    return p;
}

static rp_run *add(planted *p, const char *act, unsigned exps, long seed, double val) {
    assert_true(p->s.n < MAX_RUNS);
    rp_run *r = &p->runs[p->s.n++];
    snprintf(r->name, sizeof r->name, "%s-%zu", act, p->s.n);
    snprintf(r->act, sizeof r->act, "%s", act);
    snprintf(r->status, sizeof r->status, "done");
    snprintf(r->precision, sizeof r->precision, "bf16");
    snprintf(r->recipe, sizeof r->recipe, "-");
    r->exps = exps, r->finished = 1, r->seed = seed, r->final_val = val, r->final_loss = val;
    r->steps_planned = r->steps_done = 100, r->diverged_step = -1, r->last_spike_step = -1;
    r->m = NAN, r->lr = 1e-3, r->n_params = r->n_params_nonembed = -1;
    r->batch = 8, r->seq = 64, r->grad_accum = 1;
    return r;
}

#define E(k) (1u << ((k) - 1))

// ---- E1 ----

// Telemetry with every late step's band widths: act_out = w_act, grad_up = w_grad, grad_gate = w_grad/2.
static void plant_e1(planted *p, const char *act, long seed, double w_act, double w_grad) {
    rp_run *r = add(p, act, E(1) | E(3), seed, 3.0);
    r->tele = p->tele[r - p->runs], r->n_tele = TELE_STEPS;
    for (int i = 0; i < TELE_STEPS; i++) {
        rp_tele *t = &r->tele[i];
        t->step = 25 * (i + 1);
        double early = i < 2 ? 100 : 1;   // early steps are wild: the late mean must ignore them
        for (int k = 0; k < 3; k++) t->has[k] = 1;
        t->b[RP_ACT_OUT] = (rp_band){-1, 1, -1, 1, 2, early * w_act, 4, 5};
        t->b[RP_GRAD_UP] = (rp_band){-1, 1, -1, 1, 2, early * w_grad, 4, 5};
        t->b[RP_GRAD_GATE] = (rp_band){-1, 1, -1, 1, 2, early * w_grad / 2, 4, 5};
    }
}

// ratio[i]: PowLU/SwiGLU of seed i for both quantities; SwiGLU's widths vary by seed.
static rp_verdict e1_verdict(const double *ratio, int n, double *est) {
    planted *p = new_planted();
    for (int i = 0; i < n; i++) {
        double w = 10 + 3 * i;
        plant_e1(p, "swiglu", i + 1, w, 2 * w);
        plant_e1(p, "powlu", i + 1, ratio[i] * w, ratio[i] * 2 * w);
    }
    rp_analysis *a = malloc(sizeof *a);
    rp_analyze_n(&p->s, a, TEST_BOOT_N);
    rp_verdict v = a->e1_v;
    *est = a->e1_powlu[RP_Q_ACT].est;
    assert_true(n < 2 || fabs(a->e1_powlu[RP_Q_GRAD].est - *est) < 1e-9);   // one pair: no estimate
    if (n >= 2) assert_int_equal(a->e1_powlu[RP_Q_ACT].logc.n1, n);
    free(a), free(p);
    return v;
}

static double geomean(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += log(x[i]);
    return exp(s / n);
}

static void test_e1(void **state) {
    (void)state;
    double est;
    const double pass[4] = {0.30, 0.28, 0.33, 0.31}, fail[4] = {1.5, 1.6, 1.45, 1.55}, straddle[4] = {0.15, 1.3, 0.4, 1.1};
    assert_int_equal(e1_verdict(pass, 4, &est), RP_REPRODUCED);
    assert_true(fabs(est - geomean(pass, 4)) < 1e-9);
    assert_int_equal(e1_verdict(fail, 4, &est), RP_NOT_REPRODUCED);
    assert_int_equal(e1_verdict(straddle, 4, &est), RP_INCONCLUSIVE);
    assert_int_equal(e1_verdict(pass, 1, &est), RP_INCONCLUSIVE);   // one seed pair: no interval
}

// ---- E2 ----

// One run of the ladder: precision "fp8" (delayed, history 1024) or "bf16" (control); bad: diverged.
static rp_run *plant_e2(planted *p, const char *act, const char *prec, double lr, long seed, int bad) {
    rp_run *r = add(p, act, E(2), seed, 3.0);
    snprintf(r->precision, sizeof r->precision, "%s", prec);
    if (!strcmp(prec, "fp8")) snprintf(r->recipe, sizeof r->recipe, "delayed"), r->amax_history = 1024;
    r->lr = lr;
    if (bad) snprintf(r->status, sizeof r->status, "diverged"), r->diverged_step = 50;
    return r;
}

// Ladder 1, √2, 2, 2√2, 4 (×1e-3); FP8 fails from rung `fail_p` (PowLU) / `fail_s` (SwiGLU) on; the
// control of SwiGLU fails from rung `ctl_fail_s` on; 3 seeds everywhere.
static rp_verdict e2_verdict(int fail_p, int fail_s, int ctl_fail_s) {
    planted *p = new_planted();
    for (int i = 0; i < 5; i++) {
        double lr = 1e-3 * pow(sqrt(2.0), i);
        for (long seed = 1; seed <= 3; seed++) {
            plant_e2(p, "powlu", "fp8", lr, seed, i >= fail_p);
            plant_e2(p, "powlu", "bf16", lr, seed, 0);
            plant_e2(p, "swiglu", "fp8", lr, seed, i >= fail_s);
            plant_e2(p, "swiglu", "bf16", lr, seed, i >= ctl_fail_s);
        }
    }
    rp_analysis *a = malloc(sizeof *a);
    rp_analyze_n(&p->s, a, TEST_BOOT_N);
    const rp_e2group *g[4];
    assert_int_equal(rp_e2_recipes(a, g, 4), 1);
    const rp_e2group *s = rp_find_e2(a, "swiglu", "delayed", 1024);
    assert_non_null(s);
    assert_int_equal(s->lad.n, 5);
    assert_int_equal(s->lad.r[0].ctl_n, 3);
    const char *why;
    rp_verdict v = rp_verdict_e2(&g[0]->lad, &s->lad, &why);
    free(a), free(p);
    return v;
}

static void test_e2(void **state) {
    (void)state;
    assert_int_equal(e2_verdict(4, 2, 9), RP_REPRODUCED);       // PowLU limit 2√2e-3, SwiGLU 1.4e-3
    assert_int_equal(e2_verdict(2, 4, 9), RP_NOT_REPRODUCED);
    assert_int_equal(e2_verdict(4, 2, 2), RP_INCONCLUSIVE);     // SwiGLU's control fails at the same rung
    assert_int_equal(e2_verdict(3, 3, 9), RP_INCONCLUSIVE);     // equal limits
}

// ---- E3 ----

// PolyNorm − SwiGLU = diff[i] on seed i (the seeds' common level varies a lot: pairing must remove it).
static rp_verdict e3_verdict(const double *diff, int n, rp_e3pair *out) {
    planted *p = new_planted();
    for (int i = 0; i < n; i++) {
        double level = 3 + 0.2 * (i % 3);
        add(p, "swiglu", E(3), i + 1, level);
        add(p, "polynorm", E(3), i + 1, level + diff[i]);
    }
    rp_analysis *a = malloc(sizeof *a);
    rp_analyze_n(&p->s, a, TEST_BOOT_N);
    assert_int_equal(a->n_e3, 1);
    *out = a->e3[0];
    rp_verdict v = a->e3_v;
    free(a), free(p);
    return v;
}

static void test_e3(void **state) {
    (void)state;
    rp_e3pair r;
    const double pass[5] = {-0.031, -0.029, -0.030, -0.032, -0.028};
    assert_int_equal(e3_verdict(pass, 5, &r), RP_REPRODUCED);
    assert_true(fabs(r.c.diff + 0.030) < 1e-12 && r.c.n1 == 5 && r.c.df == 4);
    assert_true(fabs(r.paper - (2.171 - 2.190)) < 1e-12);
    // mean −0.03, deviations ∓0.001, 0, ∓0.002: the interval is mean ± t_{0.975,4}·sd/√5
    double sd = sqrt((0.001 * 0.001 + 0.001 * 0.001 + 0 + 0.002 * 0.002 + 0.002 * 0.002) / 4);
    assert_true(fabs(r.c.hi - (-0.030 + 2.7764451051977987 * sd / sqrt(5))) < 1e-9);
    const double fail[5] = {0.031, 0.029, 0.030, 0.032, 0.028};
    assert_int_equal(e3_verdict(fail, 5, &r), RP_NOT_REPRODUCED);
    const double straddle[5] = {-0.03, 0.02, -0.01, 0.015, -0.02};
    assert_int_equal(e3_verdict(straddle, 5, &r), RP_INCONCLUSIVE);
    assert_true(r.c.lo < r.paper && r.c.hi > 0);
    assert_true(r.mde > fabs(r.paper));            // underpowered: the MDE exceeds the paper's gap
    assert_true(r.seeds_needed > 5 || r.seeds_needed == -1);
}

// ---- E4 ----

// m = 3 from E3's PowLU runs, m = 2 and 4 from E4, differences d2[i], d4[i] to m = 3 on seed i.
static rp_verdict e4_verdict(const double *d2, const double *d4, int n) {
    planted *p = new_planted();
    for (int i = 0; i < n; i++) {
        double level = 3 + 0.1 * i;
        add(p, "powlu", E(3), i + 1, level)->m = 3;
        add(p, "powlu", E(4), i + 1, level + d2[i])->m = 2;
        add(p, "powlu", E(4), i + 1, level + d4[i])->m = 4;
    }
    rp_analysis *a = malloc(sizeof *a);
    rp_analyze_n(&p->s, a, TEST_BOOT_N);
    assert_int_equal(a->n_e4, 3);
    assert_true(a->e4[0].m == 2 && a->e4[1].m == 3 && a->e4[2].m == 4);
    assert_int_equal(a->e4[0].c.n1, n);
    rp_verdict v = a->e4_v;
    free(a), free(p);
    return v;
}

static void test_e4(void **state) {
    (void)state;
    const double tiny[4] = {0.001, -0.001, 0.002, 0.0}, tiny2[4] = {-0.001, 0.0, 0.001, 0.0};
    const double far[4] = {0.05, 0.052, 0.049, 0.051}, wide[4] = {0.02, -0.015, 0.012, -0.01};
    assert_int_equal(e4_verdict(tiny, tiny2, 4), RP_REPRODUCED);
    assert_int_equal(e4_verdict(tiny, far, 4), RP_NOT_REPRODUCED);
    assert_int_equal(e4_verdict(tiny, wide, 4), RP_INCONCLUSIVE);
}

// ---- E5 ----

static double law(double N, double scale) { return scale * (40.0 * pow(N, -0.3) + 2.0); }

// Five sizes × seeds: SwiGLU on the law, PowLU on the law × scale; seed noise ±noise around it.
static rp_verdict e5_verdict(double scale, double noise, int sizes, int seeds) {
    planted *p = new_planted();
    for (int j = 0; j < sizes; j++) {
        long N = (long)(1e4 * pow(3.0, j));
        for (int s = 0; s < seeds; s++) {
            double e = noise * (s % 2 ? 1 : -1) * (1 + 0.3 * j);
            add(p, "swiglu", E(5), s + 1, law((double)N, 1) + e)->n_params_nonembed = N;
            add(p, "powlu", E(5), s + 1, law((double)N, scale) - e)->n_params_nonembed = N;
        }
    }
    rp_analysis *a = malloc(sizeof *a);
    rp_analyze_n(&p->s, a, TEST_BOOT_N);
    rp_verdict v = a->e5_v;
    if (sizes >= RP_E5_MIN_SIZES && seeds >= RP_E5_MIN_SEEDS) assert_true(a->e5_design_ok);
    free(a), free(p);
    return v;
}

static void test_e5(void **state) {
    (void)state;
    assert_int_equal(e5_verdict(1.0, 0.0005, 5, 2), RP_REPRODUCED);
    assert_int_equal(e5_verdict(1.05, 0.0005, 5, 2), RP_NOT_REPRODUCED);
    assert_int_equal(e5_verdict(1.01, 0.004, 5, 2), RP_INCONCLUSIVE);   // the gap's interval straddles 1%
    assert_int_equal(e5_verdict(1.0, 0.0005, 4, 2), RP_INCONCLUSIVE);   // too few sizes for a verdict
    assert_int_equal(e5_verdict(1.0, 0.0005, 5, 1), RP_INCONCLUSIVE);   // one seed: no uncertainty
}

// ---- the sections' text on planted data (figures off) ----

typedef struct {
    rp_analysis *a;
    rp_plotter pl;
    rp_buf md;
    rp_ctx c;
} rendered;

static void render_begin(rendered *r, planted *p) {
    r->a = malloc(sizeof *r->a);
    rp_analyze_n(&p->s, r->a, TEST_BOOT_N);
    memset(&r->pl, 0, sizeof r->pl);
    snprintf(r->pl.why, sizeof r->pl.why, "test");
    memset(&r->md, 0, sizeof r->md);
    r->c = (rp_ctx){.s = &p->s, .a = r->a, .pl = &r->pl, .md = &r->md};
}

static void render_end(rendered *r) {
    rp_buf_free(&r->md);
    free(r->a);
}

// The full ladder with a stress recipe and SwiGLU-Clip: the verdict table names each comparison.
static void test_e2_text(void **state) {
    (void)state;
    planted *p = new_planted();
    for (int i = 0; i < 5; i++) {
        double lr = 1e-3 * pow(sqrt(2.0), i);
        for (long seed = 1; seed <= 3; seed++) {
            plant_e2(p, "powlu", "fp8", lr, seed, i >= 4);
            plant_e2(p, "powlu", "bf16", lr, seed, 0);
            plant_e2(p, "swiglu", "fp8", lr, seed, i >= 2);
            plant_e2(p, "swiglu", "bf16", lr, seed, 0);
            plant_e2(p, "swiglu_clip", "fp8", lr, seed, i >= 3);
            plant_e2(p, "swiglu_clip", "bf16", lr, seed, 0);
            plant_e2(p, "powlu", "fp8", lr, seed, i >= 3)->amax_history = RP_E2_STRESS_HISTORY;
            plant_e2(p, "swiglu", "fp8", lr, seed, i >= 1)->amax_history = RP_E2_STRESS_HISTORY;
        }
    }
    rendered r;
    render_begin(&r, p);
    rp_md_e2(&r.c);
    rp_md_verdicts(&r.c);
    const char *md = r.md.p;
    assert_non_null(strstr(md, "| delayed (primary) | 1024 | powlu vs swiglu | 0.00282843 | 0.00141421 | reproduced |"));
    assert_non_null(strstr(md, "| delayed (primary) | 1024 | powlu vs swiglu_clip | 0.00282843 | 0.002 | reproduced |"));
    assert_non_null(strstr(md, "| delayed | 16 | powlu vs swiglu | 0.002 | 0.001 | reproduced |"));
    assert_non_null(strstr(md, "| swiglu | delayed | 1024 | 0.00141421 | 0.004 | 0.002 | yes | ×1.41 | 3 | no |"));
    assert_non_null(strstr(md, "- E2: reproduced — recipe delayed, amax history 1024: PowLU FP8 limit 0.00282843"));
    assert_non_null(strstr(md, "- E2 (secondary recipe, not the headline): reproduced — recipe delayed, amax history 16"));
    render_end(&r);
    free(p);
}

// z telemetry on PowLU's E1 runs: the sentence says how often z passed 4 and 12.9.
static void test_z_text(void **state) {
    (void)state;
    const double zmax[3][TELE_STEPS] = {{2, 3, 3.5, 3.9}, {2, 5, 6, 13.5}, {NAN, NAN, NAN, NAN}};
    const char *want[3] = {"z never exceeded 4 (max 3.9 over 4 telemetry steps)",
                           "z exceeded 4 on 3 of 4 telemetry steps (at most a fraction 0.02 of the elements of a "
                           "layer) and 12.9 on 1 (at most 0.001); max z 13.5.",
                           "no gate pre-activation (z) telemetry"};
    for (int k = 0; k < 3; k++) {
        planted *p = new_planted();
        plant_e1(p, "powlu", 1, 1, 1);
        for (int i = 0; i < TELE_STEPS && k < 2; i++) {
            double z = zmax[k][i];
            rp_tele *t = &p->runs[0].tele[i];
            t->has_z = 1;
            t->z = (rp_zq){0.1, 1, 0.5 * z, z, z > RP_Z_KNEE ? 0.02 : 0, z > RP_Z_PEAK ? 0.001 : 0};
        }
        rendered r;
        render_begin(&r, p);
        const rp_e1act *e = rp_find_e1(r.a, "powlu");
        assert_non_null(e);
        rp_md_z_sentence(&r.md, "PowLU (E1)", &e->z);
        if (!strstr(r.md.p, want[k])) fail_msg("case %d: '%s' lacks '%s'", k, r.md.p, want[k]);
        render_end(&r);
        free(p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1), cmocka_unit_test(test_e2), cmocka_unit_test(test_e3),
        cmocka_unit_test(test_e4), cmocka_unit_test(test_e5), cmocka_unit_test(test_e2_text),
        cmocka_unit_test(test_z_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
