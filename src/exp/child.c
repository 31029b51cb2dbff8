// child.c — see child.h.
#include "exp/child.h"
#include "exp/folder.h"
#include "util/fileio.h"
#include "exp/runinfo.h"
#include "model/model.h"
#include "train/dist.h"
#include "train/trainer.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

// n_params_nonembed is the N of the scaling fit (E5): everything but the token embedding and an
// untied LM head.
static child_report count_params(const train_config *c) {
    model *m = model_create(&c->model, c->seed);
    child_report r = {(long long)model_num_params(m), (long long)model_num_params(m)};
    static const char *EMBED[] = {"model.embed_tokens.weight", "lm_head.weight"};
    for (int i = 0; i < 2; i++) {
        int t = model_tensor_find(m, EMBED[i]);
        if (t >= 0) r.n_params_nonembed -= (long long)model_tensor_at(m, t)->numel;
    }
    model_free(m);
    return r;
}

static void redirect_output(const char *run_dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/train.log", run_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;  // keep the sweep's stderr then
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
}

// The trainer returns 1 both for max_bad_steps consecutive bad steps and for SIGINT/SIGTERM; the
// metrics tell them apart: a bad-step stop ends on a skipped line with a full bad streak.
static const char *status_of(int rc, const train_config *c, const metrics_tail *t) {
    if (rc == TRAIN_DONE) return "done";
    if (rc == TRAIN_DIVERGED) return "diverged";
    if (rc == TRAIN_INTERRUPTED && t->last_skipped && t->last_bad_streak >= c->max_bad_steps) return "stopped";
    if (rc == TRAIN_INTERRUPTED && t->diverged) return "diverged";
    if (rc == TRAIN_INTERRUPTED) return NULL;
    return "failed";
}

void child_main(const sweep_entry *e, const char *run_dir, int threads, int report_fd, pid_t parent) {
    // A sweep killed outright takes its runs with it (they resume from their checkpoints).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(CHILD_ORPHANED);
    // A sweep rank's MPI belongs to the parent: this run trains as one process.
    dist_detach();
    // Own process group: a Ctrl-C at the terminal reaches only the sweep, which forwards one signal
    // (a second one would kill the trainer before it checkpoints).
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char err[512];
    if (mkdir_p(run_dir, err, sizeof err)) {
        fprintf(stderr, "actlab: error: %s\n", err);
        _exit(1);
    }
    redirect_output(run_dir);
    train_config c = e->cfg;
    snprintf(c.out_dir, sizeof c.out_dir, "%s", run_dir);
    if (c.threads == 0) c.threads = threads;
    train_set_threads(c.threads);
    child_report rep = count_params(&c);
    if (write(report_fd, &rep, sizeof rep) != (ssize_t)sizeof rep) perror("sweep: report pipe");
    close(report_fd);
    char ckpt[1100], metrics[1100];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", run_dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run_dir);
    int resume = access(ckpt, F_OK) == 0;
    fprintf(stderr, "sweep: run %s, %d threads%s\n", e->name, c.threads, resume ? ", resuming" : "");
    train_hooks hooks = {.quiet = 1};
    int rc = train_run(&c, resume ? ckpt : NULL, &hooks);
    // From here on the outcome is decided: a late signal must not tear run.json.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    metrics_tail t;
    metrics_read_tail(metrics, &t);
    const char *status = status_of(rc, &c, &t);
    if (!status) _exit(CHILD_INTERRUPTED);
    run_outcome o = {status, rc, rep.n_params, rep.n_params_nonembed};
    fflush(NULL);
    _exit(run_json_write(run_dir, e, &o) ? 1 : 0);
}
