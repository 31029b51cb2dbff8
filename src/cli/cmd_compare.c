// cmd_compare.c — `actlab compare`: the main job. Runs the built-in suite (src/exp/suite.c) as a
// sweep, then writes the report, and prints where it is.
#include "args.h"
#include "commands.h"
#include "exp/suite.h"
#include "exp/sweep.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void compare_help(void) {
    printf("usage: actlab compare [--quick] [--out DIR] [--data-dir DIR] [--jobs N|auto] [--no-figures]\n"
           "                      [--print-spec]\n\n"
           "The main job: reproduces the PowLU and PolyCom papers' claims E1-E5 (../shared/spec/EXPERIMENTS.md)\n"
           "at small scale on the default corpus, then writes a report with plots and a verdict per claim.\n"
           "Suite: swiglu, swiglu_clip, powlu, polynorm, polyrelu, gelu and relu, 3 seeds each (E3, with E1's\n"
           "outlier bands from the same runs); powlu m = 2, 3, 4 (E4); 4 model sizes for swiglu and powlu (E5);\n"
           "an FP8 delayed-scaling learning-rate ladder for swiglu, swiglu_clip and powlu (E2). About 50 runs\n"
           "of 800 steps, ~20-30 minutes on 2 cores; --quick: the same sections with 150 steps, 2 seeds and\n"
           "smaller models, ~2-3 minutes (its verdicts mean even less).\n\n"
           "Interrupt it at any time: rerunning the same command continues where it stopped (finished runs\n"
           "are kept, interrupted ones resume bitwise from their checkpoints).\n\n"
           "options:\n"
           "  --quick            the short suite (default folder runs/compare-quick)\n"
           "  --out DIR          the sweep folder (default runs/compare); the report is DIR/report.md/.html\n"
           "  --data-dir DIR     shards and tokenizer from 'actlab data' (default data)\n"
           "  --jobs N|auto      runs at once (see 'actlab sweep --help')\n"
           "  --no-figures       skip gnuplot\n"
           "  --print-spec       print the suite as a sweep spec (for 'actlab sweep') and exit\n\n"
           "Exit status: 0 report written, 1 runtime error or failed runs (the report is still written),\n"
           "2 usage error, 130 interrupted.\n");
}

int cmd_compare(int argc, char **argv) {
    const char *out = NULL, *data = "data";
    int quick = 0, jobs = 0, print_spec = 0;
    report_opts ro = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) {
            compare_help();
            return 0;
        }
        if (!strcmp(a, "--quick")) quick = 1;
        else if (!strcmp(a, "--out")) out = arg_value("compare", argc, argv, &i);
        else if (!strcmp(a, "--data-dir")) data = arg_value("compare", argc, argv, &i);
        else if (!strcmp(a, "--jobs")) {
            const char *v = arg_value("compare", argc, argv, &i);
            jobs = strcmp(v, "auto") ? (int)arg_long("compare", "--jobs", v, 1, 256) : 0;
        } else if (!strcmp(a, "--no-figures")) ro.no_figures = 1;
        else if (!strcmp(a, "--print-spec")) print_spec = 1;
        else usage_error("compare", "unknown option '%s'", a);
    }
    if (strpbrk(data, "\"\\")) usage_error("compare", "--data-dir must not contain quotes or backslashes");
    if (!out) out = quick ? "runs/compare-quick" : "runs/compare";
    char *spec = suite_spec(quick, data), err[1024];
    if (print_spec) {
        fputs(spec, stdout);
        free(spec);
        return 0;
    }
    char shard[1100];
    snprintf(shard, sizeof shard, "%s/train.bin", data);
    if (access(shard, R_OK) != 0) {
        fprintf(stderr, "actlab compare: error: no training shard at '%s'\n  hint: build the corpus first with "
                        "'actlab data' (or point --data-dir at its folder)\n", shard);
        free(spec);
        return 1;
    }
    sweep_plan plan;
    int rc = 1;
    if (sweep_plan_load(&plan, spec, strlen(spec), err, sizeof err)) {
        fprintf(stderr, "actlab compare: error: the built-in suite is invalid: %s\n  hint: this is a bug\n", err);
        free(spec);
        return 1;
    }
    fprintf(stderr, "actlab compare: %s suite, %d runs, folder %s\n", quick ? "quick" : "full", plan.n_runs, out);
    if (sweep_prepare(&plan, out, spec, strlen(spec), 0, err, sizeof err)) {
        fprintf(stderr, "actlab compare: error: %s\n", err);
    } else {
        sweep_opts so = {.jobs = jobs ? jobs : sweep_jobs_auto((int)sysconf(_SC_NPROCESSORS_ONLN))};
        rc = sweep_run(&plan, out, &so);
        if (rc != 130) {
            if (report_generate(out, &ro, err, sizeof err)) {
                fprintf(stderr, "actlab compare: error: report: %s\n", err);
                rc = 1;
            } else {
                printf("report: %s/report.md and %s/report.html\n", out, out);
            }
        }
    }
    sweep_plan_free(&plan);
    free(spec);
    return rc;
}
