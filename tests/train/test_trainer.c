// test_trainer.c — real short training runs on a tiny model: the loss falls, telemetry is written,
// resume is bitwise exact, NaN steps are skipped, and repeated NaN stops cleanly.
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "testutil.h"
#include "trainfix.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "runio.h"

typedef run_fixture fixture;

static int setup(void **state) { return run_fixture_setup(state, "trainer"); }

// A tiny-model config whose run folder is <fixture>/<name>.
static void prepare(const fixture *f, const char *name, const char *act, train_config *c) {
    char out[400];
    snprintf(out, sizeof out, "%s/%s", f->dir, name);
    fix_config(c, f->data, out, act);
}

static void test_loss_falls_and_telemetry(void **state) {
    fixture *f = *state;
    train_config c;
    prepare(f, "run", "swiglu", &c);
    const char *out = c.out_dir;
    train_hooks h = {.quiet = 1};
    assert_int_equal(train_run(&c, NULL, &h), 0);
    json_t *m = read_metrics(out);
    assert_int_equal(json_array_size(m), 40);
    double first = json_real_value(json_object_get(json_array_get(m, 0), "loss"));
    json_t *lastline = json_array_get(m, 39);
    double val = json_real_value(json_object_get(lastline, "val_loss"));
    printf("loss %.4f at step 1 -> val_loss %.4f at step 40 (ln V = %.4f)\n", first, val, log(FIX_VOCAB));
    assert_true(fabs(first - log(FIX_VOCAB)) < 0.3);
    assert_true(val < first - 1.0);
    json_t *tele = json_array_get(m, 9);  // step 10
    json_t *layers = json_object_get(tele, "layers");
    assert_int_equal(json_array_size(layers), 2);
    json_t *l0 = json_array_get(layers, 0);
    json_t *act = json_object_get(l0, "act_out");
    assert_true(json_real_value(json_object_get(act, "p99")) > json_real_value(json_object_get(act, "p1")));
    assert_non_null(json_object_get(l0, "grad_gate"));
    // The weight gradients are the step's: the same values the model holds after its backward.
    json_t *wg = json_object_get(l0, "wgrad_up");
    assert_true(json_real_value(json_object_get(wg, "p999")) >= json_real_value(json_object_get(wg, "p99")));
    assert_true(json_real_value(json_object_get(wg, "rms")) > 0);
    assert_non_null(json_object_get(l0, "wgrad_gate"));
    // z quantiles are ordered and its fractions are fractions.
    json_t *z = json_object_get(l0, "z");
    double p50 = json_real_value(json_object_get(z, "p50")), p99 = json_real_value(json_object_get(z, "p99"));
    double p999 = json_real_value(json_object_get(z, "p999")), zmax = json_real_value(json_object_get(z, "max"));
    assert_true(p50 <= p99 && p99 <= p999 && p999 <= zmax);
    double gt4 = json_number_value(json_object_get(z, "gt4")), gtp = json_number_value(json_object_get(z, "gt_peak"));
    assert_true(gt4 >= 0 && gt4 <= 1 && gtp >= 0 && gtp <= gt4);
    assert_true(zmax > 4 || gt4 == 0);
    double cosv = json_number_value(json_object_get(l0, "gate_up_abs_cos"));
    assert_true(cosv > 0 && cosv < 1);
    assert_null(json_object_get(json_array_get(m, 10), "layers"));
    json_decref(m);
}

// Config c trained straight into its out_dir, then again into split with checkpoints every
// ckpt_interval steps, stopped after stop_after steps and resumed from the last checkpoint to the
// end: a = the straight run's final checkpoint, b = the resumed run's. c->out_dir ends as split.
static void straight_and_resumed(train_config *c, const char *split, int ckpt_interval, long stop_after, ckpt *a,
                                 ckpt *b) {
    char straight[TC_PATH], ck[600];
    snprintf(straight, sizeof straight, "%s", c->out_dir);
    train_hooks h = {.quiet = 1};
    assert_int_equal(train_run(c, NULL, &h), 0);
    snprintf(c->out_dir, sizeof c->out_dir, "%s", split);
    c->ckpt_interval = ckpt_interval;
    h.stop_after = stop_after;
    assert_int_equal(train_run(c, NULL, &h), 0);
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", split);
    h.stop_after = 0;
    assert_int_equal(train_run(c, ck, &h), 0);
    read_ckpt(straight, a);
    read_ckpt(split, b);
}

static void test_resume_is_bitwise(void **state) {
    fixture *f = *state;
    train_config c;
    char split[400];
    snprintf(split, sizeof split, "%s/split", f->dir);
    prepare(f, "straight", "powlu", &c);
    c.steps = c.sched.total_steps = 16;
    c.grad_accum = 2;
    c.eval_interval = 8;
    ckpt a, b;
    // interrupted after step 12: the resume restarts from the step-8 checkpoint
    straight_and_resumed(&c, split, 8, 12, &a, &b);
    assert_int_equal(a.meta.step, 16);
    assert_int_equal(b.meta.step, 16);
    size_t n = a.meta.n_params * sizeof(float);
    assert_memory_equal(a.params, b.params, n);
    assert_memory_equal(a.m, b.m, n);
    assert_memory_equal(a.v, b.v, n);
    assert_int_equal(a.meta.loader_pos, b.meta.loader_pos);
    assert_memory_equal(a.meta.loader_rng, b.meta.loader_rng, sizeof a.meta.loader_rng);
    ckpt_free(&a);
    ckpt_free(&b);
    json_t *m = read_metrics(split);  // steps 9..12 of the interrupted run were dropped on resume
    assert_int_equal(json_array_size(m), 16);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(m, i), "step")), (json_int_t)i + 1);
    json_decref(m);
}

// An MoE model (sigmoid router with the aux-loss-free bias moving, a shared expert), in fp32 and
// in FP8 with delayed scaling (every expert's amax histories are checkpoint state): resume is
// bitwise, the checkpoint header carries the MoE configuration, telemetry reports the routing.
static void moe_resume(fixture *f, const char *precision) {
    train_config c;
    char split[400], err[256], name[64];
    snprintf(split, sizeof split, "%s/moe-split-%s", f->dir, precision);
    snprintf(name, sizeof name, "moe-straight-%s", precision);
    prepare(f, name, "swiglu", &c);
    const char *keys[][2] = {{"moe_experts", "4"}, {"moe_top_k", "2"}, {"moe_shared", "1"}, {"moe_router", "sigmoid"},
                             {"moe_renorm", "1"}, {"moe_bias_rate", "0.01"}, {"moe_hidden", "32"},
                             {"precision", precision}, {"amax_history", "4"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(train_config_set(&c, keys[i][0], keys[i][1], err, sizeof err), 0);
    char straight[TC_PATH];
    snprintf(straight, sizeof straight, "%s", c.out_dir);
    c.steps = c.sched.total_steps = 8;
    c.eval_interval = 8, c.eval_batches = 1, c.telemetry_interval = 4;
    ckpt a, b;
    straight_and_resumed(&c, split, 4, 6, &a, &b);
    assert_int_equal(a.meta.cfg.moe_experts, 4);
    assert_int_equal(a.meta.cfg.moe_router, MOE_SIGMOID);
    assert_int_equal(a.meta.step, 8);
    assert_int_equal(b.meta.step, 8);
    assert_memory_equal(a.params, b.params, a.meta.n_params * sizeof(float));
    assert_memory_equal(a.m, b.m, a.meta.n_params * sizeof(float));
    ckpt_free(&a);
    ckpt_free(&b);
    json_t *m = read_metrics(straight);
    json_t *moe = json_object_get(json_array_get(json_object_get(json_array_get(m, 3), "layers"), 1), "moe");
    assert_non_null(moe);
    json_t *tokens = json_object_get(moe, "tokens");
    assert_int_equal(json_array_size(tokens), 4);
    double sum = 0;
    for (size_t e = 0; e < 4; e++) sum += json_real_value(json_array_get(tokens, e));
    assert_true(fabs(sum - 1) < 1e-6);
    assert_true(json_real_value(json_object_get(moe, "lb_loss")) > 0);
    assert_non_null(json_object_get(moe, "shared_act_out"));
    assert_true(json_real_value(json_object_get(json_object_get(moe, "act_out"), "rms")) > 0);
    json_decref(m);
}

static void test_moe_resume_and_telemetry(void **state) {
    moe_resume(*state, "fp32");
    moe_resume(*state, "fp8");
}

typedef struct {
    long from, to;  // corrupt the gradient on steps [from, to)
} nan_plan;

static void inject_nan(void *ctx, long step, float *grads, size_t n) {
    const nan_plan *p = ctx;
    if (step >= p->from && step < p->to) grads[n / 2] = NAN;
}

static size_t count_skipped(json_t *m) {
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(m); i++)
        if (json_is_true(json_object_get(json_array_get(m, i), "skipped"))) k++;
    return k;
}

static void test_nan_step_is_skipped(void **state) {
    fixture *f = *state;
    train_config c;
    prepare(f, "nan1", "polynorm", &c);
    const char *out = c.out_dir;
    c.steps = c.sched.total_steps = 12;
    nan_plan plan = {5, 7};
    train_hooks h = {.after_backward = inject_nan, .ctx = &plan, .quiet = 1};
    assert_int_equal(train_run(&c, NULL, &h), 0);
    json_t *m = read_metrics(out);
    assert_int_equal(count_skipped(m), 2);
    assert_true(json_is_true(json_object_get(json_array_get(m, 5), "skipped")));   // step 6
    ckpt a;
    read_ckpt(out, &a);
    assert_int_equal(a.meta.opt_t, 10);  // 12 steps, 2 skipped
    for (size_t i = 0; i < a.meta.n_params; i++) assert_true(isfinite(a.params[i]));
    ckpt_free(&a);
    json_decref(m);
}

static void test_repeated_nan_stops_cleanly(void **state) {
    fixture *f = *state;
    train_config c;
    prepare(f, "nan2", "gelu", &c);
    const char *out = c.out_dir;
    c.steps = c.sched.total_steps = 30;
    c.ckpt_interval = 5;
    c.max_bad_steps = 3;
    nan_plan plan = {7, 1000};  // steps 8, 9, 10 go bad
    train_hooks h = {.after_backward = inject_nan, .ctx = &plan, .quiet = 1};
    assert_int_equal(train_run(&c, NULL, &h), 2);  // declared diverged
    ckpt a;
    read_ckpt(out, &a);
    assert_int_equal(a.meta.step, 5);   // the last good checkpoint, untouched
    assert_int_equal(a.meta.bad_streak, 0);
    ckpt_free(&a);
    json_t *m = read_metrics(out);
    assert_int_equal(count_skipped(m), 3);
    assert_int_equal(json_array_size(m), 10);
    json_decref(m);
}

// The whole step (model, clipping norm, AdamW) gives the same bits on 1 and 2 threads.
static void test_thread_count_invariant(void **state) {
    fixture *f = *state;
    train_config c;
    ckpt a[2];
    for (int t = 0; t < 2; t++) {
        prepare(f, t ? "threads2" : "threads1", "powlu", &c);
        c.steps = c.sched.total_steps = 6;
        c.threads = t + 1;
        train_hooks h = {.quiet = 1};
        assert_int_equal(train_run(&c, NULL, &h), 0);
        read_ckpt(c.out_dir, &a[t]);
    }
    assert_memory_equal(a[0].params, a[1].params, a[0].meta.n_params * sizeof(float));
    ckpt_free(&a[0]);
    ckpt_free(&a[1]);
}

static void raise_sigint(void *ctx, long step, float *grads, size_t n) {
    (void)ctx, (void)grads, (void)n;
    if (step == 4) raise(SIGINT);
}

// Ctrl-C finishes the step it interrupts, checkpoints there, and reports status 1.
static void test_interrupt_checkpoints(void **state) {
    fixture *f = *state;
    train_config c;
    prepare(f, "sig", "relu", &c);
    train_hooks h = {.after_backward = raise_sigint, .quiet = 1};
    assert_int_equal(train_run(&c, NULL, &h), 1);
    ckpt a;
    read_ckpt(c.out_dir, &a);
    assert_int_equal(a.meta.step, 5);
    assert_int_equal(a.meta.opt_t, 5);
    ckpt_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loss_falls_and_telemetry, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_resume_is_bitwise, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_moe_resume_and_telemetry, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_nan_step_is_skipped, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_repeated_nan_stops_cleanly, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_interrupt_checkpoints, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_thread_count_invariant, setup, test_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
