// folder.c — see folder.h and sweep.h (sweep_prepare).
#include "exp/folder.h"
#include "util/atomic.h"
#include "util/check.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int folder_run_changed(const sweep_entry *e, const char *run_dir) {
    char path[1024], err[512];
    size_t len;
    snprintf(path, sizeof path, "%s/config.json", run_dir);
    char *text = file_read(path, &len, NULL, 0);
    if (!text) return 0;
    train_config old;
    train_config_default(&old);
    int changed = train_config_from_json(&old, text, err, sizeof err) != 0;
    free(text);
    if (!changed) {
        char *a = train_config_identity(&old), *b = train_config_identity(&e->cfg);
        changed = strcmp(a, b) != 0;
        free(a);
        free(b);
    }
    return changed;
}

void folder_run_clear(const char *run_dir) {
    static const char *FILES[] = {"run.json", "checkpoint.bin", "metrics.jsonl", "config.json", "train.log"};
    for (size_t i = 0; i < sizeof FILES / sizeof *FILES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", run_dir, FILES[i]);
        unlink(path);
    }
}

static int write_file(const char *path, const char *data, size_t n, char *err, size_t errlen) {
    atomic_file a;
    if (atomic_begin(&a, path, err, errlen)) return -1;
    atomic_write(&a, data, n);
    return atomic_commit(&a, err, errlen);
}

int sweep_prepare(const sweep_plan *p, const char *dir, const char *spec_text, size_t len, int force, char *err,
                  size_t errlen) {
    char path[1024];
    if (mkdir_p(dir, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/spec.json", dir);
    size_t old_len = 0;
    char *old = file_read(path, &old_len, NULL, 0);
    int same = old && old_len == len && !memcmp(old, spec_text, len);
    free(old);
    if (old && !same && !force) {
        snprintf(err, errlen,
                 "'%s' holds a sweep with a different spec (%s)\n  hint: use another --out, or pass --force to "
                 "replace the plan (finished runs whose resolved config is unchanged are kept, the others restart)",
                 dir, path);
        return -1;
    }
    // plan.json first: a spec.json always has its plan beside it.
    char *plan = sweep_plan_to_json(p), plan_path[1024];
    snprintf(plan_path, sizeof plan_path, "%s/plan.json", dir);
    size_t plan_len = 0;
    char *old_plan = file_read(plan_path, &plan_len, NULL, 0);
    int r = 0;
    if (!old_plan || strcmp(old_plan, plan)) r = write_file(plan_path, plan, strlen(plan), err, errlen);
    free(old_plan);
    free(plan);
    if (!r && !same) r = write_file(path, spec_text, len, err, errlen);
    return r;
}
