// child.h — one run of a sweep inside a forked child process.
#ifndef ACTLAB_EXP_CHILD_H
#define ACTLAB_EXP_CHILD_H

#include "exp/sweep.h"

#include <sys/types.h>

// Exit statuses of the child besides "run.json written" (0).
#define CHILD_INTERRUPTED 3  // SIGINT/SIGTERM: checkpointed, no run.json, resumes next time
#define CHILD_ORPHANED 4     // the sweep died before the child started

// What the child reports through report_fd before training: the parameter counts.
typedef struct {
    long long n_params, n_params_nonembed;
} child_report;

// Trains e in run_dir (resuming from its checkpoint.bin when there is one) with `threads` threads,
// writes run.json unless interrupted, and _exit()s. Its output goes to run_dir/train.log.
void child_main(const sweep_entry *e, const char *run_dir, int threads, int report_fd, pid_t parent)
    __attribute__((noreturn));

#endif
