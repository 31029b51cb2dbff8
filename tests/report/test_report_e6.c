// test_report_e6.c — E6 (issue 11) from synthetic run folders through the loader, the analysis and the
// report: MoE telemetry ("moe": act_out, shared_act_out per layer) becomes E1's band widths of the
// routed and shared experts; E6-E3 pairs the final validation losses by seed; a clear design gives
// "reproduced" for every E6 claim, a noisy one "inconclusive"; the section and its verdict lines
// appear only with E6 runs; E6-E2's FP8 ladders judged by E2's rule (and left out of E6-E1/E3); the
// parameter split of an MoE model equals the model's own count.
#include "model/model.h"
#include "report/rp_md.h"
#include "test_tmp.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#define SEEDS 4
#define STEPS 100
#define N_BOOT 400   // enough for the bootstrap beside the t interval; the verdicts use the t interval

// A planted design: per seed, PolyNorm's and PowLU's final val loss minus SwiGLU's, and PowLU's band
// widths (routed, shared) over SwiGLU's.
typedef struct {
    double d_polynorm[SEEDS], d_powlu[SEEDS], r_routed[SEEDS], r_shared[SEEDS];
} design;

static const design CLEAR = {
    {-0.100, -0.103, -0.099, -0.100}, {0.001, -0.002, 0.0015, -0.0005},
    {0.204, 0.194, 0.202, 0.198},     {0.306, 0.291, 0.303, 0.297},
};
static const design NOISY = {
    {-0.2, 0.15, -0.05, 0.08}, {0.1, -0.12, 0.03, -0.06}, {0.1, 1.5, 0.4, 2.0}, {0.2, 1.8, 0.5, 1.1},
};

static void put(const char *dir, const char *name, const char *text) {
    assert_int_equal(test_write_file(dir, name, text), 0);
}

// The tiny MoE model every planted run claims to be (4 experts, top-2, 1 shared, expert width 8).
static void moe_model(const char *act, model_config *c) {
    model_config_default(c);
    c->vocab_size = 16, c->d_model = 8, c->n_layers = 2, c->n_heads = c->n_kv_heads = 2, c->tied_embeddings = 1;
    c->moe_experts = 4, c->moe_top_k = 2, c->moe_shared = 1, c->moe_hidden = 8;
    assert_int_equal(act_spec_init(&c->act, act), 0);
}

// One layer's statistics of a tensor with P1–P99 band width w (centred).
static void stats(char *out, size_t n, double w) {
    snprintf(out, n, "{\"min\":%.6g,\"max\":%.6g,\"p1\":%.6g,\"p99\":%.6g,\"amax\":%.6g,\"rms\":%.6g,\"kurtosis\":3}",
             -w, w, -w / 2, w / 2, w, w / 4);
}

// A finished E6 run: telemetry at two late steps (two layers, the widths routed and shared; the
// second layer narrower, so the max over layers is what counts), then the final validation loss.
static void write_run(const char *dir, const char *name, const char *act, long seed, double val, double routed,
                      double shared) {
    char rd[1100], text[2048], a[256], b[256], a2[256], b2[256];
    snprintf(rd, sizeof rd, "%s/runs/%s", dir, name);
    assert_int_equal(mkdir(rd, 0755), 0);
    model_config c;
    moe_model(act, &c);
    model_param_split sp;
    model_param_split_of(&c, &sp);
    snprintf(text, sizeof text, "{\"status\":\"done\",\"steps_done\":%d,\"n_params\":%zu,\"n_params_nonembed\":%zu}", STEPS,
             sp.total, sp.total - sp.embeddings);
    put(rd, "run.json", text);
    snprintf(text, sizeof text,
             "{\"act\":\"%s\",\"lr\":0.002,\"seed\":%ld,\"d_model\":8,\"n_layers\":2,\"n_heads\":2,\"n_kv_heads\":2,"
             "\"vocab_size\":16,\"tied_embeddings\":1,\"steps\":%d,\"batch\":4,\"seq\":8,\"precision\":\"fp32\","
             "\"moe_experts\":4,\"moe_top_k\":2,\"moe_shared\":1,\"moe_hidden\":8,\"moe_router\":\"softmax\","
             "\"moe_aux_coef\":0.01,\"moe_z_coef\":0.001}",
             act, seed, STEPS);
    put(rd, "config.json", text);
    stats(a, sizeof a, routed), stats(b, sizeof b, shared), stats(a2, sizeof a2, routed / 2), stats(b2, sizeof b2, shared / 3);
    size_t k = 0;
    k += (size_t)snprintf(text + k, sizeof text - k, "{\"step\":10,\"loss\":4.0}\n");
    for (int step = 60; step <= 80; step += 20)
        k += (size_t)snprintf(text + k, sizeof text - k,
                              "{\"step\":%d,\"loss\":3.5,\"layers\":[{\"layer\":0,\"moe\":{\"tokens\":[0.25,0.25,0.25,"
                              "0.25],\"lb_loss\":2.0,\"z_loss\":0.1,\"act_out\":%s,\"shared_act_out\":%s}},{\"layer\":1,"
                              "\"moe\":{\"act_out\":%s,\"shared_act_out\":%s}}]}\n",
                              step, a, b, a2, b2);
    snprintf(text + k, sizeof text - k, "{\"step\":%d,\"loss\":3.2,\"val_loss\":%.6f}\n", STEPS, val);
    put(rd, "metrics.jsonl", text);
}

// A sweep folder's runs/ made, and the head of its plan.json (named name) written into plan; returns
// its length.
static size_t plan_begin(const char *dir, const char *name, char *plan, size_t cap) {
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/runs", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    return (size_t)snprintf(plan, cap, "{\"version\":1,\"name\":\"%s\",\"runs\":[", name);
}

// A sweep folder with swiglu, powlu and polynorm E6 runs of design d, seeds 1..SEEDS; the seed sets
// the level (pairing must remove it). tag: the experiment id prefix ("E6", or "E3" for none).
static void plant(const char *dir, const design *d, const char *tag) {
    static const char *const ACTS[] = {"swiglu", "powlu", "polynorm"};
    char plan[8192], name[64];
    size_t k = plan_begin(dir, "e6", plan, sizeof plan);
    int n = 0;
    for (int a = 0; a < 3; a++)
        for (int s = 0; s < SEEDS; s++) {
            double level = 3.0 + 0.05 * s, w = 10 * (1 + 0.1 * s);
            double val = level + (a == 1 ? d->d_powlu[s] : a == 2 ? d->d_polynorm[s] : 0);
            double routed = a == 1 ? w * d->r_routed[s] : w, shared = a == 1 ? 2 * w * d->r_shared[s] : 2 * w;
            snprintf(name, sizeof name, "%s.%s-seed%d", tag, ACTS[a], s + 1);
            write_run(dir, name, ACTS[a], s + 1, val, routed, shared);
            k += (size_t)snprintf(plan + k, sizeof plan - k, "%s{\"name\":\"%s\",\"dir\":\"runs/%s\",\"experiments\":"
                                  "[\"%s.%s\"],\"steps\":%d}", n++ ? "," : "", name, name, tag, ACTS[a], STEPS);
        }
    snprintf(plan + k, sizeof plan - k, "]}\n");
    put(dir, "plan.json", plan);
}

// E6-E2: PowLU's and SwiGLU's FP8 ladders with experts and their bf16 controls, seeds 1-3 at 0.01 …
// 0.08. SwiGLU's FP8 runs fail from 0.04 while its control holds there; PowLU's FP8 runs hold to 0.04
// and fail at 0.08 with its control: PowLU's FP8 limit is higher, SwiGLU's failure is FP8's.
// flip: SwiGLU's control fails at 0.04 too (the failure is then not FP8's: inconclusive).
static int ladder_unstable(int powlu, int ctl, double lr, int flip) {
    if (powlu) return lr > 0.05;
    return ctl ? (lr > 0.05 || (flip && lr > 0.03)) : lr > 0.03;
}

static void write_ladder_run(const char *dir, const char *name, const char *act, int ctl, double lr, long seed,
                             int unstable) {
    char rd[1100], text[1024];
    snprintf(rd, sizeof rd, "%s/runs/%s", dir, name);
    assert_int_equal(mkdir(rd, 0755), 0);
    snprintf(text, sizeof text, "{\"status\":\"%s\",\"steps_done\":%d,\"n_params\":1000,\"n_params_nonembed\":900}",
             unstable ? "diverged" : "done", unstable ? STEPS / 2 : STEPS);
    put(rd, "run.json", text);
    snprintf(text, sizeof text,
             "{\"act\":\"%s\",\"lr\":%g,\"seed\":%ld,\"d_model\":8,\"n_layers\":2,\"n_heads\":2,\"n_kv_heads\":2,"
             "\"vocab_size\":16,\"tied_embeddings\":1,\"steps\":%d,\"batch\":4,\"seq\":8,\"precision\":\"%s\","
             "\"fp8_scaling\":\"delayed\",\"amax_history\":1024,\"moe_experts\":4,\"moe_top_k\":2,\"moe_shared\":1,"
             "\"moe_hidden\":8}",
             act, lr, seed, STEPS, ctl ? "bf16" : "fp8");
    put(rd, "config.json", text);
    snprintf(text, sizeof text, "{\"step\":10,\"loss\":4.0}\n{\"step\":%d,\"loss\":3.2,\"val_loss\":3.3}\n",
             unstable ? STEPS / 2 : STEPS);
    put(rd, "metrics.jsonl", text);
}

static void plant_ladder(const char *dir, int flip) {
    static const double LR[4] = {0.01, 0.02, 0.04, 0.08};
    static const char *const ACTS[2] = {"swiglu", "powlu"};
    char plan[16384], name[96];
    size_t k = plan_begin(dir, "e6e2", plan, sizeof plan);
    int n = 0;
    for (int a = 0; a < 2; a++)
        for (int ctl = 0; ctl < 2; ctl++)
            for (int i = 0; i < 4; i++)
                for (int seed = 1; seed <= 3; seed++) {
                    snprintf(name, sizeof name, "E6.E2.%s%s-lr%g-seed%d", ACTS[a], ctl ? ".ctl" : "", LR[i], seed);
                    write_ladder_run(dir, name, ACTS[a], ctl, LR[i], seed, ladder_unstable(a, ctl, LR[i], flip));
                    k += (size_t)snprintf(plan + k, sizeof plan - k,
                                          "%s{\"name\":\"%s\",\"dir\":\"runs/%s\",\"experiments\":[\"E6.E2.%s%s\"],"
                                          "\"steps\":%d}", n++ ? "," : "", name, name, ACTS[a], ctl ? ".ctl" : "", STEPS);
                }
    snprintf(plan + k, sizeof plan - k, "]}\n");
    put(dir, "plan.json", plan);
}

static rp_analysis *load(const char *dir, rp_sweep *s) {
    char err[1024];
    if (rp_load(dir, s, err, sizeof err)) fail_msg("%s", err);
    rp_analysis *a = malloc(sizeof *a);
    rp_analyze_n(s, a, N_BOOT);
    return a;
}

static void expect(const design *d, rp_verdict want) {
    char dir[256];
    test_tmpdir(dir, sizeof dir, "e6");
    plant(dir, d, "E6");
    rp_sweep s;
    rp_analysis *a = load(dir, &s);
    const rp_e6 *e = &a->e6;
    printf("E6-E3 polynorm − swiglu %+.4f [%+.4f, %+.4f]: %s; powlu − swiglu TOST [%+.4f, %+.4f]: %s; E6-E1 routed "
           "%.3f [%.3f, %.3f], shared %.3f [%.3f, %.3f]: %s\n",
           e->polynorm.c.diff, e->polynorm.c.lo, e->polynorm.c.hi, rp_verdict_name(e->polynorm.v), e->powlu_tost.lo,
           e->powlu_tost.hi, rp_verdict_name(e->powlu.v), e->e1_powlu[0].est, e->e1_powlu[0].lo, e->e1_powlu[0].hi,
           e->e1_powlu[1].est, e->e1_powlu[1].lo, e->e1_powlu[1].hi, rp_verdict_name(e->e1_v));
    assert_int_equal(e->n_runs, 3 * SEEDS);
    assert_int_equal(e->n_lowp, 0);
    assert_int_equal(e->experts, 4);
    assert_int_equal(e->polynorm.n_pairs, SEEDS);
    assert_int_equal(e->powlu.n_pairs, SEEDS);
    assert_int_equal(e->e1_powlu[0].n_pairs, SEEDS);
    assert_int_equal(e->e1_powlu[1].n_pairs, SEEDS);
    // The planted widths come back: SwiGLU seed 1 routed 10, shared 20 (layer 0, the wider one).
    assert_true(fabs(e->e1[0].run[0].q[RP_Q_MOE] - 10) < 1e-9 && fabs(e->e1[0].run[0].q[RP_Q_MOE_SHARED] - 20) < 1e-9);
    double mean = 0;
    for (int i = 0; i < SEEDS; i++) mean += d->d_polynorm[i] / SEEDS;
    assert_true(fabs(e->polynorm.c.diff - mean) < 1e-6);   // the seed levels cancel in the pairs
    assert_true(fabs(e->polynorm.paper - (2.341 - 2.355)) < 1e-12);
    assert_int_equal(e->polynorm.v, want);
    assert_int_equal(e->powlu.v, want);
    assert_int_equal(e->e1_v, want);
    // The dense claims see none of these runs.
    assert_int_equal(a->n_e1, 0);
    assert_int_equal(a->n_e3, 0);
    free(a);
    rp_free(&s);
    test_rmtree(dir);
}

static void test_e6_clear(void **state) { (void)state, expect(&CLEAR, RP_REPRODUCED); }
static void test_e6_noisy(void **state) { (void)state, expect(&NOISY, RP_INCONCLUSIVE); }

// The section and the verdict lines with E6 runs; without them, no section and "E6: not run".
static void test_e6_report(void **state) {
    (void)state;
    char dir[256];
    test_tmpdir(dir, sizeof dir, "e6md");
    plant(dir, &CLEAR, "E6");
    rp_sweep s;
    rp_analysis *a = load(dir, &s);
    rp_buf md = {0};
    rp_ctx c = {.s = &s, .a = a, .md = &md};
    rp_md_overview(&c);
    rp_md_verdicts(&c);
    rp_md_e6(&c);
    assert_non_null(md.p);
    static const char *const WANT[] = {
        "| MoE 4×8, top-2, 1 shared |", "- E6-E1: reproduced — ", "- E6-E2: not run — no E6 ladder runs",
        "- E6-E3 (PolyNorm): reproduced — ", "- E6-E3 (PowLU): reproduced — ", "## 10. E6",
        "### E6-E2: FP8 stability with MoE", "No E6 ladder runs (tagged E6.E2)", "| polynorm − swiglu | 4 |",
        "| powlu / swiglu | routed experts' down-projection input | 4 |",
    };
    for (size_t i = 0; i < sizeof WANT / sizeof WANT[0]; i++)
        if (!strstr(md.p, WANT[i])) fail_msg("the report lacks \"%s\"", WANT[i]);
    assert_null(strstr(md.p, "| **no** |"));   // the split of every MoE model equals its n_params
    assert_null(strstr(md.p, "- E6: not run"));
    rp_buf_free(&md);
    free(a);
    rp_free(&s);
    test_rmtree(dir);

    test_tmpdir(dir, sizeof dir, "e6none");
    plant(dir, &CLEAR, "E3");   // the same runs, tagged E3 only
    a = load(dir, &s);
    rp_buf none = {0};
    c = (rp_ctx){.s = &s, .a = a, .md = &none};
    rp_md_verdicts(&c);
    rp_md_e6(&c);
    assert_non_null(strstr(none.p, "- E6: not run — "));
    assert_null(strstr(none.p, "## 10. E6"));
    assert_int_equal(a->e6.n_runs, 0);
    rp_buf_free(&none);
    free(a);
    rp_free(&s);
    test_rmtree(dir);
}

static void test_e6_ladder(void **state) {
    (void)state;
    for (int flip = 0; flip < 2; flip++) {
        char dir[256];
        test_tmpdir(dir, sizeof dir, "e6e2");
        plant_ladder(dir, flip);
        rp_sweep s;
        rp_analysis *a = load(dir, &s);
        const rp_e6 *e = &a->e6;
        printf("E6-E2 (%s): %s — %s\n", flip ? "control fails too" : "FP8's failure", rp_verdict_name(e->e2_v), e->e2_why);
        assert_int_equal(e->n_e2_runs, 2 * 2 * 4 * 3);
        assert_int_equal(e->n_runs, 2 * 2 * 4 * 3);
        assert_int_equal(e->n_lowp, 0);   // the ladders' FP8 runs are judged, not just listed
        assert_int_equal(e->n_val, 0);    // and E6-E1/E3 leave them out
        assert_int_equal(e->e2_powlu.n, 4);
        assert_int_equal(e->e2_swiglu.r[2].unstable, 3);
        assert_int_equal(e->e2_swiglu.r[2].ctl_unstable, flip ? 3 : 0);
        assert_int_equal(e->e2_v, flip ? RP_INCONCLUSIVE : RP_REPRODUCED);
        assert_int_equal(a->n_e2, 0);     // the dense E2 sees none of them
        rp_buf md = {0};
        rp_ctx c = {.s = &s, .a = a, .md = &md};
        rp_md_verdicts(&c);
        rp_md_e6(&c);
        const char *want = flip ? "- E6-E2: inconclusive — " : "- E6-E2: reproduced — PowLU's limit is higher";
        if (!strstr(md.p, want)) fail_msg("the report lacks \"%s\"", want);
        assert_non_null(strstr(md.p, "| swiglu | delayed | 1024 | 0.04 | 3 / 3 |"));
        rp_buf_free(&md);
        free(a);
        rp_free(&s);
        test_rmtree(dir);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e6_ladder),
        cmocka_unit_test(test_e6_clear),
        cmocka_unit_test(test_e6_noisy),
        cmocka_unit_test(test_e6_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
