// runinfo.c — see runinfo.h. run.json copies the loss numbers as text from metrics.jsonl, so they
// read back exactly as logged and an interrupted + resumed sweep writes identical bytes.
#include "exp/runinfo.h"
#include "util/atomic.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Copies the number (or null) after "key": in line into out; returns 1 if the key is present.
static int number_after(const char *line, const char *key, char *out, size_t len) {
    const char *p = strstr(line, key);
    if (!p) return 0;
    p += strlen(key);
    size_t n = strcspn(p, ",}\n");
    if (n >= len) n = len - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

void metrics_read_tail(const char *path, metrics_tail *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->loss, sizeof t->loss, "null");
    snprintf(t->val_loss, sizeof t->val_loss, "null");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        long s;
        if (line[n - 1] != '\n' || sscanf(line, "{\"step\":%ld", &s) != 1) continue;  // a torn last line
        t->last_step = s;
        char buf[40];
        // "loss" of a skipped step is NaN/Inf (null): the final loss is that of the last good step.
        t->last_skipped = strstr(line, "\"skipped\":true") != NULL;
        if (!t->last_skipped && number_after(line, "\"loss\":", buf, sizeof buf)) memcpy(t->loss, buf, sizeof buf);
        if (number_after(line, "\"val_loss\":", buf, sizeof buf)) memcpy(t->val_loss, buf, sizeof buf);
        t->last_bad_streak = number_after(line, "\"bad_streak\":", buf, sizeof buf) ? atol(buf) : 0;
        if (strstr(line, "\"diverged\":")) t->diverged = 1;
    }
    free(line);
    fclose(f);
}

static void put_count(FILE *f, const char *key, long long v) {
    if (v >= 0) fprintf(f, ",\"%s\":%lld", key, v);
    else fprintf(f, ",\"%s\":null", key);
}

int run_json_write(const char *run_dir, const sweep_entry *e, const run_outcome *o) {
    char path[1024], mpath[1024];
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", run_dir);
    metrics_tail t;
    metrics_read_tail(mpath, &t);
    json_t *ex = json_array();
    for (int i = 0; i < e->n_experiments; i++) json_array_append_new(ex, json_string(e->experiments[i]));
    json_t *name = json_string(e->name);
    char *ex_txt = json_dumps(ex, JSON_COMPACT), *name_txt = json_dumps(name, JSON_ENCODE_ANY);
    json_decref(ex);
    json_decref(name);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "{\"name\":%s,\"experiments\":%s,\"coords\":%s,\"status\":\"%s\",\"exit_code\":%d,\"steps_done\":%ld",
            name_txt, ex_txt, e->coords_json, o->status, o->exit_code, t.last_step);
    put_count(f, "n_params", o->n_params);
    put_count(f, "n_params_nonembed", o->n_params_nonembed);
    fprintf(f, ",\"final_loss\":%s,\"final_val_loss\":%s}\n", t.loss, t.val_loss);
    fclose(f);
    free(ex_txt);
    free(name_txt);
    int r = atomic_write_file(path, buf, len);
    free(buf);
    return r;
}

void run_json_read(const char *run_dir, char *status, size_t slen, char *val_loss, size_t vlen) {
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    status[0] = 0;
    snprintf(val_loss, vlen, "null");
    json_t *j = json_load_file(path, 0, NULL);
    if (!j) return;
    json_t *s = json_object_get(j, "status"), *v = json_object_get(j, "final_val_loss");
    if (json_is_string(s)) snprintf(status, slen, "%s", json_string_value(s));
    if (json_is_number(v)) snprintf(val_loss, vlen, "%.4f", json_number_value(v));
    json_decref(j);
}
