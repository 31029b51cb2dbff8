// cmd_sweep.c — `actlab sweep SPEC.json --out DIR`: a grid of training runs, resumable.
#include "args.h"
#include "commands.h"
#include "exp/folder.h"
#include "exp/sweep.h"
#include "util/cpus.h"
#include "util/fileio.h"
#include "train/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sweep_help(void) {
    long cores = cpus_for_rank(1);
    printf("usage: actlab sweep SPEC.json --out DIR [--jobs N|auto] [--force] [--retry-failed] [--dry-run]\n\n"
           "Runs every training run of a grid, each in DIR/runs/<name>/ (config.json, metrics.jsonl,\n"
           "checkpoint.bin, and run.json once it ended). Rerunning the same command skips finished runs and\n"
           "resumes interrupted ones from their checkpoints (Ctrl-C checkpoints every active run first).\n\n"
           "SPEC.json:\n"
           "  {\"version\": 1, \"name\": \"tiny\",\n"
           "   \"base\":  {\"steps\": 60, \"batch\": 4, ...any 'actlab train' config key...},\n"
           "   \"sizes\": {\"xs\": {\"d_model\": 32, \"n_layers\": 1}, \"s\": {\"d_model\": 64, \"n_layers\": 2}},\n"
           "   \"experiments\": [\n"
           "     {\"id\": \"E3\", \"grid\": {\"act\": [\"swiglu\", \"polynorm\"], \"seed\": [1, 2]}},\n"
           "     {\"id\": \"E4\", \"grid\": {\"m\": [2, 3, 4]}, \"set\": {\"act\": \"powlu\"}},\n"
           "     {\"id\": \"E5\", \"grid\": {\"size\": [\"xs\", \"s\"], \"act\": [\"swiglu\", \"powlu\"]}}]}\n"
           "  Precedence per run: train defaults < base < size preset < set < grid; \"act\" is applied before\n"
           "  activation hyperparameters (e.g. m). A grid is a cartesian product, last key fastest. Grid points\n"
           "  with identical resolved configs are one run. Run names: e3-swiglu-seed1, e4-m3, e5-xs-powlu.\n\n"
           "options:\n"
           "  --out DIR          the sweep folder (spec.json, plan.json, runs/, timing.json)\n"
           "  --jobs N|auto      runs at once, each with cores/N threads (auto: %d for the %ld core%s this process may use)\n"
           "  --force            the spec differs from DIR/spec.json: replace the plan; finished runs whose\n"
           "                     resolved config is unchanged are kept, changed ones start over\n"
           "  --retry-failed     run again the runs whose run.json says \"failed\"\n"
           "  --dry-run          validate the spec and print the plan (plan.json) without running anything\n\n"
           "Under mpirun/srun the runs are spread over the ranks (the k-th unfinished run on rank k %% N,\n"
           "each rank with its own --jobs, auto sharing the host's cores with its other ranks); DIR must be\n"
           "on a file system every rank sees. A signal to any rank stops them all (runs checkpointed), and a\n"
           "killed or stopped sweep continues on any number of ranks.\n\n"
           "Exit status: 0 all runs ended (done, diverged or stopped), 1 a bad spec or failed runs,\n"
           "2 usage error, 130 interrupted (rerun the same command to continue). See docs/sweep.md.\n",
           sweep_jobs_auto((int)cores), cores, cores == 1 ? "" : "s");
}

static int sweep_main(int argc, char **argv);

int cmd_sweep(int argc, char **argv) {
    dist_init();  // one of several ranks when mpirun/srun started us: each runs its share
    return sweep_finish_ranks(sweep_main(argc, argv));
}

static int sweep_main(int argc, char **argv) {
    const char *spec_path = NULL, *out = NULL;
    int jobs = 0, dry = 0;
    sweep_opts o = {.rank = dist_rank(), .ranks = dist_size(), .cores = sweep_rank_cores()};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) {
            sweep_help();
            return 0;
        }
        if (!strcmp(a, "--out")) out = arg_value("sweep", argc, argv, &i);
        else if (!strcmp(a, "--jobs")) {
            const char *v = arg_value("sweep", argc, argv, &i);
            jobs = strcmp(v, "auto") ? (int)arg_long("sweep", "--jobs", v, 1, 256) : 0;
        } else if (!strcmp(a, "--force")) o.force = 1;
        else if (!strcmp(a, "--retry-failed")) o.retry_failed = 1;
        else if (!strcmp(a, "--dry-run")) dry = 1;
        else if (a[0] == '-' && a[1]) usage_error("sweep", "unknown option '%s'", a);
        else if (spec_path) usage_error("sweep", "more than one spec given ('%s' and '%s')", spec_path, a);
        else spec_path = a;
    }
    if (!spec_path) usage_error("sweep", "missing SPEC.json");
    if (!out && !dry) usage_error("sweep", "missing --out DIR");
    size_t len;
    char *text = file_read(spec_path, &len, NULL, 0), err[1024];
    if (!text) {
        fprintf(stderr, "actlab sweep: error: cannot read spec '%s'\n  hint: check the path\n", spec_path);
        return 1;
    }
    sweep_plan plan;
    if (sweep_plan_load(&plan, text, len, err, sizeof err)) {
        fprintf(stderr, "actlab sweep: error: %s: %s\n  hint: nothing was started; see 'actlab sweep --help' and "
                "'actlab train --help' for the keys\n", spec_path, err);
        free(text);
        return 1;
    }
    int rc = 0;
    if (dry) {
        char *json = sweep_plan_to_json(&plan);
        if (dist_rank() == 0) fputs(json, stdout);
        free(json);
    } else if (sweep_prepare_ranks(&plan, out, text, len, o.force, err, sizeof err)) {
        if (err[0]) fprintf(stderr, "actlab sweep: error: %s\n", err);
        rc = 1;
    } else {
        o.jobs = jobs ? jobs : sweep_jobs_auto(o.cores);
        rc = sweep_run(&plan, out, &o);
    }
    sweep_plan_free(&plan);
    free(text);
    return rc;
}
