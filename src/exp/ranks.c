// ranks.c — sweep_prepare_ranks: one sweep folder shared by the MPI ranks of a sweep (see sweep.h
// and docs/sweep.md, "Across machines").
#include "exp/sweep.h"
#include "train/dist.h"
#include "util/atomic.h"
#include "util/cpus.h"
#include "util/fileio.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// Rank 0 leaves a token of this start in DIR: a copy of the folder (the same path on each host's own
// disk, after an earlier sweep there) has a plan.json that matches too, but not this token.
#define TOKEN_FILE ".rank0-token"

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

static int token_matches(const char *path, const char *token) {
    size_t len;
    char *got = file_read(path, &len, NULL, 0);
    int ok = got && !strcmp(got, token);
    free(got);
    return ok;
}

// Rank 0's token (malloc'd), written to DIR/TOKEN_FILE. Returns NULL with err on failure.
static char *write_token(const char *dir, char *err, size_t errlen) {
    char host[64] = "", path[1100], *token = malloc(130);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    gethostname(host, sizeof host - 1);
    snprintf(token, 128, "%s %ld %lld.%09ld", host, (long)getpid(), (long long)now.tv_sec, now.tv_nsec);
    snprintf(path, sizeof path, "%s/" TOKEN_FILE, dir);
    if (atomic_write_text(path, token, err, errlen)) {
        free(token);
        return NULL;
    }
    strcat(token, "\n");  // as atomic_write_text ends the file
    return token;
}

// Waits up to ~3 s for the plan and the token: a network file system may show new files to other
// hosts late.
static int folder_visible(const sweep_plan *p, const char *dir, const char *token, char *err, size_t errlen) {
    char plan[1100], tok[1100];
    snprintf(plan, sizeof plan, "%s/plan.json", dir);
    snprintf(tok, sizeof tok, "%s/" TOKEN_FILE, dir);
    for (int tries = 0; tries < 30; tries++) {
        if (plan_matches(p, plan) && token_matches(tok, token)) return 0;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int copy = plan_matches(p, plan);
    snprintf(err, errlen,
             "rank %d of %d does not see the sweep folder that rank 0 prepared (%s '%s'%s)\n  hint: --out must be "
             "a folder on a file system every rank sees at the same path (NFS, Lustre, ...), not a local disk of "
             "each machine",
             dist_rank(), dist_size(), copy ? "a plan.json for this spec, but not this start's token in" :
             "no plan.json for this spec at", copy ? tok : plan, copy ? ": a copy of the folder?" : "");
    return -1;
}

int sweep_prepare_ranks(const sweep_plan *p, const char *dir, const char *spec_text, size_t len, int force,
                        char *err, size_t errlen) {
    if (dist_size() == 1) return sweep_prepare(p, dir, spec_text, len, force, err, errlen);
    err[0] = 0;
    char *token = NULL;
    int bad = dist_rank() == 0 &&
              (sweep_prepare(p, dir, spec_text, len, force, err, errlen) || !(token = write_token(dir, err, errlen)));
    // The reduction is also the barrier: nobody looks for the plan before rank 0 wrote it.
    if (dist_max_int(bad)) {
        free(token);
        return -1;
    }
    char *want = dist_bcast_string(token);
    bad = folder_visible(p, dir, want, err, errlen) != 0;
    free(token);
    free(want);
    return dist_max_int(bad) ? -1 : 0;
}

int sweep_rank_cores(void) { return cpus_for_rank(dist_local_size()); }

int sweep_finish_ranks(int rc) {
    // A status that only this rank may have (an error before the ranks agreed) must not wait in
    // MPI_Finalize for ranks that wait for it: exiting unfinalised makes mpirun end the job.
    if (rc == 0) dist_finalize();
    return rc;
}
