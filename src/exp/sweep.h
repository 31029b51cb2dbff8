// sweep.h — `actlab sweep`: a grid of training runs from a SPEC.json, each in its own folder,
// resumable, run in child processes (docs/sweep.md; folder formats in CONTRACT-5).
//
// Layering: cli -> exp -> train. The parent process only parses, plans, forks and waits: it never
// runs an OpenMP region or an OpenBLAS call, because libgomp does not survive fork() once its
// thread pool exists.
#ifndef ACTLAB_EXP_SWEEP_H
#define ACTLAB_EXP_SWEEP_H

#include "train/config.h"

#include <stddef.h>
#include <stdint.h>

#define SWEEP_NAME 128

// One run of the plan: a resolved configuration asked for by one or more experiments.
typedef struct {
    char name[SWEEP_NAME];  // e.g. "e3-swiglu-seed1"; its folder is DIR/runs/<name>
    char **experiments;     // ids of every experiment that produced this configuration, first one first
    int n_experiments;
    char *coords_json;      // compact JSON object: the first experiment's grid coordinates
    train_config cfg;       // resolved (defaults < base < size < set < grid); out_dir is set by sweep_run
} sweep_entry;

typedef struct {
    char name[SWEEP_NAME];
    uint64_t spec_hash;     // fnv1a64 of the spec bytes
    sweep_entry *runs;
    int n_runs;
} sweep_plan;

// Parses, validates and expands a spec. Returns 0, or -1 with a message naming the experiment,
// key and value in err (and *p left empty). Nothing is written anywhere.
int sweep_plan_load(sweep_plan *p, const char *spec_text, size_t len, char *err, size_t errlen);
void sweep_plan_free(sweep_plan *p);
// plan.json (malloc'd, ends with a newline).
char *sweep_plan_to_json(const sweep_plan *p);
// The run name for an experiment id and grid coordinates (a JSON object), before de-collision.
void sweep_run_name(const char *exp_id, const char *coords_json, char *out, size_t len);

typedef struct {
    int jobs;          // runs at once (>= 1)
    int force;         // the spec changed: runs whose resolved config changed are restarted
    int retry_failed;  // run again the runs whose run.json says "failed"
    int rank, ranks;   // over MPI: this rank and the rank count (ranks 0 or 1: one process, every run).
                       // The k-th unfinished run (plan order, as rank 0 finds the folder) is rank
                       // (k % ranks)'s; rank 0 also follows the others' runs.
    int cores;         // cores this process may use, divided among its jobs (0: all online cores)
} sweep_opts;

// The default --jobs for a machine with `cores` online cores (see docs/sweep.md for the measurement).
int sweep_jobs_auto(int cores);

// First start: writes DIR/spec.json (verbatim) and DIR/plan.json atomically. Later starts: the spec
// must equal DIR/spec.json, unless force (then both are replaced). Returns 0, or -1 with err.
int sweep_prepare(const sweep_plan *p, const char *dir, const char *spec_text, size_t len, int force, char *err,
                  size_t errlen);

// sweep_prepare for a sweep over MPI ranks, called on every rank (one process: sweep_prepare alone).
// Rank 0 prepares DIR; then every rank checks that it sees rank 0's DIR/plan.json with this spec's
// hash, since every rank reads and writes the same run folders. Any failure stops every rank:
// returns -1 with err on the rank that failed and an empty err on the others, else 0.
int sweep_prepare_ranks(const sweep_plan *p, const char *dir, const char *spec_text, size_t len, int force,
                        char *err, size_t errlen);

// The cores this process may use: the online cores divided by the ranks on this host (all of them
// without mpirun).
int sweep_rank_cores(void);
// The end of a sweep command on every rank: finalises MPI when rc is 0; returns rc.
int sweep_finish_ranks(int rc);

// Runs every unfinished run of the plan in DIR/runs/<name> (over MPI: this rank's share, every rank
// calling it). Returns 0 when all runs finished as done/diverged/stopped, 1 when some failed, 130
// when interrupted (SIGINT/SIGTERM; rerun to continue); over MPI the same status on every rank, and a
// signal to any one rank interrupts them all.
int sweep_run(const sweep_plan *p, const char *dir, const sweep_opts *o);

#endif
