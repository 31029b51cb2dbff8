// runio.h — reading a run folder back in tests: metrics.jsonl as a JSON array, checkpoint.bin.
// (Include after cmocka.h.)
#ifndef ACTLAB_TRAIN_RUNIO_H
#define ACTLAB_TRAIN_RUNIO_H

#include "train/checkpoint.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
