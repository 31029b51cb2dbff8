// runner.c — sweep_run: the parent's loop. It forks one child per run (at most `jobs` at once),
// follows their metrics.jsonl for one overall progress bar, records the outcome of each, and
// forwards SIGINT/SIGTERM so that every active run checkpoints before the sweep exits. Over MPI each
// rank does this for its share of the runs, rank 0 alone draws the progress of all of them, and a
// signal to any one rank stops them all.
#include "exp/child.h"
#include "exp/folder.h"
#include "util/cpus.h"
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
    int owner;          // the rank that runs it
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
    int stop_from;      // over MPI: the first other rank that was signalled (-1: none), so this one stops too
    int notified;       // this rank told the others about its own signal
} sweep_state;

static volatile sig_atomic_t g_signal, g_signals;

static void on_signal(int sig) {
    g_signal = sig;
    g_signals++;
}

static int stopping(const sweep_state *s) { return g_signals || s->stop_from >= 0; }

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
    *sl = (slot){.pid = pid, .idx = idx, .fd = fds[0], .t0 = now_seconds()};
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
    int interrupted = !status[0] && (code == CHILD_INTERRUPTED || code == CHILD_ORPHANED || stopping(s));
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

enum { RUN_FINISHED, RUN_PENDING, RUN_START_OVER };  // what a run needs, as rank 0 decides it

// Finished runs are skipped (failed ones too unless retry_failed); with --force a run whose
// configuration changed starts over, as does a failed one with retry_failed (a crash leaves nothing
// worth resuming from for sure).
static uint64_t run_need(const sweep_state *s, const sweep_opts *o, int i) {
    char run_dir[1024], status[32], vl[40];
    run_dir_of(s, i, run_dir, sizeof run_dir);
    if (o->force && folder_run_changed(&s->p->runs[i], run_dir)) {
        fprintf(stderr, "  %-40s configuration changed: starting over\n", s->p->runs[i].name);
        return RUN_START_OVER;
    }
    run_json_read(run_dir, status, sizeof status, vl, sizeof vl);
    if (!status[0]) return RUN_PENDING;
    return o->retry_failed && !strcmp(status, "failed") ? RUN_START_OVER : RUN_FINISHED;
}

// This rank's runs still to run. Over MPI rank 0 alone reads the folder and every rank gets its
// verdicts (a network file system may show another host an older folder), and the k-th pending run
// goes to rank k % ranks, so a resume spreads what is left evenly whichever runs finished. Each
// rank clears its own runs that start over; rank 0 lists the others' pending runs in s->watch to
// show their progress.
static int *pending_runs(sweep_state *s, const sweep_opts *o, int *n) {
    int n_runs = s->p->n_runs, *idx = malloc((size_t)(n_runs + 1) * sizeof *idx), k = 0;
    uint64_t *need = calloc((size_t)n_runs + 1, sizeof *need);
    if (s->rank == 0)
        for (int i = 0; i < n_runs; i++) need[i] = run_need(s, o, i);
    if (s->ranks > 1) dist_sum_u64(need, (size_t)n_runs);  // the other ranks add zeros
    *n = 0;
    for (int i = 0; i < n_runs; i++) {
        if (need[i] == RUN_FINISHED) continue;
        int owner = k++ % s->ranks;
        if (owner != s->rank) {
            if (s->rank == 0) s->watch[s->n_watch++] = (slot){.idx = i, .fd = -1, .owner = owner};
            continue;
        }
        if (need[i] == RUN_START_OVER) {
            char run_dir[1024];
            run_dir_of(s, i, run_dir, sizeof run_dir);
            folder_run_clear(run_dir);
        }
        idx[(*n)++] = i;
    }
    free(need);
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
        say(s, "  %-40s %-8s val_loss %s  (rank %d)%s%s%s\n", e->name, status, vl, w->owner,
            failed ? "  see " : "", failed ? run_dir : "", failed ? "/train.log" : "");
        w->idx = -1;
    }
}

// Over MPI, called every tick: a signalled rank tells the others once, and a rank told stops its runs
// as if it had been signalled itself (they checkpoint, and the whole sweep resumes later).
static void stop_together(sweep_state *s) {
    if (g_signals && !s->notified) {
        dist_notify_others(g_signal);
        s->notified = 1;
    }
    int from, sig;
    while ((sig = dist_poll_notice(&from)) != 0) {
        if (s->stop_from >= 0) continue;
        s->stop_from = from;
        if (!g_signals)
            say(s, "actlab sweep: rank %d of %d got %s: every rank checkpoints its runs and stops\n", from, s->ranks,
                sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
    }
}

static int watching(const sweep_state *s) {
    for (int j = 0; j < s->n_watch; j++)
        if (s->watch[j].idx >= 0) return 1;
    return 0;
}

// The end of a sweep over several ranks, once every rank is past sweep_run's loop: every rank returns
// the same status from the summed counts (one process: its own counts).
static int final_status(const sweep_state *s) {
    uint64_t c[4] = {g_signals != 0, (uint64_t)s->n_interrupted, (uint64_t)s->n_failed, (uint64_t)s->notified};
    int last = 0;  // 1 + the highest rank that was signalled
    if (s->ranks > 1) {
        dist_sum_u64(c, 4);
        last = dist_max_int(g_signals ? s->rank + 1 : 0);
        dist_notices_settle((int)c[3]);
    }
    if (c[0]) {
        char who[80] = "";
        if (c[0] == 1 && s->ranks > 1) snprintf(who, sizeof who, " by a signal to rank %d of %d", last - 1, s->ranks);
        else if (c[0] < (uint64_t)s->ranks)
            snprintf(who, sizeof who, " by signals to %d of %d ranks", (int)c[0], s->ranks);
        if (!s->quiet)
            fprintf(stderr, "\nactlab sweep: interrupted%s; %d run%s checkpointed\n  hint: rerun the same command to "
                    "continue where it stopped\n", who, (int)c[1], c[1] == 1 ? "" : "s");
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
    sweep_state s = {.p = p, .dir = dir, .jobs = o->jobs > 0 ? o->jobs : 1, .ranks = o->ranks > 1 ? o->ranks : 1,
                     .stop_from = -1};
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
    // Over MPI also a barrier: rank 0 follows no run (and no rank starts one) before its owner cleared it.
    uint64_t n_all = (uint64_t)n;
    if (s.ranks > 1) dist_sum_u64(&n_all, 1);
    if (!n_all) {
        if (!s.quiet) fprintf(stderr, "sweep %s: all %d runs are finished; nothing to do\n", p->name, p->n_runs);
        free(todo);
        free(s.watch);
        return 0;
    }
    long cores = o->cores > 0 ? o->cores : cpus_for_rank(1);
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
    for (;;) {
        if (s.ranks > 1) stop_together(&s);
        // A first signal (to this rank or another): each run checkpoints and stops. A second one to
        // this rank: stop now.
        int level = g_signals > 1 ? 2 : stopping(&s);
        if (level > forwarded) {
            forward_signal(&s, level == 2 ? SIGKILL : g_signals ? g_signal : SIGTERM);
            forwarded = level;
        }
        for (int j = 0; j < s.jobs && next < n && !stopping(&s); j++)
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
        if (!active && (next == n || stopping(&s)) && (!watching(&s) || stopping(&s))) {
            // This rank's share is over. The others may still run theirs: wait for them here, where
            // a signal to this rank still reaches them, rather than inside a blocking collective.
            dist_barrier_begin();
            if (dist_barrier_done()) break;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!stopping(&s) && !s.quiet) progress_finish(&s.bar, NULL);
    free(todo);
    free(s.slots);
    free(s.watch);
    // Still handled while waiting for the other ranks: a signal then must not kill this rank outright.
    int rc = final_status(&s);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
