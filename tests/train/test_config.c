// test_config.c — defaults, JSON and flags, the resolved JSON round trip, and errors naming the key.
#include "train/config.h"
#include "testutil.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_defaults_are_valid(void **state) {
    (void)state;
    train_config c;
    char buf[256];
    train_config_default(&c);
    assert_null(train_config_check(&c, buf, sizeof buf));
    assert_int_equal(c.sched.total_steps, c.steps);
}

static void test_json_round_trip(void **state) {
    (void)state;
    train_config a, b;
    char err[256];
    train_config_default(&a);
    assert_int_equal(train_config_set(&a, "act", "powlu", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "m", "4", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "grad-accum", "3", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "lr", "6e-4", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "schedule", "wsd", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "seed", "9223372036854775807", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "out", "runs/x", err, sizeof err), 0);
    char *json = train_config_to_json(&a);
    printf("%s", json);
    assert_non_null(strstr(json, "\"lr\": 0.0006,"));   // shortest float form, not 0.000600000028
    train_config_default(&b);
    assert_int_equal(train_config_from_json(&b, json, err, sizeof err), 0);
    assert_int_equal(__builtin_popcountll(a.set_mask), 6);  // the six table keys above ("m" is the activation's)
    a.set_mask = b.set_mask = 0;  // which keys were given differs by design: the JSON gives every key
    assert_memory_equal(&a, &b, sizeof a);
    free(json);
}

static void test_flag_precedence_over_file(void **state) {
    (void)state;
    train_config c;
    char err[256];
    train_config_default(&c);
    assert_int_equal(train_config_from_json(&c, "{\"act_hyper\": {\"m\": 2}, \"act\": \"powlu\", \"steps\": 50}",
                                            err, sizeof err), 0);
    assert_true(c.model.act.hp[0] == 2.0f);   // act_hyper applies to act even when listed first
    assert_int_equal(c.sched.total_steps, 50);
    assert_int_equal(train_config_set(&c, "steps", "70", err, sizeof err), 0);
    assert_int_equal(c.steps, 70);
    assert_int_equal(c.sched.total_steps, 70);
}

// Each bad input must fail with a message that names the key.
static void expect_json_error(const char *text, const char *needle) {
    train_config c;
    char err[256] = "";
    train_config_default(&c);
    assert_int_equal(train_config_from_json(&c, text, err, sizeof err), -1);
    printf("rejected as expected: %s\n", err);
    assert_non_null(strstr(err, needle));
}

static void test_json_errors(void **state) {
    (void)state;
    expect_json_error("{\"stepz\": 10}", "unknown key 'stepz'");
    expect_json_error("{\"steps\": \"ten\"}", "'steps': expected an integer");
    expect_json_error("{\"steps\": 1.5}", "'steps': expected an integer");
    expect_json_error("{\"steps\": -1}", "'steps': value -1 is outside");
    expect_json_error("{\"lr\": \"fast\"}", "'lr': expected a number");
    expect_json_error("{\"act\": \"swishy\"}", "unknown activation 'swishy'");
    expect_json_error("{\"act\": \"swiglu\", \"act_hyper\": {\"m\": 3}}", "'m': the activation swiglu has no");
    expect_json_error("{\"act\": \"powlu\", \"act_hyper\": {\"m\": 1000}}", "'m': value 1000 is outside");
    expect_json_error("{\"schedule\": \"linear\"}", "'schedule': unknown value 'linear'");
    expect_json_error("{\"steps\": 10, \"steps\": 20}", "malformed JSON");
    expect_json_error("{\"steps\": 10", "malformed JSON at line 1");
    expect_json_error("[1, 2]", "must be a JSON object");
    expect_json_error("{\"grad-accum\": 2}", "unknown key 'grad-accum'");
}

static void test_flag_errors(void **state) {
    (void)state;
    train_config c;
    char err[256];
    train_config_default(&c);
    assert_int_equal(train_config_set(&c, "batch", "12x", err, sizeof err), -1);
    assert_non_null(strstr(err, "'batch': expected a number, got '12x'"));
    assert_int_equal(train_config_set(&c, "m", "3", err, sizeof err), -1);  // default act swiglu has no m
    assert_non_null(strstr(err, "unknown key 'm'"));
    assert_int_equal(train_config_set(&c, "seed", "-4", err, sizeof err), -1);
    assert_non_null(strstr(err, "'seed'"));
    assert_int_equal(train_config_set(&c, "seed", "9223372036854775808", err, sizeof err), -1);
    assert_non_null(strstr(err, "'seed'"));
    assert_int_equal(train_config_set(&c, "beta2", "1", err, sizeof err), -1);
    assert_non_null(strstr(err, "'beta2'"));
    assert_true(train_config_has_key(&c, "warmup-steps"));
    assert_false(train_config_has_key(&c, "warmup-stepz"));
}

static void test_semantic_check(void **state) {
    (void)state;
    train_config c;
    char buf[256];
    train_config_default(&c);
    c.seq = c.model.max_seq_len + 1;
    assert_non_null(strstr(train_config_check(&c, buf, sizeof buf), "max_seq_len"));
    train_config_default(&c);
    c.opt.min_lr = 1;
    assert_non_null(strstr(train_config_check(&c, buf, sizeof buf), "min_lr"));
}

// MoE keys: written only for MoE models (a dense config.json is what it was), read back exactly;
// an moe_* key without experts, an impossible top-k and MoE in low precision are refused.
static void test_moe_keys(void **state) {
    (void)state;
    train_config a, b;
    char err[256], buf[256];
    train_config_default(&a);
    char *dense = train_config_to_json(&a);
    assert_null(strstr(dense, "moe_"));
    free(dense);
    assert_int_equal(train_config_set(&a, "moe-experts", "8", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "moe_router", "sigmoid", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "moe_shared", "1", err, sizeof err), 0);
    assert_int_equal(train_config_set(&a, "moe_z_coef", "0.002", err, sizeof err), 0);
    assert_int_not_equal(train_config_set(&a, "moe_router", "topk", err, sizeof err), 0);
    assert_non_null(strstr(err, "softmax"));
    char *json = train_config_to_json(&a);
    assert_non_null(strstr(json, "\"moe_router\": \"sigmoid\""));
    train_config_default(&b);
    assert_int_equal(train_config_from_json(&b, json, err, sizeof err), 0);
    a.set_mask = b.set_mask = 0;
    assert_memory_equal(&a, &b, sizeof a);
    free(json);
    assert_null(train_config_check(&a, buf, sizeof buf));
    a.model.moe_top_k = 9;
    assert_non_null(strstr(train_config_check(&a, buf, sizeof buf), "moe_top_k"));
    a.model.moe_top_k = 2, a.prec.precision = PREC_BF16;  // MoE trains in every precision
    assert_null(train_config_check(&a, buf, sizeof buf));
    train_config_default(&a);
    assert_int_equal(train_config_set(&a, "moe_top_k", "4", err, sizeof err), 0);
    assert_non_null(strstr(train_config_check(&a, buf, sizeof buf), "moe_experts"));
}

// Every key of the table (the resolved JSON lists them all) has its --flag line in --help.
static void test_help_lists_every_key(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    train_config_print_help(f);
    fclose(f);
    train_config c;
    train_config_default(&c);
    char *json = train_config_to_json(&c);
    json_t *keys = json_loads(json, 0, NULL);
    assert_non_null(keys);
    const char *key;
    json_t *v;
    int n = 0;
    json_object_foreach(keys, key, v) {
        if (!strcmp(key, "act_hyper")) continue;  // its entries are the activation's, see "--<hyper>"
        char flag[80];
        int k = snprintf(flag, sizeof flag, "\n  --%s ", key);
        for (int i = 5; i < k; i++)
            if (flag[i] == '_') flag[i] = '-';
        // a line of its own: at the start of the text or after a newline
        if (strncmp(buf, flag + 1, strlen(flag + 1)) && !strstr(buf, flag))
            fail_msg("--help has no line for '%s' (looked for '%s')", key, flag + 1);
        n++;
    }
    assert_true(n >= 45);
    assert_non_null(strstr(buf, "  --<hyper> X"));
    assert_non_null(strstr(buf, "(default 0.0003)"));
    assert_non_null(strstr(buf, "(default min(100, steps/10))"));  // an adaptive default says its rule
    json_decref(keys);
    free(json);
    free(buf);
}

// Defaults that follow the command: unset keys adapt to steps, set ones are kept (and checked).
static void test_adaptive_defaults(void **state) {
    (void)state;
    train_config c;
    char err[256], buf[256];
    train_config_default(&c);
    assert_int_equal(train_config_set(&c, "steps", "60", err, sizeof err), 0);
    train_config_resolve(&c);
    assert_int_equal(c.sched.warmup_steps, 6);
    assert_int_equal(c.eval_interval, 6);
    assert_null(train_config_check(&c, buf, sizeof buf));
    train_config_default(&c);  // long runs keep the fixed defaults
    assert_int_equal(train_config_set(&c, "steps", "5000", err, sizeof err), 0);
    train_config_resolve(&c);
    assert_int_equal(c.sched.warmup_steps, 100);
    assert_int_equal(c.eval_interval, 100);
    train_config_default(&c);  // tiny runs: no warmup, validation every step
    assert_int_equal(train_config_set(&c, "steps", "5", err, sizeof err), 0);
    train_config_resolve(&c);
    assert_int_equal(c.sched.warmup_steps, 0);
    assert_int_equal(c.eval_interval, 1);
    // An explicit value, by flag or by file, is kept; a conflicting one is still an error.
    train_config_default(&c);
    assert_int_equal(train_config_set(&c, "steps", "60", err, sizeof err), 0);
    assert_int_equal(train_config_set(&c, "warmup-steps", "100", err, sizeof err), 0);
    train_config_resolve(&c);
    assert_int_equal(c.sched.warmup_steps, 100);
    assert_non_null(strstr(train_config_check(&c, buf, sizeof buf), "warmup_steps 100 exceeds steps 60"));
    train_config_default(&c);
    assert_int_equal(train_config_from_json(&c, "{\"steps\": 60, \"eval_interval\": 25}", err, sizeof err), 0);
    train_config_resolve(&c);
    assert_int_equal(c.eval_interval, 25);
    assert_int_equal(c.sched.warmup_steps, 6);
    // The resolved value is what config.json records, so a run reloaded from it does not move.
    char *json = train_config_to_json(&c);
    assert_non_null(strstr(json, "\"warmup_steps\": 6,"));
    train_config again;
    train_config_default(&again);
    assert_int_equal(train_config_from_json(&again, json, err, sizeof err), 0);
    assert_int_equal(train_config_set(&again, "steps", "6000", err, sizeof err), 0);
    train_config_resolve(&again);
    assert_int_equal(again.sched.warmup_steps, 6);
    free(json);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_valid),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_flag_precedence_over_file),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_semantic_check),
        cmocka_unit_test(test_moe_keys),
        cmocka_unit_test(test_help_lists_every_key),
        cmocka_unit_test(test_adaptive_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
