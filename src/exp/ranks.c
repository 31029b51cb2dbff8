// ranks.c — sweep_prepare_ranks: one sweep folder shared by the MPI ranks of a sweep (see sweep.h
// and docs/sweep.md, "Across machines").
#include "exp/sweep.h"
#include "train/dist.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// 1 when path is a plan.json with the spec hash of p.
static int plan_matches(const sweep_plan *p, const char *path) {
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)p->spec_hash);
    json_t *j = json_load_file(path, 0, NULL);
    const char *got = json_string_value(json_object_get(j, "spec_hash"));
    int ok = got && !strcmp(got, want);
    json_decref(j);
    return ok;
}

// Waits up to ~3 s for the plan: a network file system may show a new file to other hosts late.
static int plan_visible(const sweep_plan *p, const char *dir, char *err, size_t errlen) {
    char path[1100];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    for (int tries = 0; tries < 30; tries++) {
        if (plan_matches(p, path)) return 0;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    snprintf(err, errlen,
             "rank %d of %d does not see the sweep's plan at '%s' (missing, or for another spec) after rank 0 wrote "
             "it\n  hint: --out must be a folder on a file system every rank sees at the same path (NFS, Lustre, "
             "...), not a local disk of each machine",
             dist_rank(), dist_size(), path);
    return -1;
}

int sweep_prepare_ranks(const sweep_plan *p, const char *dir, const char *spec_text, size_t len, int force,
                        char *err, size_t errlen) {
    if (dist_size() == 1) return sweep_prepare(p, dir, spec_text, len, force, err, errlen);
    err[0] = 0;
    int bad = dist_rank() == 0 && sweep_prepare(p, dir, spec_text, len, force, err, errlen);
    // The reduction is also the barrier: nobody looks for the plan before rank 0 wrote it.
    if (dist_max_int(bad)) return -1;
    bad = plan_visible(p, dir, err, errlen) != 0;
    return dist_max_int(bad) ? -1 : 0;
}

int sweep_rank_cores(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN), local = dist_local_size();
    return cores / local > 1 ? (int)(cores / local) : 1;
}

int sweep_finish_ranks(int rc) {
    // A status that only this rank may have (an error before the ranks agreed) must not wait in
    // MPI_Finalize for ranks that wait for it: exiting unfinalised makes mpirun end the job.
    if (rc == 0) dist_finalize();
    return rc;
}
