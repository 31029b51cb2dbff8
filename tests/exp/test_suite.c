// test_suite.c — the built-in suite of `actlab compare` (no training): every model of every suite
// kind and phase keeps ≥ 40% of its parameters in the FFNs; E3 pairs every activation on the same
// seeds; E5 has ≥ 5 sizes, ≥ 2 seeds each, and tokens proportional to the parameters; and phase 2 is
// decided from phase 1's run folders (the tuned learning rate, the E2 boundary, spikes count as
// unstable); E6 (MoE) exists only in the full suite's phase 2, at the dense model's active FFN width, the
// tuned rates and E3's seeds, and no other run has experts; E7 (4-bit formats) exists only in the full
// suite's phase 2, on E2's ladder, with a bf16 control at every (activation, lr, seed), and no other
// suite has a block-format run.
#include "exp/runinfo.h"
#include "exp/suite.h"
#include "model/model.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define FFN_SHARE_MIN 0.40  // issue 10: the thing under test must matter

static void load_plan(sweep_plan *p, suite_kind k, const suite_decisions *d) {
    char err[1024];
    char *spec = suite_spec(k, "data", d);
    if (sweep_plan_load(p, spec, strlen(spec), err, sizeof err)) fail_msg("suite %d: %s", (int)k, err);
    free(spec);
}

static int has_exp(const sweep_entry *e, const char *prefix) {
    for (int i = 0; i < e->n_experiments; i++)
        if (!strncmp(e->experiments[i], prefix, strlen(prefix))) return 1;
    return 0;
}

static void decisions_at(suite_decisions *d, double lr, int stable) {
    for (int i = 0; i < SUITE_N_E3; i++) d->lr[i] = lr;
    for (int i = 0; i < SUITE_N_E2; i++) d->e2_stable[i] = stable;
    d->stress_lr = stable >= 0 ? 0.02 : 0;
}

static void test_ffn_share_every_model(void **state) {
    (void)state;
    for (int k = SUITE_QUICK; k <= SUITE_FULL; k++)
        for (int stable = -1; stable <= 1; stable++) {
            suite_decisions d;
            decisions_at(&d, 0.005, stable);
            sweep_plan p;
            load_plan(&p, (suite_kind)k, &d);
            assert_true(p.n_runs > 0);
            for (int r = 0; r < p.n_runs; r++) {
                model_param_split s;
                model_param_split_of(&p.runs[r].cfg.model, &s);
                double share = (double)s.ffn / (double)s.total;
                if (share < FFN_SHARE_MIN)
                    fail_msg("suite %s run %s: FFN share %.3f < %.2f", suite_kind_names[k], p.runs[r].name, share,
                             FFN_SHARE_MIN);
                assert_int_equal(p.runs[r].cfg.model.tied_embeddings, 1);
            }
            sweep_plan_free(&p);
        }
}

// Every E3 activation runs on the same seeds: the pairs of the paired test exist.
static void test_e3_paired_seeds(void **state) {
    (void)state;
    suite_decisions d;
    decisions_at(&d, 0.005, 1);
    d.lr[2] = 0.01;  // a different tuned rate for one activation changes nothing about the pairing
    sweep_plan p;
    load_plan(&p, SUITE_DEFAULT, &d);
    unsigned seeds[SUITE_N_E3] = {0};
    for (int r = 0; r < p.n_runs; r++) {
        const sweep_entry *e = &p.runs[r];
        if (!has_exp(e, "E3")) continue;
        const char *act = act_desc_of(e->cfg.model.act.kind)->name;
        for (int a = 0; a < SUITE_N_E3; a++)
            if (!strcmp(act, suite_e3_acts[a])) {
                seeds[a] |= 1u << e->cfg.seed;
                assert_true(fabs(e->cfg.opt.lr - d.lr[a]) < 1e-6 * d.lr[a]);  // the config holds f32
            }
    }
    assert_true(seeds[0] != 0);
    for (int a = 1; a < SUITE_N_E3; a++) assert_int_equal(seeds[a], seeds[0]);
    sweep_plan_free(&p);
}

// E5: at least 5 sizes with at least 2 seeds each per activation, and the same tokens per parameter.
static void test_e5_design(void **state) {
    (void)state;
    for (int k = SUITE_QUICK; k <= SUITE_FULL; k++) {
        sweep_plan p;
        load_plan(&p, (suite_kind)k, NULL);
        double ratio_lo = INFINITY, ratio_hi = 0;
        size_t sizes[16];
        int n_sizes = 0, n_runs = 0;
        for (int r = 0; r < p.n_runs; r++) {
            const sweep_entry *e = &p.runs[r];
            if (!has_exp(e, "E5")) continue;
            n_runs++;
            model_param_split s;
            model_param_split_of(&e->cfg.model, &s);
            double tokens = (double)e->cfg.steps * e->cfg.batch * e->cfg.seq;
            double ratio = tokens / (double)s.total;
            ratio_lo = fmin(ratio_lo, ratio), ratio_hi = fmax(ratio_hi, ratio);
            int seen = 0;
            for (int i = 0; i < n_sizes; i++) seen |= sizes[i] == s.total;
            if (!seen) sizes[n_sizes++] = s.total;
        }
        assert_true(n_sizes >= 5);
        assert_true(n_runs >= n_sizes * 2 * 2);  // 2 activations x >= 2 seeds
        // Steps are whole numbers: the ratio may differ by one step's worth of tokens at the smallest size.
        assert_true(ratio_hi / ratio_lo < 1.25);
        sweep_plan_free(&p);
    }
}

// Each run gets the validation and telemetry its experiment reads, and the warmup as divergence grace:
// E3/E1 runs validate along the way (their curves) with telemetry; E2 runs validate at the end only,
// with telemetry (z, saturation); tuning, E4 and E5 runs only need their final validation loss.
static void test_what_each_run_reads(void **state) {
    (void)state;
    for (int k = SUITE_QUICK; k <= SUITE_FULL; k++) {
        suite_decisions d;
        decisions_at(&d, 0.005, 1);
        sweep_plan p;
        load_plan(&p, (suite_kind)k, &d);
        for (int r = 0; r < p.n_runs; r++) {
            const sweep_entry *e = &p.runs[r];
            assert_int_equal(e->cfg.divergence_grace, e->cfg.sched.warmup_steps);
            assert_true(e->cfg.divergence_grace > 0);
            int ladder = has_exp(e, "E6.E2");  // E6's FP8 ladders: E2's runs with experts
            int curves = has_exp(e, "E3") || has_exp(e, "E1") || (has_exp(e, "E6") && !ladder);
            int e2 = has_exp(e, "E2") || has_exp(e, "E7") || ladder;
            if (curves) assert_true(e->cfg.eval_interval > 0 && e->cfg.eval_interval < e->cfg.steps);
            else assert_int_equal(e->cfg.eval_interval, 0);
            if (curves || e2) assert_true(e->cfg.telemetry_interval > 0);
            else assert_int_equal(e->cfg.telemetry_interval, 0);
        }
        sweep_plan_free(&p);
    }
}

// E7: nowhere but --full phase 2 (the default suite's time is budgeted; phase 1 must not wait for
// it). There, every E2 activation × {nvfp4, mxfp4 with the Hadamard transform, nvfp4 without} ×
// E2 ladder rung × seeds 1..3 (nvfp4 without the transform: seed 1) is one run of E2's length,
// each with its control (E2's, bf16) in E7, the seed-1 controls being E2.ctl's runs themselves.
static void test_e7_design(void **state) {
    (void)state;
    for (int k = SUITE_QUICK; k <= SUITE_FULL; k++)
        for (int phase = 1; phase <= 2; phase++) {
            suite_decisions d;
            decisions_at(&d, 0.005, 1);
            sweep_plan p;
            load_plan(&p, (suite_kind)k, phase == 2 ? &d : NULL);
            int e7 = 0;
            for (int r = 0; r < p.n_runs; r++) {
                e7 += has_exp(&p.runs[r], "E7");
                if (!has_exp(&p.runs[r], "E7") && precision_is_block(p.runs[r].cfg.prec.precision))
                    fail_msg("suite %s: %s is block-scaled outside E7", suite_kind_names[k], p.runs[r].name);
            }
            if (k != SUITE_FULL || phase == 1) assert_int_equal(e7, 0);
            else assert_true(e7 > 0);
            sweep_plan_free(&p);
        }
    suite_decisions d;
    decisions_at(&d, 0.005, 1);
    sweep_plan p;
    load_plan(&p, SUITE_FULL, &d);
    double lrs[16];
    int n_lr = 0, e2_steps = 0;
    for (int r = 0; r < p.n_runs; r++) {  // E2's coarse ladder and run length
        const sweep_entry *e = &p.runs[r];
        if (strcmp(e->experiments[0], "E2")) continue;
        e2_steps = e->cfg.steps;
        int seen = 0;
        for (int i = 0; i < n_lr; i++) seen |= fabs(lrs[i] - e->cfg.opt.lr) < 1e-9;
        if (!seen) lrs[n_lr++] = e->cfg.opt.lr;
    }
    assert_true(n_lr >= 5);
    static const struct { precision_kind prec; int rht; } FMT[] = {{PREC_NVFP4, 1}, {PREC_MXFP4, 1}, {PREC_NVFP4, 0}, {PREC_BF16, 1}};
    int shared_ctl = 0;
    for (int a = 0; a < SUITE_N_E2; a++)
        for (int f = 0; f < 4; f++)
            for (int i = 0; i < n_lr; i++)
                for (int seed = 1; seed <= (FMT[f].rht ? 3 : 1); seed++) {  // without the transform: seed 1
                    int found = 0;
                    for (int r = 0; r < p.n_runs; r++) {
                        const sweep_entry *e = &p.runs[r];
                        if (!has_exp(e, "E7") || strcmp(act_desc_of(e->cfg.model.act.kind)->name, suite_e2_acts[a]) ||
                            e->cfg.prec.precision != FMT[f].prec || e->cfg.prec.rht != FMT[f].rht ||
                            fabs(e->cfg.opt.lr - lrs[i]) > 1e-9 || e->cfg.seed != (uint64_t)seed)
                            continue;
                        found++;
                        assert_int_equal(e->cfg.steps, e2_steps);
                        assert_int_equal(e->cfg.prec.bf16_layers, 0);
                        shared_ctl += FMT[f].prec == PREC_BF16 && has_exp(e, "E2.ctl");
                    }
                    if (found != 1)
                        fail_msg("E7 %s %s rht %d lr %g seed %d: %d runs", suite_e2_acts[a],
                                 precision_name(FMT[f].prec), FMT[f].rht, lrs[i], seed, found);
                }
    assert_int_equal(shared_ctl, SUITE_N_E2 * n_lr);  // seed 1 of every control is E2.ctl's run
    sweep_plan_free(&p);
}

// The number of runs tagged E6 in a suite's phase (2: from decisions at lr 0.005); any MoE run outside
// E6 fails the test.
// E6's runs in suite k's phase: the seeded comparisons (ladder 0) or the FP8 ladders' (ladder 1).
static int e6_runs(suite_kind k, int phase, int ladder) {
    suite_decisions d;
    decisions_at(&d, 0.005, 1);
    sweep_plan p;
    load_plan(&p, k, phase == 2 ? &d : NULL);
    int n = 0;
    for (int r = 0; r < p.n_runs; r++) {
        n += has_exp(&p.runs[r], "E6") && has_exp(&p.runs[r], "E6.E2") == ladder;
        if (!has_exp(&p.runs[r], "E6") && p.runs[r].cfg.model.moe_experts)
            fail_msg("suite %s: %s has an MoE FFN outside E6", suite_kind_names[k], p.runs[r].name);
    }
    sweep_plan_free(&p);
    return n;
}

// The E3 run of act at seed in plan p (the dense twin of an E6 run), or NULL.
static const sweep_entry *e3_run(const sweep_plan *p, const char *act, uint64_t seed) {
    for (int r = 0; r < p->n_runs; r++) {
        const sweep_entry *e = &p->runs[r];
        if (has_exp(e, "E3") && e->cfg.seed == seed && !strcmp(act_desc_of(e->cfg.model.act.kind)->name, act)) return e;
    }
    return NULL;
}

// E6: nowhere but --full phase 2. There: swiglu, powlu and polynorm × seeds 1..8 (E3's), each once, at
// its own tuned dense rate, 8 experts top-2 with 1 shared and OLMoE's router, the active FFN parameters
// of the dense twin (plus the router and the experts' activation scalars), its length and telemetry.
static void test_e6_design(void **state) {
    (void)state;
    for (int k = SUITE_QUICK; k <= SUITE_FULL; k++)
        for (int phase = 1; phase <= 2; phase++) {
            int n = e6_runs((suite_kind)k, phase, 0), nl = e6_runs((suite_kind)k, phase, 1);
            if (k != SUITE_FULL || phase == 1) assert_int_equal(n + nl, 0);
            else assert_int_equal(n, SUITE_N_E6 * 8);
            if (k == SUITE_FULL && phase == 2) assert_int_equal(nl, 2 * 2 * 6 * 3);  // acts × fp8/ctl × rungs × seeds
        }
    suite_decisions d;
    decisions_at(&d, 0.005, 1);
    for (int a = 0; a < SUITE_N_E3; a++) d.lr[a] = 0.001 * (a + 1);  // a distinct tuned rate per activation
    sweep_plan p;
    load_plan(&p, SUITE_FULL, &d);
    for (int a = 0; a < SUITE_N_E6; a++)
        for (uint64_t seed = 1; seed <= 8; seed++) {
            const char *act = suite_e6_acts[a];
            const sweep_entry *e6 = NULL, *dense = e3_run(&p, act, seed);
            int found = 0;
            for (int r = 0; r < p.n_runs; r++) {
                const sweep_entry *e = &p.runs[r];
                if (has_exp(e, "E6") && !has_exp(e, "E6.E2") && e->cfg.seed == seed &&
                    !strcmp(act_desc_of(e->cfg.model.act.kind)->name, act))
                    e6 = e, found++;
            }
            if (found != 1 || !dense) fail_msg("E6 %s seed %d: %d runs, dense twin %s", act, (int)seed, found, dense ? "found" : "missing");
            const model_config *m = &e6->cfg.model;
            assert_int_equal(m->moe_experts, 8);
            assert_int_equal(m->moe_top_k, 2);
            assert_int_equal(m->moe_shared, 1);
            assert_int_equal(m->moe_router, MOE_SOFTMAX);
            assert_true(fabs(m->moe_aux_coef - 0.01) < 1e-9 && fabs(m->moe_z_coef - 0.001) < 1e-9);
            int t = 0;
            while (strcmp(suite_e3_acts[t], act)) t++;
            assert_true(fabs(e6->cfg.opt.lr - d.lr[t]) < 1e-6 * d.lr[t]);
            model_param_split s6, sd;
            model_param_split_of(m, &s6);
            model_param_split_of(&dense->cfg.model, &sd);
            size_t L = (size_t)m->n_layers, router = L * 8 * (size_t)m->d_model;
            size_t scalars = L * 3 * (size_t)act_desc_of(m->act.kind)->n_params;  // 3 active FFNs' scalars
            if (s6.ffn_active < sd.ffn || s6.ffn_active - sd.ffn > router + scalars)
                fail_msg("E6 %s: active FFN parameters %zu, dense %zu (router %zu)", act, s6.ffn_active, sd.ffn, router);
            assert_int_equal(e6->cfg.steps, dense->cfg.steps);
            assert_int_equal(e6->cfg.telemetry_interval, dense->cfg.telemetry_interval);
            assert_int_equal(e6->cfg.eval_interval, dense->cfg.eval_interval);
            assert_int_equal(e6->cfg.prec.precision, dense->cfg.prec.precision);  // the suite's bf16
        }
    // E6-E2: every (act, rung, seed) once in FP8 and once in the control, with the MoE FFN and E2's
    // run length and recipe.
    static const double LADDER[6] = {0.005, 0.01, 0.02, 0.04, 0.08, 0.16};
    static const char *const LACTS[2] = {"swiglu", "powlu"};
    long e2_steps = -1;
    for (int r = 0; r < p.n_runs; r++)
        if (has_exp(&p.runs[r], "E2.ctl")) e2_steps = p.runs[r].cfg.steps;
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < 6; i++)
            for (uint64_t seed = 1; seed <= 3; seed++)
                for (int ctl = 0; ctl < 2; ctl++) {
                    int found = 0;
                    for (int r = 0; r < p.n_runs; r++) {
                        const sweep_entry *e = &p.runs[r];
                        if (!has_exp(e, "E6.E2") || e->cfg.seed != seed || fabs(e->cfg.opt.lr - LADDER[i]) > 1e-6 * LADDER[i] ||
                            strcmp(act_desc_of(e->cfg.model.act.kind)->name, LACTS[a]) ||
                            (e->cfg.prec.precision == PREC_FP8) == ctl)
                            continue;
                        found++;
                        assert_int_equal(e->cfg.model.moe_experts, 8);
                        assert_int_equal(e->cfg.model.moe_hidden, suite_e6_expert_hidden(&e->cfg.model, LACTS[a]));
                        assert_int_equal(e->cfg.steps, e2_steps);
                        if (ctl) assert_int_equal(e->cfg.prec.precision, PREC_BF16);
                        else assert_true(e->cfg.prec.scaling == FP8_DELAYED && e->cfg.prec.amax_history == 1024);
                    }
                    if (found != 1) fail_msg("E6.E2 %s lr %g seed %d %s: %d runs", LACTS[a], LADDER[i], (int)seed,
                                             ctl ? "control" : "fp8", found);
                }
    sweep_plan_free(&p);
}

// ---- suite_decide on a hand-made phase-1 folder ------------------------------------------------

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void finish_run(const char *dir, const sweep_entry *e, const char *status, double val, int spike) {
    char rd[1100], path[1200], text[256];
    snprintf(rd, sizeof rd, "%s/runs/%s", dir, e->name);
    mkdir(rd, 0755);
    snprintf(path, sizeof path, "%s/metrics.jsonl", rd);
    snprintf(text, sizeof text, "{\"step\":1,\"loss\":5.0%s}\n{\"step\":2,\"loss\":4.0,\"val_loss\":%.6f}\n",
             spike ? ",\"spike\":{\"mean\":4,\"std\":0.1,\"k\":4}" : "", val);
    write_text(path, text);
    run_outcome o = {status, !strcmp(status, "done") ? 0 : 2, -1, -1};
    assert_int_equal(run_json_write(rd, e, &o), 0);
}

static void test_decide(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, test_seed(__func__));
    char dir[] = "/tmp/actlab_suite_XXXXXX", runs[64];
    assert_non_null(mkdtemp(dir));
    snprintf(runs, sizeof runs, "%s/runs", dir);
    mkdir(runs, 0755);
    sweep_plan p;
    load_plan(&p, SUITE_DEFAULT, NULL);
    suite_decisions d;
    char err[512];
    assert_int_equal(suite_decide(SUITE_DEFAULT, &p, dir, &d, err, sizeof err), -1);  // nothing finished
    assert_non_null(strstr(err, "has not finished"));
    // Tuning: a random best lr per activation (a diverged run with a lower loss must not win).
    // E2: swiglu stable on the first 2 rungs (the 3rd spikes), clip never, powlu everywhere.
    int best[SUITE_N_E3];
    for (int a = 0; a < SUITE_N_E3; a++) best[a] = (int)(rng_u64(&rng) % 3);
    for (int r = 0; r < p.n_runs; r++) {
        const sweep_entry *e = &p.runs[r];
        const char *act = act_desc_of(e->cfg.model.act.kind)->name;
        if (!strcmp(e->experiments[0], "tune")) {
            int a = 0, j = 0;
            while (strcmp(suite_e3_acts[a], act)) a++;
            for (double lr = 0.00125; fabs(lr - e->cfg.opt.lr) > 1e-9; lr *= 2) j++;
            int diverged = j == (best[a] + 1) % 3;
            finish_run(dir, e, diverged ? "diverged" : "done", j == best[a] ? 3.0 : diverged ? 2.0 : 3.5 - 0.1 * j, 0);
        } else if (!strcmp(e->experiments[0], "E2")) {
            int rung = (int)lround(log2(e->cfg.opt.lr / 0.005));
            int ok = !strcmp(act, "powlu") || (!strcmp(act, "swiglu") && rung < 2);
            finish_run(dir, e, ok || rung == 2 ? "done" : "diverged", 4.0, !ok && rung == 2);
        } else if (!strcmp(e->experiments[0], "E2.ctl")) {
            // Controls: swiglu's spikes at 0.04 and above, powlu's diverges at 0.08 only: the stress
            // rung is the largest where both are stable, 0.02 (powlu's 0.04 does not count alone).
            int rung = (int)lround(log2(e->cfg.opt.lr / 0.005));
            int sw_bad = !strcmp(act, "swiglu") && rung >= 3, pw_bad = !strcmp(act, "powlu") && rung == 4;
            finish_run(dir, e, pw_bad ? "diverged" : "done", 4.0, sw_bad);
        } else {
            finish_run(dir, e, "done", 4.0, 0);
        }
    }
    assert_int_equal(suite_decide(SUITE_DEFAULT, &p, dir, &d, err, sizeof err), 0);
    for (int a = 0; a < SUITE_N_E3; a++) assert_true(fabs(d.lr[a] - 0.00125 * (1 << best[a])) < 1e-8);
    assert_int_equal(d.e2_stable[0], 1);
    assert_int_equal(d.e2_stable[1], -1);
    assert_int_equal(d.e2_stable[2], 4);
    assert_true(fabs(d.stress_lr - 0.02) < 1e-12);
    sweep_plan_free(&p);
    // Phase 2 from these decisions: swiglu refined at 0.01, 0.01·√2, 0.02 with 3 seeds; powlu looked
    // for above the ladder (0.16, 0.32).
    load_plan(&p, SUITE_DEFAULT, &d);
    int refined = 0, above = 0;
    for (int r = 0; r < p.n_runs; r++) {
        const sweep_entry *e = &p.runs[r];
        if (!has_exp(e, "E2.swiglu") || e->cfg.prec.precision != PREC_FP8) continue;
        refined += fabs(e->cfg.opt.lr - 0.01 * sqrt(2.0)) < 1e-9 && e->cfg.seed == 3;
    }
    for (int r = 0; r < p.n_runs; r++)
        above += has_exp(&p.runs[r], "E2.powlu") && p.runs[r].cfg.opt.lr > 0.3;
    assert_int_equal(refined, 1);
    assert_true(above >= 2);  // fp8 and its control
    // The stress seeds: powlu and swiglu bf16 controls at 0.02, seeds 1-3.
    int stress = 0;
    for (int r = 0; r < p.n_runs; r++) {
        const sweep_entry *e = &p.runs[r];
        if (!has_exp(e, "E2.stress")) continue;
        assert_int_equal(e->cfg.prec.precision, PREC_BF16);
        assert_true(fabs(e->cfg.opt.lr - 0.02) < 1e-8);
        stress++;
    }
    assert_int_equal(stress, 2 * 3);
    sweep_plan_free(&p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ffn_share_every_model),
        cmocka_unit_test(test_e3_paired_seeds),
        cmocka_unit_test(test_e5_design),
        cmocka_unit_test(test_what_each_run_reads),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_e6_design),
        cmocka_unit_test(test_e7_design),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
