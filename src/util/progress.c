// progress.c — see progress.h.
#include "progress.h"
#include "timer.h"

#include <stdio.h>
#include <unistd.h>

void progress_start(progress_t *p, const char *label, size_t total) {
    p->label = label;
    p->total = total;
    p->t_start = p->t_last_draw = now_seconds();
    p->tty = isatty(2);
}

static void fmt_duration(char *buf, size_t n, double s) {
    if (s < 0 || s > 1e7) { snprintf(buf, n, "--:--"); return; }
    int h = (int)(s / 3600), m = (int)(s / 60) % 60, sec = (int)s % 60;
    if (h) snprintf(buf, n, "%d:%02d:%02d", h, m, sec);
    else snprintf(buf, n, "%02d:%02d", m, sec);
}

static void draw(progress_t *p, size_t done, const char *extra, int final) {
    double t = now_seconds(), el = t - p->t_start;
    double frac = p->total ? (double)done / (double)p->total : 1.0;
    char eta[32], elapsed[32];
    fmt_duration(eta, sizeof eta, done ? el / (double)done * (double)(p->total - done) : -1);
    fmt_duration(elapsed, sizeof elapsed, el);
    int width = 24, fill = (int)(frac * width + 0.5);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "%s%s [%s] %3.0f%% %zu/%zu %s ETA %s%s%s%s", p->tty ? "\r\033[K" : "", p->label, bar,
            100 * frac, done, p->total, elapsed, final ? "00:00" : eta, extra ? "  " : "", extra ? extra : "",
            (p->tty && !final) ? "" : "\n");
    fflush(stderr);
    p->t_last_draw = t;
}

void progress_update(progress_t *p, size_t done, const char *extra) {
    double t = now_seconds();
    if (t - p->t_last_draw < (p->tty ? 0.1 : 5.0)) return;
    draw(p, done, extra, 0);
}

void progress_finish(progress_t *p, const char *extra) { draw(p, p->total, extra, 1); }
