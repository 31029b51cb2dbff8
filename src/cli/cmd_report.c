// cmd_report.c — `actlab report DIR`: report.md, report.html and figures for a sweep folder.
#include "args.h"
#include "commands.h"
#include "report/report.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report_help(void) {
    printf("usage: actlab report DIR [--no-figures] [--quiet]\n\n"
           "Reads the sweep folder DIR (plan.json, runs/<name>/run.json, config.json, metrics.jsonl; see\n"
           "docs/report.md) and writes DIR/report.md, a self-contained DIR/report.html and gnuplot figures\n"
           "DIR/figures/*.svg and *.png: runs overview, loss curves, validation-loss table beside the papers'\n"
           "differences, E1 outlier bands, E2 FP8 learning-rate ladder, E4 loss against m, E5 scaling-law fit,\n"
           "and a verdict per claim (reproduced / not reproduced / inconclusive) with the rule used.\n"
           "Runs without run.json are listed as not finished and left out of the numbers. The output depends\n"
           "only on the runs' results (no timings), so identical results give identical files.\n\n"
           "options:\n"
           "  --no-figures   skip gnuplot (the report says so)\n"
           "  --quiet        do not list the files written\n\n"
           "environment: ACTLAB_GNUPLOT=PROGRAM runs PROGRAM instead of gnuplot; when it is not found the\n"
           "figures are skipped and the report says so.\n\n"
           "example: actlab report sweeps/tiny && xdg-open sweeps/tiny/report.html\n");
}

int cmd_report(int argc, char **argv) {
    report_opts o = {0};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) {
            report_help();
            return 0;
        }
        if (!strcmp(a, "--no-figures")) o.no_figures = 1;
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else if (!strncmp(a, "--", 2)) usage_error("report", "unknown option %s", a);
        else if (dir) usage_error("report", "one folder only ('%s' and '%s' given)", dir, a);
        else dir = a;
    }
    if (!dir) usage_error("report", "name the sweep folder: actlab report DIR");
    char err[2048];
    if (report_generate(dir, &o, err, sizeof err))
        die("DIR must be a folder written by 'actlab sweep' (plan.json, runs/<name>/...)", "%s", err);
    return 0;
}
