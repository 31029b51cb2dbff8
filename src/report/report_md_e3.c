// report_md_e3.c — section E3: the learning-rate tuning table, the paired differences PolyNorm /
// PolyReLU − {SwiGLU, GELU, ReLU} with t intervals, p, MDE and the paper's difference, and the GELU
// baseline.
#include "report/rp_md.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void tune_table(rp_ctx *c) {
    if (!c->a->n_tune) {
        rp_puts(c->md, "No tuning runs (\"tune\") in this sweep: every activation trained at the same lr, which "
                       "favours whichever activation that lr happens to suit.\n\n");
        return;
    }
    rp_puts(c->md, "Learning-rate tuning (one seed, not used by any comparison): final validation loss per lr; the "
                   "chosen lr is the lowest.\n\n| activation | lr → final val loss | chosen lr | note |\n"
                   "|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_tune; k++) {
        const rp_tune *t = &c->a->tune[k];
        rp_buf grid = {0};
        for (int i = 0; i < t->n; i++) {
            char b[48];
            rp_printf(&grid, "%s%g → %s", i ? ", " : "", t->lr[i], rp_f(b, "%.4f", t->val[i]));
        }
        char b[48];
        const char *note = t->best < 0 ? "no finite loss" : t->n < 2 ? "one lr: nothing was tuned"
                           : t->edge ? "**warning: the best lr is at the edge of the grid; the optimum may lie beyond it**" : "";
        rp_printf(c->md, "| %s | %s | %s | %s |\n", t->act, grid.p ? grid.p : "", t->best >= 0 ? rp_f(b, "%g", t->lr[t->best]) : "n/a",
                  note);
        rp_buf_free(&grid);
    }
    rp_puts(c->md, "\n");
}

static const char *needed_str(char b[48], int n) {
    if (n == 0) return "n/a";
    if (n < 0) return "> 1000";
    snprintf(b, 48, "%d", n);
    return b;
}

void rp_md_e3_pair_row(rp_buf *md, const rp_e3pair *p) {
    char b[8][48];
    rp_printf(md, "| %s − %s | %d | %s | [%s, %s] | %s | %s | %s | %s | %s |\n", p->poly, p->base, p->n_pairs,
              rp_f(b[0], "%+.4f", p->c.diff), rp_f(b[1], "%+.4f", p->c.lo), rp_f(b[2], "%+.4f", p->c.hi),
              rp_f(b[3], "%.3g", p->c.p), rp_f(b[4], "%.4f", p->mde), rp_f(b[5], "%+.3f", p->paper),
              needed_str(b[6], p->seeds_needed), rp_verdict_name(p->v));
}

void rp_md_e3_pair_header(rp_buf *md) {
    rp_puts(md, "| difference | seed pairs | mean | 95% t interval | p | MDE | paper | seeds for the paper's difference "
                "| verdict |\n|---|---|---|---|---|---|---|---|---|\n");
}

// Mean paired difference per pair with its 95% interval; the paper's difference as a second series.
static int pairs_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e3_pairs", "E3: paired difference of final val loss (poly - base), 95% t interval; paper: PolyCom 1B",
                 "pair (1 polynorm-swiglu, 2 -gelu, 3 -relu, 4 polyrelu-swiglu, 5 -gelu, 6 -relu)", "difference", 0);
    int n = c->a->n_e3;
    double x[8], y[8], lo[8], hi[8], px[8], py[8];
    for (int k = 0; k < n; k++) {
        const rp_e3pair *p = &c->a->e3[k];
        int slot = 3 * (strcmp(p->poly, "polynorm") != 0) + (!strcmp(p->base, "gelu") ? 1 : !strcmp(p->base, "relu") ? 2 : 0);
        x[k] = 1 + slot, y[k] = p->c.diff, lo[k] = p->c.lo, hi[k] = p->c.hi;
        px[k] = 1.15 + slot, py[k] = p->paper;
    }
    const double *ours[4] = {x, y, lo, hi}, *paper[2] = {px, py};
    rp_fig_series(&f, ours, 4, (size_t)n, "1:2:3:4 with yerrorbars lw 2 pt 7", "ours (mean, 95% CI)", 0);
    rp_fig_series(&f, paper, 2, (size_t)n, "1:2 with points pt 5 ps 1.3", "paper", 1);
    return rp_fig_end(&f);
}

// GELU's input in the E3 GELU runs: the mean over the telemetry steps of the second half of
// training of the largest P50 and P99 over layers (NAN without z telemetry).
static void gelu_input(const rp_ctx *c, double *p50, double *p99) {
    double s50 = 0, s99 = 0;
    int n = 0;
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &c->s->runs[i];
        if (!rp_pick_main(r, c->a) || strcmp(r->act, "gelu")) continue;
        for (size_t t = 0; t < r->n_tele; t++)
            if (r->tele[t].has_z && 2 * r->tele[t].step > r->steps_planned) s50 += r->tele[t].z.p50, s99 += r->tele[t].z.p99, n++;
    }
    *p50 = n ? s50 / n : NAN;
    *p99 = n ? s99 / n : NAN;
}

// Why GELU can trail ReLU in small, short runs: an exact identity, and where GELU's input lies.
static void gelu_mechanism(rp_ctx *c) {
    double p50, p99;
    gelu_input(c, &p50, &p99);
    rp_puts(c->md, "A mechanism consistent with it: GELU(u) = u/2 + erf(|u|/√2)·|u|/2 while ReLU(u) = u/2 + |u|/2, so "
                   "GELU (the erf form; the tanh form used here is within 0.0005 of it) is ReLU with its nonlinear part "
                   "scaled by erf(|u|/√2) — below 0.5 for |u| < 0.67 and below "
                   "0.25 for |u| < 0.32. ");
    if (isfinite(p99)) {
        char b[3][48];
        rp_printf(c->md, "In these GELU runs its input u has a median of %s and a P99 of %s (largest over layers, mean "
                         "over the second half of training; GELU's factor erf(P99/√2) = %s): most inputs lie where GELU "
                         "is close to linear, so the FFN is less nonlinear than with ReLU, which is nonlinear at every "
                         "scale. At the paper's 1B scale and 250B tokens the pre-activations are larger and the factor "
                         "near 1; this sweep cannot test that (the --full suite's longer runs move it somewhat).\n\n",
                  rp_f(b[0], "%.2f", p50), rp_f(b[1], "%.2f", p99), rp_f(b[2], "%.2f", erf(p99 / sqrt(2.0))));
    } else {
        rp_puts(c->md, "These runs logged no activation input (z), so where GELU's inputs lie is not known here.\n\n");
    }
}

static void gelu_paragraph(rp_ctx *c) {
    const rp_e3pair *g = &c->a->gelu_relu;
    if (!g->c.ok) return;
    char b[4][48];
    rp_printf(c->md, "**The GELU baseline.** The paper has GELU %+.3f against ReLU (train loss); here GELU − ReLU = %s, "
                     "95%% interval [%s, %s] over %d seed pairs. GELU and ReLU are both non-gated with the same FFN width "
                     "(3/2 of the gated hidden size, equal parameters), so a gap is not one of parameter count. ",
              g->paper, rp_f(b[0], "%+.4f", g->c.diff), rp_f(b[1], "%+.4f", g->c.lo), rp_f(b[2], "%+.4f", g->c.hi), g->c.n1);
    const rp_tune *tg = NULL, *tr = NULL;
    for (int k = 0; k < c->a->n_tune; k++) {
        if (!strcmp(c->a->tune[k].act, "gelu")) tg = &c->a->tune[k];
        if (!strcmp(c->a->tune[k].act, "relu")) tr = &c->a->tune[k];
    }
    int tuned = tg && tr && tg->n > 1 && tr->n > 1;
    if (!(g->c.lo > 0)) {
        rp_printf(c->md, "GELU is not worse than ReLU here beyond the seed noise%s.\n\n",
                  tuned ? " (the earlier suite trained every activation at one shared lr; this sweep tuned it per "
                          "activation)" : "");
        return;
    }
    rp_puts(c->md, "GELU is worse than ReLU in this sweep, the reverse of the paper. ");
    if (!tuned) rp_puts(c->md, "Their learning rates were not both tuned, so a shared lr that suits ReLU better is the "
                               "first suspect; the tuning phase of the suite decides it. ");
    else if (tg->edge) rp_puts(c->md, "GELU's best lr is at the edge of its tuning grid, so its lr may still be off: "
                                      "extend the grid beyond it. ");
    else rp_puts(c->md, "Both were tuned and GELU's optimum is inside its grid, so the lr does not explain it. ");
    gelu_mechanism(c);
}

void rp_md_e3(rp_ctx *c) {
    rp_puts(c->md, "## 6. E3: PolyNorm and PolyReLU against the baselines\n\n");
    tune_table(c);
    if (!c->a->n_e3) {
        rp_puts(c->md, "No (PolyNorm or PolyReLU, baseline) pair among the E3 runs.\n\n");
        return;
    }
    rp_printf(c->md, "Paired by seed (the same seed gives the same initialisation and data order for every "
                     "activation): the difference of the final validation loss per seed, its mean, the %.0f%% t "
                     "interval (df = pairs − 1), the two-sided p-value, and the minimum detectable effect MDE = "
                     "(t_{0.975,df} + t_{%.2f,df})·se (the smallest true difference this design finds with %.0f%% "
                     "power). Paper: PolyCom 1B train-loss differences (SwiGLU %.3f, GELU %.3f, ReLU %.3f, PolyReLU "
                     "%.3f, PolyNorm %.3f). Seeds for the paper's difference: the pairs needed for it to be the MDE at "
                     "the observed sd of the differences.\n\n", 100 * RP_LEVEL, RP_POWER, 100 * RP_POWER,
              rp_paper_polycom_train("swiglu"), rp_paper_polycom_train("gelu"), rp_paper_polycom_train("relu"),
              rp_paper_polycom_train("polyrelu"), rp_paper_polycom_train("polynorm"));
    rp_md_e3_pair_header(c->md);
    for (int k = 0; k < c->a->n_e3; k++) rp_md_e3_pair_row(c->md, &c->a->e3[k]);
    rp_puts(c->md, "\n");
    rp_md_figure(c, pairs_figure(c), "e3_pairs", "E3 paired differences with 95% intervals");
    gelu_paragraph(c);
}
