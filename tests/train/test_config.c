// test_config.c — defaults, JSON and flags, the resolved JSON round trip, and errors naming the key.
#include "train/config.h"
#include "testutil.h"

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

static void test_help_lists_every_key(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    train_config_print_help(f);
    fclose(f);
    assert_non_null(strstr(buf, "--grad-accum"));
    assert_non_null(strstr(buf, "--telemetry-interval"));
    assert_non_null(strstr(buf, "(default 0.0003)"));
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_valid),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_flag_precedence_over_file),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_semantic_check),
        cmocka_unit_test(test_help_lists_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
