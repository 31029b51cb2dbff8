// runner.c — sweep_run: the parent's loop. It forks one child per run (at most `jobs` at once),
// follows their metrics.jsonl for one overall progress bar, records the outcome of each, and
// forwards SIGINT/SIGTERM so that every active run checkpoints before the sweep exits. Over MPI each
// rank does this for its share of the runs, and rank 0 alone draws the progress of all of them.
#include "exp/child.h"
#include "exp/folder.h"
#include "util/fileio.h"
#include "exp/runinfo.h"
#include "exp/sweep.h"
#include "util/atomic.h"
#include "util/progress.h"
#include "util/timer.h"
#include "train/dist.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;          // 0: free
    int idx;            // index into the plan
    int fd;             // read end of the child's report pipe
    double t0;
    long step;          // last step seen in its metrics.jsonl
    long moff;          // bytes of metrics.jsonl already scanned
} slot;

typedef struct {
    const sweep_plan *p;
    const char *dir;
    progress_t bar;
    slot *slots;
    slot *watch;        // rank 0 over MPI: the other ranks' pending runs (idx -1 once finished)
    int n_watch, rank, ranks, quiet;  // quiet: a rank other than 0 (rank 0 reports for all)
    int jobs, threads, n_started, n_pending, n_finished, n_failed, n_interrupted;
    size_t steps_done;  // steps of pending runs that have finished
} sweep_state;

static volatile sig_atomic_t g_signal, g_signals;

static void on_signal(int sig) {
    g_signal = sig;
    g_signals++;
}

int sweep_jobs_auto(int cores) {
    // Measured on a 2-core machine (docs/sweep.md): two single-threaded runs side by side give more
    // tokens/s in total than one run on both cores, since the small models scale poorly across threads.
    return cores >= 2 ? 2 : 1;
}

static void run_dir_of(const sweep_state *s, int idx, char *out, size_t len) {
    snprintf(out, len, "%s/runs/%s", s->dir, s->p->runs[idx].name);
}

// Follows a child's metrics.jsonl from where the last call stopped (complete lines only).
static void poll_step(const sweep_state *s, slot *sl) {
    char path[1100];
    run_dir_of(s, sl->idx, path, sizeof path - 16);
    strcat(path, "/metrics.jsonl");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size < sl->moff) sl->moff = 0;  // rewritten (resume trims it)
    fseek(f, sl->moff, SEEK_SET);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
        long step;
        if (sscanf(line, "{\"step\":%ld", &step) == 1) sl->step = step;
        sl->moff += n;
    }
    free(line);
    fclose(f);
}

static size_t progress_done(const sweep_state *s) {
    size_t d = s->steps_done;
    for (int j = 0; j < s->jobs; j++)
        if (s->slots[j].pid) d += (size_t)s->slots[j].step;
    for (int j = 0; j < s->n_watch; j++)
        if (s->watch[j].idx >= 0) d += (size_t)s->watch[j].step;
    return d;
}

static void draw(sweep_state *s) {
    if (s->quiet) return;
    char extra[160];
    int active = 0;
    for (int j = 0; j < s->jobs; j++) active += s->slots[j].pid != 0;
    if (s->ranks > 1)
        snprintf(extra, sizeof extra, "runs %d/%d done, %d active here, %d ranks", s->n_finished, s->n_pending,
                 active, s->ranks);
    else snprintf(extra, sizeof extra, "runs %d/%d done, %d active", s->n_finished, s->n_pending, active);
    progress_update(&s->bar, progress_done(s), extra);
}

static void say(sweep_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(sweep_state *s, const char *fmt, ...) {
    if (s->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    if (s->bar.tty) fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (s->bar.tty) s->bar.t_last_draw = 0;  // redraw the bar below the line at once
}

// Several ranks update timing.json: a lock beside it keeps one rank from losing another's entry.
static int lock_timing(const sweep_state *s) {
    char path[1100];
    snprintf(path, sizeof path, "%s/timing.json.lock", s->dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fd >= 0) fcntl(fd, F_SETLKW, &fl);  // unlocked on close; without a lock we write anyway
    return fd;
}

static void record_timing(const sweep_state *s, const char *name, double wall) {
    char path[1100];
    snprintf(path, sizeof path, "%s/timing.json", s->dir);
    int lock = s->ranks > 1 ? lock_timing(s) : -1;
    json_t *t = json_load_file(path, 0, NULL);
    if (!json_is_object(t)) json_decref(t), t = json_object();
    json_t *old = json_object_get(json_object_get(t, name), "wall_s");
    json_t *e = json_object();
    json_object_set_new(e, "wall_s", json_real(wall + (json_is_number(old) ? json_number_value(old) : 0)));
    json_object_set_new(e, "jobs", json_integer(s->jobs));
    json_object_set_new(e, "threads", json_integer(s->threads));
    json_object_set_new(t, name, e);
    char *txt = json_dumps(t, JSON_INDENT(2));
    atomic_write_file(path, txt, strlen(txt));
    free(txt);
    json_decref(t);
    if (lock >= 0) close(lock);
}

static void launch(sweep_state *s, slot *sl, int idx) {
    char run_dir[1024];
    run_dir_of(s, idx, run_dir, sizeof run_dir);
    int fds[2];
    if (pipe(fds)) {
        perror("actlab sweep: pipe");
        exit(1);
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        perror("actlab sweep: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(&s->p->runs[idx], run_dir, s->threads, fds[1], parent);
    }
    close(fds[1]);
    *sl = (slot){pid, idx, fds[0], now_seconds(), 0, 0};
    s->n_started++;
}

// A child ended: its run.json says how, unless it crashed or was interrupted.
static void reap(sweep_state *s, slot *sl, int wstatus) {
    const sweep_entry *e = &s->p->runs[sl->idx];
    char run_dir[1024], status[32], vl[40];
    run_dir_of(s, sl->idx, run_dir, sizeof run_dir);
    child_report rep = {-1, -1};
    if (read(sl->fd, &rep, sizeof rep) != (ssize_t)sizeof rep) rep = (child_report){-1, -1};
    close(sl->fd);
    double wall = now_seconds() - sl->t0;
    record_timing(s, e->name, wall);
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    run_json_read(run_dir, status, sizeof status, vl, sizeof vl);
    int interrupted = !status[0] && (code == CHILD_INTERRUPTED || code == CHILD_ORPHANED || g_signals);
    if (interrupted) {
        s->n_interrupted++;
        say(s, "  %-40s interrupted (resumes from its checkpoint)\n", e->name);
    } else {
        if (!status[0]) {  // crashed or died on an error: see train.log
            run_outcome o = {"failed", code, rep.n_params, rep.n_params_nonembed};
            run_json_write(run_dir, e, &o);
            snprintf(status, sizeof status, "failed");
        }
        s->n_failed += !strcmp(status, "failed");
        s->n_finished++;
        s->steps_done += (size_t)e->cfg.steps;
        say(s, "  %-40s %-8s val_loss %s  (%.1f s)%s%s%s\n", e->name, status, vl, wall,
            strcmp(status, "failed") ? "" : "  see ", strcmp(status, "failed") ? "" : run_dir,
            strcmp(status, "failed") ? "" : "/train.log");
    }
    sl->pid = 0;
}

static void forward_signal(sweep_state *s, int sig) {
    for (int j = 0; j < s->jobs; j++)
        if (s->slots[j].pid) kill(s->slots[j].pid, sig);
}

// Another rank's run i still to run, as its owner will decide it (read only: the owner clears).
static int pending_elsewhere(const sweep_state *s, const sweep_opts *o, int i) {
    char run_dir[1024], status[32], vl[40];
    run_dir_of(s, i, run_dir, sizeof run_dir);
    if (o->force && folder_run_changed(&s->p->runs[i], run_dir)) return 1;
    run_json_read(run_dir, status, sizeof status, vl, sizeof vl);
    return !status[0] || (o->retry_failed && !strcmp(status, "failed"));
}

// Which of this rank's runs still need to run; finished ones are skipped (failed ones too unless
// retry_failed), and with --force a run whose configuration changed starts over. Rank 0 of several
// also lists the other ranks' pending runs in s->watch, to show their progress.
static int *pending_runs(sweep_state *s, const sweep_opts *o, int *n) {
    int *idx = malloc((size_t)(s->p->n_runs + 1) * sizeof *idx);
    *n = 0;
    for (int i = 0; i < s->p->n_runs; i++) {
        char run_dir[1024], status[32], vl[40];
        if (i % s->ranks != s->rank) {
            if (s->rank == 0 && pending_elsewhere(s, o, i)) s->watch[s->n_watch++] = (slot){.idx = i, .fd = -1};
            continue;
        }
        run_dir_of(s, i, run_dir, sizeof run_dir);
        if (o->force && folder_run_changed(&s->p->runs[i], run_dir)) {
            fprintf(stderr, "  %-40s configuration changed: starting over\n", s->p->runs[i].name);
            folder_run_clear(run_dir);
        }
        run_json_read(run_dir, status, sizeof status, vl, sizeof vl);
        if (status[0] && o->retry_failed && !strcmp(status, "failed")) {
            folder_run_clear(run_dir);  // a crash leaves nothing worth resuming from for sure
            status[0] = 0;
        }
        if (!status[0]) idx[(*n)++] = i;
    }
    return idx;
}

// Rank 0 of several: the other ranks' runs, read from the shared folder: their progress from
// metrics.jsonl and, once their run.json appears, their outcome.
static void follow_others(sweep_state *s) {
    for (int j = 0; j < s->n_watch; j++) {
        slot *w = &s->watch[j];
        if (w->idx < 0) continue;
        const sweep_entry *e = &s->p->runs[w->idx];
        char run_dir[1024], status[32], vl[40];
        run_dir_of(s, w->idx, run_dir, sizeof run_dir);
        run_json_read(run_dir, status, sizeof status, vl, sizeof vl);
        if (!status[0]) {
            poll_step(s, w);
            continue;
        }
        int failed = !strcmp(status, "failed");
        s->n_finished++;
        s->steps_done += (size_t)e->cfg.steps;
        say(s, "  %-40s %-8s val_loss %s  (rank %d)%s%s%s\n", e->name, status, vl, w->idx % s->ranks,
            failed ? "  see " : "", failed ? run_dir : "", failed ? "/train.log" : "");
        w->idx = -1;
    }
}

static int watching(const sweep_state *s) {
    for (int j = 0; j < s->n_watch; j++)
        if (s->watch[j].idx >= 0) return 1;
    return 0;
}

// The end of a sweep over several ranks: every rank waits for the others and returns the same status
// from the summed counts (one process: its own counts).
static int final_status(const sweep_state *s) {
    uint64_t c[3] = {g_signals != 0, (uint64_t)s->n_interrupted, (uint64_t)s->n_failed};
    if (s->ranks > 1) dist_sum_u64(c, 3);
    if (c[0]) {
        if (!s->quiet)
            fprintf(stderr, "\nactlab sweep: interrupted; %d run%s checkpointed\n  hint: rerun the same command to "
                    "continue where it stopped\n", (int)c[1], c[1] == 1 ? "" : "s");
        return 130;
    }
    if (c[2]) {
        if (!s->quiet)
            fprintf(stderr, "actlab sweep: %d run%s failed (see their train.log)\n  hint: rerun with --retry-failed "
                    "after fixing the cause\n", (int)c[2], c[2] == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

int sweep_run(const sweep_plan *p, const char *dir, const sweep_opts *o) {
    sweep_state s = {.p = p, .dir = dir, .jobs = o->jobs > 0 ? o->jobs : 1, .ranks = o->ranks > 1 ? o->ranks : 1};
    s.rank = s.ranks > 1 ? o->rank : 0;
    s.quiet = s.rank != 0;
    char runs[1100], err[512];
    snprintf(runs, sizeof runs, "%s/runs", dir);
    int bad = mkdir_p(runs, err, sizeof err) != 0;
    if (bad) fprintf(stderr, "actlab sweep: error: %s\n", err);
    if (s.ranks > 1 ? dist_max_int(bad) : bad) return 1;
    s.watch = calloc((size_t)p->n_runs + 1, sizeof *s.watch);
    int n, *todo = pending_runs(&s, o, &n);
    s.n_pending = n + s.n_watch;
    // Over MPI also a barrier: no rank starts a run before every rank has listed (and cleared) its own.
    uint64_t n_all = (uint64_t)n;
    if (s.ranks > 1) dist_sum_u64(&n_all, 1);
    if (!n_all) {
        if (!s.quiet) fprintf(stderr, "sweep %s: all %d runs are finished; nothing to do\n", p->name, p->n_runs);
        free(todo);
        free(s.watch);
        return 0;
    }
    long cores = o->cores > 0 ? o->cores : sysconf(_SC_NPROCESSORS_ONLN);
    s.threads = cores / s.jobs > 1 ? (int)(cores / s.jobs) : 1;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)p->runs[todo[i]].cfg.steps;
    for (int j = 0; j < s.n_watch; j++) total += (size_t)p->runs[s.watch[j].idx].cfg.steps;
    if (s.ranks > 1 && !s.quiet)
        fprintf(stderr, "sweep %s: %d runs (%d to run, %d finished) over %d ranks, %d at once per rank with %d "
                "thread%s each\n", p->name, p->n_runs, (int)n_all, p->n_runs - (int)n_all, s.ranks, s.jobs,
                s.threads, s.threads == 1 ? "" : "s");
    else if (!s.quiet)
        fprintf(stderr, "sweep %s: %d runs (%d to run, %d finished), %d at once with %d thread%s each\n", p->name,
                p->n_runs, n, p->n_runs - n, s.jobs, s.threads, s.threads == 1 ? "" : "s");
    s.slots = calloc((size_t)s.jobs, sizeof *s.slots);
    g_signal = g_signals = 0;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (!s.quiet) progress_start(&s.bar, "sweep", total);
    int next = 0, forwarded = 0, active = 0;
    long tick = 0;
    while (active || (next < n && !g_signals) || (watching(&s) && !g_signals)) {
        if (g_signals && forwarded != (int)g_signals) {
            // First signal: each run checkpoints and stops. A second one: stop now.
            forward_signal(&s, g_signals == 1 ? g_signal : SIGKILL);
            forwarded = (int)g_signals;
        }
        for (int j = 0; j < s.jobs && next < n && !g_signals; j++)
            if (!s.slots[j].pid) launch(&s, &s.slots[j], todo[next++]), active++;
        int wst;
        pid_t pid;
        while ((pid = waitpid(-1, &wst, WNOHANG)) > 0)
            for (int j = 0; j < s.jobs; j++)
                if (s.slots[j].pid == pid) reap(&s, &s.slots[j], wst), active--;
        for (int j = 0; j < s.jobs; j++)
            if (s.slots[j].pid) poll_step(&s, &s.slots[j]);
        if (s.n_watch && tick++ % 10 == 0) follow_others(&s);  // once a second: a shared file system is slower
        draw(&s);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!g_signals && !s.quiet) progress_finish(&s.bar, NULL);
    free(todo);
    free(s.slots);
    free(s.watch);
    // Still handled while waiting for the other ranks: a signal then must not kill this rank outright.
    int rc = final_status(&s);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
