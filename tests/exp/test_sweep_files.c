// test_sweep_files.c — the sweep's files without training: metrics.jsonl tails, run.json bytes,
// spec.json/plan.json on first and later starts, and changed-run detection for --force.
#include "test_tmp.h"
#include "exp/folder.h"
#include "exp/runinfo.h"
#include "exp/sweep.h"
#include "util/fileio.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char g_dir[256];

static int setup(void **state) {
    (void)state;
    test_tmpdir(g_dir, sizeof g_dir, "sweep_files");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(g_dir);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    size_t len;
    char *t = file_read(path, &len, NULL, 0);
    assert_non_null(t);
    return t;
}

static void test_metrics_tail(void **state) {
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", g_dir);
    metrics_tail t;
    metrics_read_tail(path, &t);  // no file
    assert_int_equal(t.last_step, 0);
    assert_string_equal(t.loss, "null");
    write_text(path, "{\"step\":1,\"loss\":4.5,\"lr\":0.001,\"tokens_per_s\":100.0,\"val_loss\":4.7}\n"
                     "{\"step\":2,\"loss\":4.25,\"lr\":0.001,\"layers\":[{\"layer\":0,\"act_out\":{\"min\":-1}}]}\n"
                     "{\"step\":3,\"loss\":null,\"lr\":0.001,\"skipped\":true,\"bad_streak\":1}\n"
                     "{\"step\":4,\"loss\":9");  // torn by a crash
    metrics_read_tail(path, &t);
    assert_int_equal(t.last_step, 3);
    assert_string_equal(t.loss, "4.25");      // the last good step's
    assert_string_equal(t.val_loss, "4.7");
    assert_true(t.last_skipped);
    assert_int_equal(t.last_bad_streak, 1);
    assert_false(t.diverged);
}

static sweep_plan tiny_plan(const char *spec) {
    sweep_plan p;
    char err[512];
    if (sweep_plan_load(&p, spec, strlen(spec), err, sizeof err)) fail_msg("%s", err);
    return p;
}

static const char *SPEC = "{\"version\":1,\"experiments\":[{\"id\":\"E3\",\"grid\":{\"act\":[\"swiglu\"],"
                          "\"seed\":[1]}},{\"id\":\"E1\",\"grid\":{\"seed\":[1]},\"set\":{\"act\":\"swiglu\"}}]}";

static void test_run_json_bytes(void **state) {
    (void)state;
    sweep_plan p = tiny_plan(SPEC);
    char path[400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", g_dir);
    write_text(path, "{\"step\":10,\"loss\":3.123457,\"val_loss\":3.5}\n{\"step\":11,\"loss\":3.0e-01}\n");
    run_outcome o = {"done", 0, 1234, 567};
    assert_int_equal(run_json_write(g_dir, &p.runs[0], &o), 0);
    snprintf(path, sizeof path, "%s/run.json", g_dir);
    char *t = read_text(path);
    assert_string_equal(t, "{\"name\":\"e3-swiglu-seed1\",\"experiments\":[\"E3\",\"E1\"],\"coords\":{\"act\":"
                           "\"swiglu\",\"seed\":1},\"status\":\"done\",\"exit_code\":0,\"steps_done\":11,"
                           "\"n_params\":1234,\"n_params_nonembed\":567,\"final_loss\":3.0e-01,"
                           "\"final_val_loss\":3.5}\n");
    json_t *j = json_loads(t, 0, NULL);  // valid JSON
    assert_non_null(j);
    json_decref(j);
    free(t);
    char status[32], vl[40];
    run_json_read(g_dir, status, sizeof status, vl, sizeof vl);
    assert_string_equal(status, "done");
    assert_string_equal(vl, "3.5000");
    folder_run_clear(g_dir);
    assert_int_equal(access(path, F_OK), -1);
    sweep_plan_free(&p);
}

static void test_prepare(void **state) {
    (void)state;
    char dir[400], path[500], err[512];
    snprintf(dir, sizeof dir, "%s/sw/deeper", g_dir);
    sweep_plan p = tiny_plan(SPEC);
    assert_int_equal(sweep_prepare(&p, dir, SPEC, strlen(SPEC), 0, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/spec.json", dir);
    char *t = read_text(path);
    assert_string_equal(t, SPEC);  // verbatim
    free(t);
    snprintf(path, sizeof path, "%s/plan.json", dir);
    t = read_text(path);
    char *want = sweep_plan_to_json(&p);
    assert_string_equal(t, want);
    free(t);
    free(want);
    assert_int_equal(sweep_prepare(&p, dir, SPEC, strlen(SPEC), 0, err, sizeof err), 0);  // same spec again
    // Another spec: refused without --force, accepted with it.
    const char *other = "{\"version\":1,\"experiments\":[{\"id\":\"E3\",\"grid\":{\"seed\":[2]}}]}";
    sweep_plan q = tiny_plan(other);
    assert_int_equal(sweep_prepare(&q, dir, other, strlen(other), 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "different spec"));
    assert_non_null(strstr(err, "--force"));
    snprintf(path, sizeof path, "%s/spec.json", dir);
    t = read_text(path);
    assert_string_equal(t, SPEC);
    free(t);
    assert_int_equal(sweep_prepare(&q, dir, other, strlen(other), 1, err, sizeof err), 0);
    t = read_text(path);
    assert_string_equal(t, other);
    free(t);
    sweep_plan_free(&p);
    sweep_plan_free(&q);
}

static void test_run_changed(void **state) {
    (void)state;
    sweep_plan p = tiny_plan(SPEC);
    char path[400];
    assert_false(folder_run_changed(&p.runs[0], g_dir));  // no config.json: nothing to compare
    train_config c = p.runs[0].cfg;
    snprintf(c.out_dir, sizeof c.out_dir, "%s", g_dir);
    c.threads = 2;  // where it ran and with how many threads do not count
    char *json = train_config_to_json(&c);
    snprintf(path, sizeof path, "%s/config.json", g_dir);
    write_text(path, json);
    free(json);
    assert_false(folder_run_changed(&p.runs[0], g_dir));
    c.seed = 99;
    json = train_config_to_json(&c);
    write_text(path, json);
    free(json);
    assert_true(folder_run_changed(&p.runs[0], g_dir));
    unlink(path);
    sweep_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_json_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_changed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
