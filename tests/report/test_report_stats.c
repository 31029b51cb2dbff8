// test_report_stats.c — mean ± sd over seeds, series averaged over runs, the loss smoothing, the
// markdown-to-HTML subset, and the loader's error messages on hand-made folders.
#include "report/report_analyze.h"
#include "report/rp.h"
#include "report/rp_html.h"
#include "test_seed.h"
#include "test_tmp.h"
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

static void test_stat(void **state) {
    (void)state;
    double x[5] = {1, 2, NAN, 4, 5};
    rp_stat s = rp_stat_of(x, 5);
    assert_int_equal(s.n, 4);
    assert_true(fabs(s.mean - 3) < 1e-15);
    assert_true(fabs(s.sd - sqrt(10.0 / 3)) < 1e-15);   // sample sd: sum of squares 10 over n-1 = 3
    s = rp_stat_of(x, 1);
    assert_int_equal(s.n, 1);
    assert_true(s.mean == 1 && isnan(s.sd));
    s = rp_stat_of(x + 2, 1);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean));
}

// Against a direct two-pass computation on fresh random values.
static void test_stat_random(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_report_stats stat"));
    for (int t = 0; t < 50; t++) {
        int n = 2 + (int)(rng_u64(&r) % 20);
        double x[32], sum = 0, ss = 0;
        for (int i = 0; i < n; i++) x[i] = 3 + 0.1 * rng_normal(&r), sum += x[i];
        for (int i = 0; i < n; i++) ss += (x[i] - sum / n) * (x[i] - sum / n);
        rp_stat s = rp_stat_of(x, (size_t)n);
        assert_true(fabs(s.mean - sum / n) < 1e-12);
        assert_true(fabs(s.sd - sqrt(ss / (n - 1))) < 1e-12);
    }
}

static void test_mean_series(void **state) {
    (void)state;
    rp_pt a[3] = {{1, 4.0}, {2, 3.0}, {3, NAN}}, b[2] = {{2, 5.0}, {3, 1.0}};
    const rp_pt *ser[2] = {a, b};
    size_t ns[2] = {3, 2};
    rp_pt *out;
    size_t n = rp_mean_series(ser, ns, 2, &out);
    assert_int_equal(n, 3);
    assert_true(out[0].step == 1 && out[0].v == 4.0);
    assert_true(out[1].step == 2 && out[1].v == 4.0);
    assert_true(out[2].step == 3 && out[2].v == 1.0);   // the NAN is left out, not averaged in
    free(out);
}

static void test_ema(void **state) {
    (void)state;
    rp_pt p[4] = {{1, 2}, {2, 2}, {3, 2}, {4, 6}};
    rp_ema(p, 4, 0.9);
    for (int i = 0; i < 3; i++) assert_true(fabs(p[i].v - 2) < 1e-12);   // bias-corrected: no ramp from 0
    assert_true(p[3].v > 2 && p[3].v < 6);
}

static void test_html(void **state) {
    (void)state;
    const char *md = "# T\n\npara `x<y` one\nline two\n\n- a & b\n- c\n\n| h1 | h2 |\n|---|---|\n| 1 | **2** |\n\n"
                     "_note_\n\n**warn `a**b`** open **x\n";
    rp_buf out = {0};
    char err[256];
    assert_int_equal(rp_html("/nonexistent", md, &out, err, sizeof err), 0);
    assert_non_null(strstr(out.p, "<h1>T</h1>"));
    assert_non_null(strstr(out.p, "<p>para <code>x&lt;y</code> one\nline two</p>"));
    assert_non_null(strstr(out.p, "<ul>\n<li>a &amp; b</li>\n<li>c</li>\n</ul>"));
    assert_non_null(strstr(out.p, "<tr><th>h1</th><th>h2</th></tr>"));
    assert_non_null(strstr(out.p, "<tr><td>1</td><td><strong>2</strong></td></tr>"));
    assert_non_null(strstr(out.p, "<strong>warn <code>a**b</code></strong> open <strong>x</strong>"));
    assert_non_null(strstr(out.p, "<em>note</em>"));
    rp_buf_free(&out);
    // a figure that is not there is an error naming it
    assert_int_equal(rp_html("/nonexistent", "![c](figures/x.svg)\n", &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/figures/x.svg"));
    rp_buf_free(&out);
}

static void put(const char *dir, const char *name, const char *text) {
    assert_int_equal(test_write_file(dir, name, text), 0);
}

// The folder dir/runs/<name> (path in sub) with its run.json and config.json.
static void put_run(char *sub, size_t cap, const char *dir, const char *name, const char *run, const char *config) {
    snprintf(sub, cap, "%s/runs", dir), mkdir(sub, 0777);
    snprintf(sub, cap, "%s/runs/%s", dir, name), mkdir(sub, 0777);
    put(sub, "run.json", run);
    put(sub, "config.json", config);
}

static void test_load(void **state) {
    (void)state;
    char dir[256], sub[600], err[1024];
    test_tmpdir(dir, sizeof dir, "rptest");
    rp_sweep s;
    assert_int_equal(rp_load(dir, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "plan.json"));
    put(dir, "plan.json", "{\"version\":1,\"runs\":[{\"name\":\"a\",\"dir\":\"runs/a\",\"experiments\":[\"E3\",\"E1\"],"
                          "\"steps\":4},{\"name\":\"b\",\"experiments\":[\"E9\"]}]}");
    assert_int_equal(rp_load(dir, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "E1..E7"));
    put(dir, "plan.json", "{\"version\":1,\"name\":\"t\",\"runs\":[{\"name\":\"a\",\"dir\":\"runs/a\",\"experiments\":"
                          "[\"E3\",\"E1\"],\"steps\":4},{\"name\":\"b\",\"experiments\":[\"E2\"],\"steps\":4}]}");
    put_run(sub, sizeof sub, dir, "a", "{\"status\":\"done\",\"steps_done\":4,\"n_params\":100,\"n_params_nonembed\":40}",
            "{\"act\":\"powlu\",\"act_hyper\":{\"m\":2.0},\"lr\":0.01,\"seed\":3}");
    put(sub, "metrics.jsonl",
        "{\"step\":1,\"loss\":4.0}\n"
        "{\"step\":2,\"loss\":3.5,\"layers\":[{\"layer\":0,\"act_out\":{\"min\":-1,\"max\":2,\"amax\":2,\"p1\":-0.5,"
        "\"p99\":0.5}},{\"layer\":1,\"act_out\":{\"min\":-3,\"max\":1,\"amax\":3,\"p1\":-0.2,\"p99\":0.7}}],"
        "\"val_loss\":3.6,\"spike\":{\"k\":4}}\n"
        "{\"step\":3,\"loss\":null,\"lowp\":{\"n\":10,\"sat\":1,\"ftz\":2}}\n"
        "{\"step\":4,\"loss\":3.0,\"val_loss\":3.25,\"lowp\":{\"n\":10,\"sat\":0,\"ftz\":3}}\n");
    assert_int_equal(rp_load(dir, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    const rp_run *a = &s.runs[0], *b = &s.runs[1];
    assert_string_equal(s.name, "t");
    assert_true(a->finished && !b->finished);
    assert_string_equal(b->status, "not finished");
    assert_true(rp_in_exp(a, 1) && rp_in_exp(a, 3) && !rp_in_exp(a, 2) && !rp_in_exp(b, 2));
    assert_true(a->m == 2.0 && a->lr == 0.01 && a->seed == 3 && a->n_params_nonembed == 40);
    assert_false(rp_is_fp8(a));
    assert_int_equal(a->n_loss, 4);
    assert_true(isnan(a->loss[2].v));
    assert_true(a->final_loss == 3.0 && a->final_val == 3.25);
    assert_int_equal(a->n_tele, 1);
    const rp_band *bd = &a->tele[0].b[RP_ACT_OUT];
    assert_true(bd->lo == -3 && bd->hi == 2 && bd->p1 == -0.5 && bd->p99 == 0.7 && bd->amax == 3);
    assert_false(a->tele[0].has[RP_GRAD_GATE]);
    assert_int_equal(a->n_spikes, 1);
    assert_true(a->has_lowp && a->lowp_n == 20 && a->lowp_sat == 1 && a->lowp_ftz == 5);
    rp_free(&s);
    // a bad line is reported with its file and line number
    put(sub, "metrics.jsonl", "{\"step\":1,\"loss\":4.0}\n{\"step\":2,\"loss\":\n");
    assert_int_equal(rp_load(dir, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "runs/a/metrics.jsonl:2: "));
    put(sub, "metrics.jsonl", "{\"loss\":4.0}\n");
    assert_int_equal(rp_load(dir, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "metrics.jsonl:1: missing integer \"step\""));
    assert_int_equal(test_rmtree(dir), 0);
}

// The experiment ids of the redesigned suite: "E<k>" with an optional ".suffix", and "tune".
static void test_exp_ids(void **state) {
    (void)state;
    assert_int_equal(rp_exp_bit("E1"), 1u);
    assert_int_equal(rp_exp_bit("E2.ctl"), 2u);
    assert_int_equal(rp_exp_bit("e3.polynorm"), 4u);
    assert_int_equal(rp_exp_bit("tune"), RP_EXP_TUNE);
    assert_int_equal(rp_exp_bit("E2."), 0u);     // a dot needs a suffix
    assert_int_equal(rp_exp_bit("E23"), 0u);
    assert_int_equal(rp_exp_bit("E7.norht"), 64u);  // E7: 4-bit formats (issue 14)
    assert_int_equal(rp_exp_bit("E8"), 0u);
    assert_int_equal(rp_exp_bit("tuning"), 0u);
    assert_int_equal(rp_exp_bit(NULL), 0u);
}

// The keys of the new telemetry (p50/p999, rms, kurtosis, weight gradients, z), the new config keys and
// the lowp per-tensor counts of the down-projection input, on hand-written lines; the band width and
// amax/RMS are the max over layers of each layer's own value (not the width of the merged band).
static void test_load_new_keys(void **state) {
    (void)state;
    char dir[256], sub[600], err[1024];
    test_tmpdir(dir, sizeof dir, "rptest");
    put(dir, "plan.json", "{\"version\":1,\"runs\":[{\"name\":\"a\",\"dir\":\"runs/a\",\"experiments\":"
                          "[\"E2.h16\",\"tune\"],\"steps\":4}]}");
    put_run(sub, sizeof sub, dir, "a", "{\"status\":\"done\",\"steps_done\":4,\"n_params\":100,\"n_params_nonembed\":40}",
            "{\"act\":\"swiglu\",\"lr\":0.01,\"seed\":3,\"precision\":\"fp8\",\"fp8_scaling\":"
            "\"delayed\",\"amax_history\":16,\"vocab_size\":300,\"n_heads\":4,\"n_kv_heads\":2,"
            "\"tied_embeddings\":1,\"steps\":4}");
    put(sub, "metrics.jsonl",
        "{\"step\":2,\"loss\":3.5,\"layers\":["
        "{\"layer\":0,\"act_out\":{\"min\":-1,\"max\":2,\"amax\":2,\"p1\":-0.5,\"p50\":0,\"p99\":0.5,\"p999\":1,"
        "\"rms\":0.5,\"kurtosis\":3},\"wgrad_up\":{\"p1\":-1,\"p99\":3,\"amax\":4,\"rms\":1},"
        "\"z\":{\"p50\":0.1,\"p99\":2,\"p999\":3,\"max\":5,\"gt4\":0.001,\"gt_peak\":0}},"
        "{\"layer\":1,\"act_out\":{\"min\":-3,\"max\":1,\"amax\":3,\"p1\":-0.2,\"p99\":0.7,\"rms\":2,"
        "\"kurtosis\":null},\"z\":{\"p50\":0.2,\"p99\":1,\"p999\":4,\"max\":13,\"gt4\":0.0005,\"gt_peak\":1e-5}}],"
        "\"lowp\":{\"n\":10,\"sat\":1,\"ftz\":2,\"tensors\":[{\"name\":\"L0.ffn_down.x\",\"n\":4,\"sat\":1,\"ftz\":1},"
        "{\"name\":\"L0.ffn_down.w\",\"n\":4,\"sat\":5,\"ftz\":5},{\"name\":\"L1.ffn_down.x\",\"n\":6,\"sat\":0,"
        "\"ftz\":2}]}}\n"
        "{\"step\":4,\"loss\":3.0,\"lowp\":{\"n\":10,\"sat\":0,\"ftz\":3}}\n");
    rp_sweep s;
    assert_int_equal(rp_load(dir, &s, err, sizeof err), 0);
    const rp_run *a = &s.runs[0];
    assert_true(rp_in_exp(a, 2) && rp_is_tune(a) && !rp_in_exp(a, 1));
    assert_true(rp_is_fp8(a) && a->amax_history == 16 && a->vocab_size == 300 && a->n_kv_heads == 2 && a->tied == 1);
    assert_int_equal(a->steps_cfg, 4);
    const rp_tele *t = &a->tele[0];
    const rp_band *b = &t->b[RP_ACT_OUT];
    assert_true(fabs(b->width - 1.0) < 1e-12);          // layer 0: 0.5 - (-0.5) = 1; layer 1: 0.9
    assert_true(fabs(b->crest - 4.0) < 1e-12);          // layer 0: 2 / 0.5 = 4; layer 1: 3 / 2 = 1.5
    assert_true(b->kurt == 3);                          // a null kurtosis is left out
    assert_true(t->has[RP_WGRAD_UP] && !t->has[RP_WGRAD_GATE] && t->b[RP_WGRAD_UP].width == 4);
    assert_true(t->has_z && t->z.max == 13 && t->z.p999 == 4 && t->z.gt4 == 0.001 && t->z.gt_peak == 1e-5);
    assert_true(a->has_down && a->down_n == 10 && a->down_sat == 1 && a->down_ftz == 3);   // ffn_down.w left out
    assert_true(a->lowp_n == 20 && a->lowp_sat == 1 && a->lowp_ftz == 5);
    rp_free(&s);
    assert_int_equal(test_rmtree(dir), 0);
}

// Block formats (E7): precision and rht from config.json, and the down-projection inputs' "blk"
// telemetry summed over layers and telemetry steps, fractions weighted back into counts (blocks for
// outlier_frac, elements for zero_frac, sat_frac, rel_err); other tensors' "blk" left out.
static void test_load_block_keys(void **state) {
    (void)state;
    char dir[256], sub[600], err[1024];
    test_tmpdir(dir, sizeof dir, "rptest");
    put(dir, "plan.json", "{\"version\":1,\"runs\":[{\"name\":\"b\",\"dir\":\"runs/b\",\"experiments\":"
                          "[\"E7.norht\"],\"steps\":4}]}");
    put_run(sub, sizeof sub, dir, "b", "{\"status\":\"done\",\"steps_done\":4}",
            "{\"act\":\"powlu\",\"lr\":0.01,\"seed\":1,\"precision\":\"nvfp4\",\"rht\":0}");
    put(sub, "metrics.jsonl",
        "{\"step\":2,\"loss\":3.5,\"lowp\":{\"n\":10,\"sat\":0,\"ftz\":2,\"tensors\":["
        "{\"name\":\"L0.ffn_down.x\",\"n\":64,\"sat\":0,\"ftz\":8,\"blk\":{\"n\":64,\"blocks\":4,"
        "\"outlier_frac\":0.25,\"zero_frac\":0.125,\"sat_frac\":0,\"rel_err\":0.5}},"
        "{\"name\":\"L0.ffn_down.w\",\"n\":64,\"blk\":{\"n\":64,\"blocks\":1,\"outlier_frac\":1,"
        "\"zero_frac\":1,\"sat_frac\":1,\"rel_err\":1}},"
        "{\"name\":\"L1.ffn_down.x\",\"n\":32,\"sat\":1,\"ftz\":0,\"blk\":{\"n\":32,\"blocks\":2,"
        "\"outlier_frac\":0.5,\"zero_frac\":0,\"sat_frac\":0.03125,\"rel_err\":0.25}}]}}\n");
    rp_sweep s;
    assert_int_equal(rp_load(dir, &s, err, sizeof err), 0);
    const rp_run *b = &s.runs[0];
    assert_true(rp_in_exp(b, 7) && rp_is_4bit(b) && !rp_is_fp8(b) && b->rht == 0);
    assert_true(b->has_down_blk && b->down_blocks == 6 && b->down_outlier == 2 && b->down_bn == 96);
    assert_true(b->down_zero == 8 && b->down_bsat == 1 && b->down_err == 40);
    rp_free(&s);
    assert_int_equal(test_rmtree(dir), 0);
}

static rp_run split_run(const char *act, long d, long L, long heads, long kv, long V, long tied, long n_params) {
    rp_run r = {0};
    snprintf(r.act, sizeof r.act, "%s", act);
    r.d_model = d, r.n_layers = L, r.n_heads = heads, r.n_kv_heads = kv, r.vocab_size = V, r.tied = tied;
    r.n_params = n_params;
    return r;
}

// The parameter split against the trainer's own counts (n_params of real runs: the compare-quick suite,
// the e2e test's tiny models) and one grouped-query case by hand.
static void test_param_split(void **state) {
    (void)state;
    rp_split sp;
    rp_run r = split_run("swiglu", 64, 2, 2, 2, 1024, 1, 172352);
    rp_param_split(&r, &sp);
    assert_true(sp.ok && sp.matches == 1);
    assert_true(sp.embed == 65536 && sp.attn == 32768 && sp.ffn == 73728 && sp.other == 320);
    r = split_run("polynorm", 64, 2, 2, 2, 1024, 1, 172360);   // + 4 scalars per layer
    rp_param_split(&r, &sp);
    assert_true(sp.matches == 1 && sp.ffn == 73736);
    r = split_run("gelu", 32, 1, 2, 2, 300, 0, 35680);         // non-gated, 3/2 the hidden size; untied head
    rp_param_split(&r, &sp);
    assert_true(sp.matches == 1 && sp.embed == 19200 && sp.ffn == 12288);
    // d 64, 4 heads of 16, 1 kv head: q, o 64·64 each, k, v 16·64 each; one layer.
    r = split_run("swiglu", 64, 1, 4, 1, 100, 1, 0);
    rp_param_split(&r, &sp);
    assert_true(sp.attn == 2 * 4096 + 2 * 1024 && sp.matches == 0);
    r = split_run("nosuchact", 64, 1, 4, 1, 100, 1, -1);
    rp_param_split(&r, &sp);
    assert_false(sp.ok);
    r = split_run("swiglu", 64, 1, 4, 1, 100, -1, -1);          // tied_embeddings unknown: not computable
    rp_param_split(&r, &sp);
    assert_false(sp.ok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat), cmocka_unit_test(test_stat_random), cmocka_unit_test(test_mean_series),
        cmocka_unit_test(test_ema),  cmocka_unit_test(test_html),        cmocka_unit_test(test_load),
        cmocka_unit_test(test_exp_ids), cmocka_unit_test(test_load_new_keys), cmocka_unit_test(test_load_block_keys), cmocka_unit_test(test_param_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
