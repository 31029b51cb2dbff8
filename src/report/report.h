// report.h — `actlab report DIR`: reads a sweep folder (plan.json, runs/<name>/{run.json,
// config.json, metrics.jsonl}; see docs/report.md) and writes DIR/report.md, a self-contained
// DIR/report.html and gnuplot figures in DIR/figures/. Reads files only; links no trainer.
#ifndef ACTLAB_REPORT_H
#define ACTLAB_REPORT_H

#include <stddef.h>

typedef struct {
    int no_figures;        // 1: skip gnuplot even when it is installed
    const char *gnuplot;   // program to run (NULL: $ACTLAB_GNUPLOT, else "gnuplot")
    int quiet;             // 1: no "wrote ..." lines on stderr
} report_opts;

// Returns 0, or -1 with a message naming the file (and line) in err. Every input is read and
// checked before anything is written, so a bad folder leaves no half-written report behind.
int report_generate(const char *dir, const report_opts *o, char *err, size_t errlen);

#endif
