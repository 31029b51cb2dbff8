// runio.h — run folders in tests: a fixture with synthetic shards, metrics.jsonl as a JSON array,
// checkpoint.bin.
// (Include after cmocka.h.)
#ifndef ACTLAB_TRAIN_RUNIO_H
#define ACTLAB_TRAIN_RUNIO_H

#include "train/checkpoint.h"
#include "testutil.h"
#include "trainfix.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// A temp folder holding synthetic shards in <dir>/data (fresh seed, printed).
typedef struct {
    char dir[256], data[320];  // dir first: test_teardown_dir
} run_fixture;

static inline int run_fixture_setup(void **state, const char *tag) {
    run_fixture *f = calloc(1, sizeof *f);
    test_tmpdir(f->dir, sizeof f->dir, tag);
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    mkdir(f->data, 0755);
    fix_write_shards(f->data, test_seed(tag));
    *state = f;
    return 0;
}

// Every line of metrics.jsonl, parsed.
static inline json_t *read_metrics(const char *out_dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/metrics.jsonl", out_dir);
    size_t n;
    char *text = (char *)test_slurp(path, &n);
    assert_non_null(text);
    json_t *arr = json_array();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        if (!o) fail_msg("metrics line is not JSON (%s): %s", e.text, line);
        json_array_append_new(arr, o);
    }
    free(text);
    return arr;
}

static inline void read_ckpt(const char *out_dir, ckpt *c) {
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/checkpoint.bin", out_dir);
    if (ckpt_read(path, c, err, sizeof err)) fail_msg("%s", err);
}

#endif
