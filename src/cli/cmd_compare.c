// cmd_compare.c — `actlab compare`: the main job. Runs the built-in suite (src/exp/suite.c) as a
// sweep, then writes the report, and prints where it is.
#include "args.h"
#include "commands.h"
#include "train/dist.h"
#include "exp/suite.h"
#include "exp/sweep.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void compare_help(void) {
    printf("usage: actlab compare [--quick | --full] [--out DIR] [--data-dir DIR] [--jobs N|auto]\n"
           "                      [--no-figures] [--print-spec]\n\n"
           "The main job: reproduces the PowLU and PolyCom papers' claims E1-E5 (../shared/spec/EXPERIMENTS.md)\n"
           "at small scale, then writes a report with plots and a verdict per claim, each with its effect size,\n"
           "95%% interval, n, the paper's effect and the rule (docs/report.md).\n\n"
           "Models: a 1024-id BPE, tied embeddings, d 128, 4 layers (60%% of the parameters in the FFNs), bf16\n"
           "as in the papers (native bf16 GEMMs, measured 1.3x fp32's speed at this width: docs/sweep.md).\n"
           "Two phases. Phase 1: every E1/E3 activation's learning rate tuned on a small grid (one seed no comparison\n"
           "uses); 5 model sizes x swiglu, powlu x 2 seeds with tokens proportional to size (E5); a x2\n"
           "learning-rate ladder for swiglu, swiglu_clip and powlu in FP8 (delayed scaling), in bf16 (the\n"
           "control) and (swiglu, powlu) in FP8 with a 16-step amax history (E2). Phase 2: swiglu, powlu,\n"
           "polynorm, polyrelu, gelu and relu at their tuned rates with the same seeds 1-4 (E3, paired; E1 from\n"
           "the same runs); powlu m = 2, 4 (E4); around each E2 boundary a sqrt(2) rung and 3 seeds; and 3\n"
           "seeds of the powlu and swiglu bf16 controls at the largest rung where both were stable, where\n"
           "PowLU's gate reaches its bounded regime (E1 repeated there; the tuned runs do not reach it).\n"
           "Runs validate and log telemetry only where their claim reads them; a loss bump inside the\n"
           "warmup may recover (divergence_grace).\n"
           "The default suite takes about 30 minutes on 2 cores (docs/sweep.md has the measured time);\n"
           "--full: 8 seeds, longer runs, 6 sizes (for the claims the default cannot decide; projected ~2.5 h),\n"
           "E6: swiglu, powlu, polynorm with an MoE FFN (8 experts, top-2, 1 shared, the dense model's active\n"
           "width) at their tuned rates, seeds 1-8, and swiglu, powlu on the E2 ladder in FP8 and bf16 with 3\n"
           "seeds: E1, E2 and E3 with experts (~1 h more), and E7: swiglu, swiglu_clip, powlu in NVFP4/MXFP4\n"
           "on the E2 ladder against E2's control (last; projected ~2.5 h more; docs/sweep.md);\n"
           "--quick: every section with tiny models and runs, 2-3 minutes, a smoke test whose verdicts mean\n"
           "nothing.\n\n"
           "Interrupt it at any time: rerunning the same command continues where it stopped (finished runs\n"
           "are kept, interrupted ones resume bitwise from their checkpoints). Under mpirun/srun the runs\n"
           "are spread over the ranks as in 'actlab sweep' (DIR on a file system every rank sees); rank 0\n"
           "decides phase 2 and writes the report.\n\n"
           "options:\n"
           "  --quick            the smoke suite (default folder runs/compare-quick)\n"
           "  --full             the long suite (default folder runs/compare-full)\n"
           "  --out DIR          the sweep folder (default runs/compare); the report is DIR/report.md/.html\n"
           "  --data-dir DIR     shards from 'actlab data --tokenizer bpe:1024 --data-dir DIR'\n"
           "                     (default data/bpe1024)\n"
           "  --jobs N|auto      runs at once (see 'actlab sweep --help')\n"
           "  --no-figures       skip gnuplot\n"
           "  --print-spec       print phase 1 as a sweep spec (for 'actlab sweep') and exit; with a\n"
           "                     finished phase 1 in DIR, print phase 2\n\n"
           "Exit status: 0 report written, 1 runtime error or failed runs (the report is still written),\n"
           "2 usage error, 130 interrupted.\n");
}

// One phase: the spec's plan prepared in out (replacing an earlier phase's spec, keeping the finished
// runs whose configuration is unchanged) and run. Returns sweep_run's status, or 1 on an error.
static int run_phase(const char *spec, const char *out, int phase, int jobs, sweep_plan *plan) {
    char err[1024];
    if (sweep_plan_load(plan, spec, strlen(spec), err, sizeof err)) {
        fprintf(stderr, "actlab compare: error: the built-in suite is invalid: %s\n  hint: this is a bug\n", err);
        return 1;
    }
    if (dist_rank() == 0)
        fprintf(stderr, "actlab compare: phase %d of 2, %d runs, folder %s\n", phase, plan->n_runs, out);
    if (sweep_prepare_ranks(plan, out, spec, strlen(spec), 1, err, sizeof err)) {
        if (err[0]) fprintf(stderr, "actlab compare: error: %s\n", err);
        return 1;
    }
    sweep_opts so = {.jobs = jobs ? jobs : sweep_jobs_auto(sweep_rank_cores()), .force = 1, .rank = dist_rank(),
                     .ranks = dist_size(), .cores = sweep_rank_cores()};
    return sweep_run(plan, out, &so);
}

// Phase 2's spec from phase 1's finished runs in out: NULL (with the reason in err) when they cannot
// decide it yet. verbose: say what was decided. Call it on rank 0 only (see phase2_spec_ranks).
static char *phase2_spec(suite_kind kind, const char *data, const char *out, const sweep_plan *p1, int verbose,
                         char *err, size_t errlen) {
    suite_decisions d;
    if (suite_decide(kind, p1, out, &d, err, errlen)) return NULL;
    if (!verbose) return suite_spec(kind, data, &d);
    fprintf(stderr, "actlab compare: tuned learning rates:");
    for (int i = 0; i < SUITE_N_E3; i++) fprintf(stderr, " %s %g%s", suite_e3_acts[i], d.lr[i], i + 1 < SUITE_N_E3 ? "," : "\n");
    return suite_spec(kind, data, &d);
}

// phase2_spec on every rank after phase 1 (which every rank has finished: sweep_run ends when all
// have): rank 0 decides and sends the spec text, so every rank runs the same phase 2.
static char *phase2_spec_ranks(suite_kind kind, const char *data, const char *out, const sweep_plan *p1) {
    char err[1024], *spec2 = NULL;
    if (dist_rank() == 0) {
        spec2 = phase2_spec(kind, data, out, p1, 1, err, sizeof err);
        if (!spec2) fprintf(stderr, "actlab compare: error: %s\n  hint: rerun 'actlab compare' to finish phase 1\n", err);
    }
    if (dist_size() == 1) return spec2;
    char *all = dist_bcast_string(spec2);
    free(spec2);
    return all;
}

static int compare_main(int argc, char **argv);

int cmd_compare(int argc, char **argv) {
    dist_init();  // one of several ranks when mpirun/srun started us: each runs its share
    return sweep_finish_ranks(compare_main(argc, argv));
}

static int compare_main(int argc, char **argv) {
    const char *out = NULL, *data = NULL;
    int jobs = 0, print_spec = 0;
    suite_kind kind = SUITE_DEFAULT;
    report_opts ro = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) {
            compare_help();
            return 0;
        }
        if (!strcmp(a, "--quick") || !strcmp(a, "--full")) {
            suite_kind k = a[2] == 'q' ? SUITE_QUICK : SUITE_FULL;
            if (kind != SUITE_DEFAULT && kind != k) usage_error("compare", "--quick and --full exclude each other");
            kind = k;
        } else if (!strcmp(a, "--out")) out = arg_value("compare", argc, argv, &i);
        else if (!strcmp(a, "--data-dir")) data = arg_value("compare", argc, argv, &i);
        else if (!strcmp(a, "--jobs")) {
            const char *v = arg_value("compare", argc, argv, &i);
            jobs = strcmp(v, "auto") ? (int)arg_long("compare", "--jobs", v, 1, 256) : 0;
        } else if (!strcmp(a, "--no-figures")) ro.no_figures = 1;
        else if (!strcmp(a, "--print-spec")) print_spec = 1;
        else usage_error("compare", "unknown option '%s'", a);
    }
    if (!data) data = suite_default_data();
    if (strpbrk(data, "\"\\")) usage_error("compare", "--data-dir must not contain quotes or backslashes");
    if (!out) out = suite_default_out(kind);
    char *spec = suite_spec(kind, data, NULL);
    sweep_plan plan = {0};
    if (print_spec) {
        char err[1024];
        char *spec2 = sweep_plan_load(&plan, spec, strlen(spec), err, sizeof err)
                          ? NULL
                          : phase2_spec(kind, data, out, &plan, 0, err, sizeof err);
        if (dist_rank() == 0) fputs(spec2 ? spec2 : spec, stdout);
        free(spec2);
        sweep_plan_free(&plan);
        free(spec);
        return 0;
    }
    char shard[1100];
    snprintf(shard, sizeof shard, "%s/train.bin", data);
    if (access(shard, R_OK) != 0) {
        fprintf(stderr, "actlab compare: error: no training shard at '%s'\n  hint: build the suite's corpus first with "
                        "'actlab data --tokenizer %s --data-dir %s' (make demo does)\n", shard, suite_tokenizer(), data);
        free(spec);
        return 1;
    }
    // Phase 2 goes ahead after failed runs too: a failed tuning or ladder run only loses (suite.c).
    char err[1024];
    int rc = run_phase(spec, out, 1, jobs, &plan);
    if (rc == 0 || rc == 1) {
        char *spec2 = phase2_spec_ranks(kind, data, out, &plan);
        sweep_plan_free(&plan);
        memset(&plan, 0, sizeof plan);
        int rc2 = 1;
        if (spec2) rc2 = run_phase(spec2, out, 2, jobs, &plan);
        rc = rc2 > rc ? rc2 : rc;
        free(spec2);
    }
    if (rc != 130 && dist_rank() == 0) {
        if (report_generate(out, &ro, err, sizeof err)) {
            fprintf(stderr, "actlab compare: error: report: %s\n", err);
            rc = 1;
        } else {
            printf("report: %s/report.md and %s/report.html\n", out, out);
        }
    }
    sweep_plan_free(&plan);
    free(spec);
    return rc;
}
