// folder.h — the sweep folder on disk: spec.json/plan.json (sweep_prepare in sweep.h) and run
// folders whose configuration no longer matches the plan (after --force with a changed spec).
#ifndef ACTLAB_EXP_FOLDER_H
#define ACTLAB_EXP_FOLDER_H

#include "exp/sweep.h"

#include <stddef.h>

// 1 when run_dir/config.json exists and resolves to another configuration than e->cfg
// (the run folder and thread count aside).
int folder_run_changed(const sweep_entry *e, const char *run_dir);
// Removes what a run wrote (config.json, metrics.jsonl, checkpoint.bin, run.json, train.log).
void folder_run_clear(const char *run_dir);

#endif
