// report_plot.c — see report_plot.h.
#include "report/report_plot.h"
#include "util/atomic.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// Colour-blind-safe palette (Okabe-Ito), one colour per activation.
static const char *const PALETTE[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#F0E442"};
#define N_PALETTE (sizeof PALETTE / sizeof PALETTE[0])

static void sh_quote(rp_buf *b, const char *s) {
    rp_puts(b, "'");
    for (; *s; s++) *s == '\'' ? rp_puts(b, "'\\''") : rp_append(b, s, 1);
    rp_puts(b, "'");
}

static int on_path(const char *prog) {
    if (strchr(prog, '/')) return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path) return 0;
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && n < 3000) {
            snprintf(dir, sizeof dir, "%.*s/%s", (int)n, path, prog);
            if (access(dir, X_OK) == 0) return 1;
        }
        path += n + (path[n] == ':');
    }
    return 0;
}

static int run_quiet(rp_plotter *p, const char *args, const char *errfile) {
    rp_buf cmd = {0};
    sh_quote(&cmd, p->prog);
    rp_printf(&cmd, " %s >/dev/null 2>", args);
    errfile ? sh_quote(&cmd, errfile) : rp_puts(&cmd, "/dev/null");
    fflush(NULL);
    int rc = system(cmd.p);
    rp_buf_free(&cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

int rp_plotter_init(rp_plotter *p, const char *dir, const report_opts *o, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->quiet = o->quiet;
    const char *prog = o->gnuplot ? o->gnuplot : getenv("ACTLAB_GNUPLOT");
    snprintf(p->prog, sizeof p->prog, "%s", prog && *prog ? prog : "gnuplot");
    if (o->no_figures) {
        snprintf(p->why, sizeof p->why, "--no-figures was given");
        return 0;
    }
    if (!on_path(p->prog)) {
        snprintf(p->why, sizeof p->why, "gnuplot was not found (install it: scripts/setup.sh)");
        return 0;
    }
    snprintf(p->figdir, sizeof p->figdir, "%s/figures", dir);
    if (mkdir_p(p->figdir, err, errlen)) return -1;
    const char *t = getenv("TMPDIR");
    snprintf(p->tmp, sizeof p->tmp, "%s/actlab-report-XXXXXX", t && *t && strlen(t) < 200 ? t : "/tmp");
    if (!mkdtemp(p->tmp)) {
        snprintf(err, errlen, "cannot create a temporary folder %s: %s", p->tmp, strerror(errno));
        return -1;
    }
    p->png_term = run_quiet(p, "-e 'set terminal pngcairo'", NULL) == 0 ? "pngcairo" : "png";
    p->enabled = 1;
    return 0;
}

void rp_plotter_close(rp_plotter *p) {
    if (p->enabled) rmdir(p->tmp);
    p->enabled = 0;
}

static void gp_string(rp_buf *b, const char *s) {   // a gnuplot single-quoted string
    rp_puts(b, "'");
    for (; *s; s++) rp_append(b, *s == '\'' ? "''" : s, 1 + (*s == '\''));
    rp_puts(b, "'");
}

void rp_fig_begin(rp_fig *f, rp_plotter *p, const char *name, const char *title, const char *xlabel,
                  const char *ylabel, int scale) {
    memset(f, 0, sizeof *f);
    f->p = p;
    snprintf(f->name, sizeof f->name, "%s", name);
    if (!p->enabled) return;
    rp_printf(&f->script, "set terminal svg size 900,480 noenhanced font 'sans,12' background '#ffffff'\n");
    rp_printf(&f->script, "set output '%s/%s.svg'\n", p->tmp, name);
    rp_puts(&f->script, "set title "), gp_string(&f->script, title);
    rp_puts(&f->script, "\nset xlabel "), gp_string(&f->script, xlabel);
    rp_puts(&f->script, "\nset ylabel "), gp_string(&f->script, ylabel);
    rp_puts(&f->script, "\nset grid\nset key outside right top\nset style fill transparent solid 0.25 noborder\n");
    if (scale & 1) rp_puts(&f->script, "set logscale x\n");
    if (scale & 2) rp_puts(&f->script, "set logscale y\n");
}

void rp_fig_series(rp_fig *f, const double *const *cols, int ncols, size_t n, const char *style, const char *label,
                   int color) {
    if (!f->p->enabled) return;
    char path[400];
    snprintf(path, sizeof path, "%s/%s-%d.dat", f->p->tmp, f->name, f->n_files++);
    FILE *d = fopen(path, "w");
    if (!d) return;
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = 1;
        for (int c = 0; c < ncols; c++) ok &= isfinite(cols[c][i]) != 0;
        if (!ok) continue;
        for (int c = 0; c < ncols; c++) fprintf(d, c ? " %.9g" : "%.9g", cols[c][i]);
        fputc('\n', d), rows++;
    }
    fclose(d);
    if (!rows) return;   // gnuplot refuses an empty data file
    rp_printf(&f->plot, "%s'%s' using %s lc rgb '%s' ", f->n_series++ ? ", \\\n  " : "plot ", path, style,
              PALETTE[(unsigned)color % N_PALETTE]);
    if (label) rp_puts(&f->plot, "title "), gp_string(&f->plot, label);
    else rp_puts(&f->plot, "notitle");
}

static int copy_out(rp_fig *f, const char *ext) {
    char src[400], dst[1200];
    snprintf(src, sizeof src, "%s/%s.%s", f->p->tmp, f->name, ext);
    snprintf(dst, sizeof dst, "%s/%s.%s", f->p->figdir, f->name, ext);
    rp_buf b = {0};
    int rc = rp_read_file(src, &b) || b.n == 0 ? -1 : atomic_write_file(dst, b.p, b.n);
    rp_buf_free(&b);
    unlink(src);
    return rc;
}

int rp_fig_end(rp_fig *f) {
    int drawn = 0;
    if (f->p->enabled && f->n_series) {
        rp_printf(&f->script, "%s\nset terminal %s size 900,480 noenhanced font 'sans,10' background '#ffffff'\n", f->plot.p,
                  f->p->png_term);
        rp_printf(&f->script, "set output '%s/%s.png'\nreplot\nunset output\n", f->p->tmp, f->name);
        char gp[400], errf[400];
        snprintf(gp, sizeof gp, "%s/%s.gp", f->p->tmp, f->name);
        snprintf(errf, sizeof errf, "%s/%s.err", f->p->tmp, f->name);
        FILE *s = fopen(gp, "w");
        if (s) fputs(f->script.p, s), fclose(s);
        rp_buf args = {0};
        sh_quote(&args, gp);
        int rc = s ? run_quiet(f->p, args.p, errf) : -1;
        rp_buf_free(&args);
        if (rc == 0) drawn = copy_out(f, "svg") == 0 && copy_out(f, "png") == 0;
        else {
            rp_buf e = {0};
            rp_read_file(errf, &e);
            fprintf(stderr, "actlab report: warning: gnuplot failed on figure %s (status %d)%s%s\n", f->name, rc,
                    e.n ? ":\n" : "", e.n ? e.p : "");
            rp_buf_free(&e);
            char p2[400];
            snprintf(p2, sizeof p2, "%s/%s.svg", f->p->tmp, f->name), unlink(p2);
            snprintf(p2, sizeof p2, "%s/%s.png", f->p->tmp, f->name), unlink(p2);
        }
        unlink(gp), unlink(errf);
    }
    for (int i = 0; f->p->enabled && i < f->n_files; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s-%d.dat", f->p->tmp, f->name, i);
        unlink(path);
    }
    if (drawn && !f->p->quiet) fprintf(stderr, "wrote %s/%s.svg and .png\n", f->p->figdir, f->name);
    rp_buf_free(&f->script);
    rp_buf_free(&f->plot);
    return drawn;
}
