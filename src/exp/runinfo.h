// runinfo.h — what the sweep reads from a run folder (metrics.jsonl) and the run.json it writes.
#ifndef ACTLAB_EXP_RUNINFO_H
#define ACTLAB_EXP_RUNINFO_H

#include "exp/sweep.h"

#include <stddef.h>

// The last values of metrics.jsonl, as the JSON number text the trainer wrote ("null" if none).
typedef struct {
    long last_step;          // 0 when there is no complete line
    char loss[40], val_loss[40];
    int last_skipped;        // the last line is a skipped (NaN/Inf) step
    long last_bad_streak;
    int diverged;            // a line says "diverged"
} metrics_tail;

void metrics_read_tail(const char *path, metrics_tail *t);

// Status words of run.json: "done" / "diverged" / "stopped" / "failed".
typedef struct {
    const char *status;
    int exit_code;
    long long n_params, n_params_nonembed;  // < 0: unknown (written as null)
} run_outcome;

// Writes <run_dir>/run.json atomically. Returns 0, or -1 after printing why.
int run_json_write(const char *run_dir, const sweep_entry *e, const run_outcome *o);
// The status of an existing run.json ("" when absent or unreadable) and its final_val_loss text.
void run_json_read(const char *run_dir, char *status, size_t slen, char *val_loss, size_t vlen);

#endif
