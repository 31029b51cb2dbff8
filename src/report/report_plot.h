// report_plot.h — figures through gnuplot: each figure is a script plus data files in a private
// temp folder; gnuplot renders SVG and PNG there, and the results are copied into DIR/figures/
// atomically. With no gnuplot every call is a no-op and rp_fig_end reports "not drawn".
#ifndef ACTLAB_REPORT_PLOT_H
#define ACTLAB_REPORT_PLOT_H

#include "report/report.h"
#include "report/rp.h"

typedef struct {
    int enabled;
    char why[256];            // why figures are skipped (enabled == 0)
    char prog[512];
    const char *png_term;     // pngcairo, or png (libgd) where cairo is missing
    char tmp[256];            // private temp folder
    char figdir[1100];        // DIR/figures
    int quiet;
} rp_plotter;

// Returns 0, or -1 with err set when the figures folder cannot be made.
int rp_plotter_init(rp_plotter *p, const char *dir, const report_opts *o, char *err, size_t errlen);
void rp_plotter_close(rp_plotter *p);

typedef struct {
    rp_plotter *p;
    char name[64];
    rp_buf script, plot;
    int n_series, n_files;
} rp_fig;

// name: file stem under figures/ ([a-z0-9_-]); scale: bit 0 log x, bit 1 log y.
void rp_fig_begin(rp_fig *f, rp_plotter *p, const char *name, const char *title, const char *xlabel,
                  const char *ylabel, int scale);
// One series: ncols columns of n rows (rows with a non-finite value are left out), drawn with
// `style`, e.g. "1:2 with lines lw 2" or "1:2:3 with filledcurves fs transparent solid 0.2".
// label NULL: not in the key. color: index into a fixed palette.
void rp_fig_series(rp_fig *f, const double *const *cols, int ncols, size_t n, const char *style, const char *label,
                   int color);
// Renders; returns 1 when figures/<name>.svg and .png were written, 0 when skipped or failed.
int rp_fig_end(rp_fig *f);

#endif
