// report_md_e2.c — section 5, E2: the FP8 learning-rate ladders against their fp32/bf16 controls: every
// run, every rung, each ladder's limits, the verdict table per recipe, and the gate's z per rung.
#include "report/rp_md.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const E2_BASES[] = {"swiglu", "swiglu_clip"};

static void hist_str(long hist, char out[24]) {
    if (hist > 0) snprintf(out, 24, "%ld", hist);
    else snprintf(out, 24, "-");
}

static void run_row(rp_ctx *c, const rp_run *r) {
    char b[8][48], div[32] = "-", h[24];
    if (r->diverged_step >= 0) snprintf(div, sizeof div, "%ld", r->diverged_step);
    hist_str(r->amax_history, h);
    rp_printf(c->md, "| %s | %s | %s | %s | %s | %ld | %s | %ld | %ld | %s | %s | %s | %s | %s | %s |\n", r->act,
              r->precision, r->recipe, h, rp_f(b[0], "%g", r->lr), r->seed, r->status, r->n_grace_bumps, r->n_spikes, div,
              rp_f(b[1], "%.0f", r->has_lowp ? r->lowp_sat : NAN), rp_f(b[2], "%.0f", r->has_lowp ? r->lowp_ftz : NAN),
              rp_f(b[3], "%.0f", r->has_down ? r->down_sat : NAN), rp_f(b[4], "%.0f", r->has_down ? r->down_ftz : NAN),
              rp_f(b[5], "%.4f", r->final_val));
}

// Every E2 run, ordered by activation, precision, recipe, history and lr (stable: plan order breaks ties).
static int run_order(const void *x, const void *y) {
    const rp_run *a = *(const rp_run *const *)x, *b = *(const rp_run *const *)y;
    int k = strcmp(a->act, b->act);
    if (!k) k = strcmp(a->precision, b->precision);
    if (!k) k = strcmp(a->recipe, b->recipe);
    if (!k) k = (a->amax_history > b->amax_history) - (a->amax_history < b->amax_history);
    if (!k) k = (a->lr > b->lr) - (a->lr < b->lr);
    if (!k) k = (a->seed > b->seed) - (a->seed < b->seed);
    return k ? k : (a > b) - (a < b);
}

static void runs_table(rp_ctx *c) {
    const rp_run **rs = xmalloc((c->s->n + 1) * sizeof *rs);
    size_t n = 0;
    for (size_t i = 0; i < c->s->n; i++)
        if (rp_pick_e2(&c->s->runs[i], NULL)) rs[n++] = &c->s->runs[i];
    qsort(rs, n, sizeof *rs, run_order);
    rp_puts(c->md, "| activation | precision | recipe | amax history | lr | seed | status | warmup bumps | spikes | "
                   "diverged at | saturated | flushed to zero | down-proj input saturated | down-proj input flushed | "
                   "final val loss |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) run_row(c, rs[i]);
    rp_puts(c->md, "\n");
    free((void *)rs);
}

static const char *rung_outcome(const rp_rung *r) {
    if (!r->n) return "control only";
    if (!r->unstable) return r->ctl_n ? (r->ctl_unstable ? "FP8 stable, control unstable" : "stable") : "FP8 stable, no control";
    if (!r->ctl_n) return "FP8 unstable, no control";
    return r->ctl_unstable ? "unstable in the control too: not FP8's" : "FP8 failure";
}

void rp_md_e2_rung_header(rp_ctx *c) {
    rp_puts(c->md, "| activation | recipe | amax history | lr | FP8 unstable / runs | control unstable / runs | outcome "
                   "| down-proj input saturated | down-proj input flushed / n |\n|---|---|---|---|---|---|---|---|---|\n");
}

void rp_md_e2_rung_rows(rp_ctx *c, const char *act, const char *recipe, long hist, const rp_ladder *l) {
    char h[24];
    hist_str(hist, h);
    for (int i = 0; i < l->n; i++) {
        const rp_rung *r = &l->r[i];
        char b[3][48];
        rp_printf(c->md, "| %s | %s | %s | %s | %d / %d | %d / %d | %s | %s | %s |\n", act, recipe, h,
                  rp_f(b[0], "%g", r->lr), r->unstable, r->n, r->ctl_unstable, r->ctl_n, rung_outcome(r),
                  rp_f(b[1], "%.0f", r->down_sat), rp_f(b[2], "%.3e", r->down_n > 0 ? r->down_ftz / r->down_n : NAN));
    }
}

static void rung_table(rp_ctx *c) {
    rp_md_e2_rung_header(c);
    for (int g = 0; g < c->a->n_e2; g++) {
        const rp_e2group *e = &c->a->e2[g];
        rp_md_e2_rung_rows(c, e->act, e->recipe, e->hist, &e->lad);
    }
    rp_puts(c->md, "\n");
}

void rp_md_e2_limit(char out[64], const rp_ladder *l, const rp_ladder_sum *s) {
    if (s->limit < 0) snprintf(out, 64, "none");
    else if (s->limit == l->n - 1) snprintf(out, 64, "≥ %g (top rung: limit not reached)", l->r[s->limit].lr);
    else snprintf(out, 64, "%g", l->r[s->limit].lr);
}

void rp_md_e2_limit_header(rp_ctx *c) {
    rp_puts(c->md, "| activation | recipe | amax history | FP8 limit | control limit | first FP8 failure above it | "
                   "attributable to FP8 | spacing above the limit | FP8 seeds at the decisive rungs | seeds disagree |\n"
                   "|---|---|---|---|---|---|---|---|---|---|\n");
}

void rp_md_e2_limit_row(rp_ctx *c, const char *act, const char *recipe, long hist, const rp_ladder *l) {
    rp_ladder_sum s = rp_ladder_summary(l);
    char h[24], lim[64], b[3][48];
    hist_str(hist, h);
    rp_md_e2_limit(lim, l, &s);
    rp_printf(c->md, "| %s | %s | %s | %s | %s | %s | %s | %s%s | %d | %s |\n", act, recipe, h, lim,
              s.ctl_limit >= 0 ? rp_f(b[0], "%g", l->r[s.ctl_limit].lr) : (s.has_control ? "none" : "no control"),
              s.fail >= 0 ? rp_f(b[1], "%g", l->r[s.fail].lr) : "none (censored)",
              s.fail < 0 ? "-" : s.fail_attributable ? "yes" : "no", rp_f(b[2], "×%.3g", s.spacing),
              isfinite(s.spacing) && s.spacing > RP_E2_MAX_SPACING * (1 + 1e-9) ? " (wider than √2)" : "",
              s.min_seeds, s.disagree ? "yes" : "no");
}

static void limits_table(rp_ctx *c) {
    rp_md_e2_limit_header(c);
    for (int g = 0; g < c->a->n_e2; g++) {
        const rp_e2group *e = &c->a->e2[g];
        rp_md_e2_limit_row(c, e->act, e->recipe, e->hist, &e->lad);
    }
    rp_puts(c->md, "\n");
}

int rp_e2_recipe_verdicts(const rp_analysis *a, const rp_e2group *p, rp_verdict v[2], const char *why[2],
                          const rp_e2group *base[2]) {
    int n = 0;
    for (int k = 0; k < 2; k++) {
        base[n] = rp_find_e2(a, E2_BASES[k], p->recipe, p->hist);
        if (!base[n]) continue;
        v[n] = rp_verdict_e2(&p->lad, &base[n]->lad, &why[n]);
        n++;
    }
    return n;
}

static void verdict_table(rp_ctx *c) {
    const rp_e2group *pw[RP_MAX_GROUPS];
    int n = rp_e2_recipes(c->a, pw, RP_MAX_GROUPS);
    if (!n) {
        rp_puts(c->md, "No PowLU FP8 ladder: no E2 verdict.\n\n");
        return;
    }
    rp_puts(c->md, "| recipe | amax history | comparison | PowLU FP8 limit | baseline FP8 limit | verdict | why |\n"
                   "|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < n; k++) {
        rp_verdict v[2];
        const char *why[2];
        const rp_e2group *base[2];
        int m = rp_e2_recipe_verdicts(c->a, pw[k], v, why, base);
        char h[24];
        hist_str(pw[k]->hist, h);
        for (int j = 0; j < m; j++) {
            rp_ladder_sum sp = rp_ladder_summary(&pw[k]->lad), sb = rp_ladder_summary(&base[j]->lad);
            char lp[64], lb[64];
            rp_md_e2_limit(lp, &pw[k]->lad, &sp), rp_md_e2_limit(lb, &base[j]->lad, &sb);
            rp_printf(c->md, "| %s%s | %s | powlu vs %s | %s | %s | %s | %s |\n", pw[k]->recipe, k ? "" : " (primary)", h,
                      base[j]->act, lp, lb, rp_verdict_name(v[j]), why[j]);
        }
        if (!m) rp_printf(c->md, "| %s | %s | no SwiGLU or SwiGLU-Clip ladder | | | inconclusive | |\n", pw[k]->recipe, h);
    }
    rp_puts(c->md, "\n");
}

// The distinct lrs of an activation's E2 runs, ascending. Returns the count.
static int act_lrs(rp_ctx *c, const char *act, double *lr, int max) {
    int n = 0;
    for (size_t j = 0; j < c->s->n; j++) {
        const rp_run *r = &c->s->runs[j];
        if (!rp_pick_e2(r, NULL) || strcmp(r->act, act)) continue;
        int k = 0;
        while (k < n && lr[k] != r->lr) k++;
        if (k == n && n < max) lr[n++] = r->lr;
    }
    qsort(lr, (size_t)n, sizeof(double), rp_cmp_double);
    return n;
}

// The gate's z per (activation, lr) over every E2 run there (FP8 and control).
static void z_table(rp_ctx *c) {
    rp_md_z_header(c->md, "activation, lr");
    char acts[RP_MAX_ACTS][32];
    int na = rp_acts(c->s, rp_pick_e2, NULL, acts, RP_MAX_ACTS);
    rp_zsum powlu = {0};
    for (int k = 0; k < na; k++) {
        double lr[RP_E2_MAX_RUNGS];
        int n = act_lrs(c, acts[k], lr, RP_E2_MAX_RUNGS);
        for (int i = 0; i < n; i++) {
            rp_zsum z = {0};
            for (size_t j = 0; j < c->s->n; j++) {
                const rp_run *r = &c->s->runs[j];
                if (!rp_pick_e2(r, NULL) || strcmp(r->act, acts[k]) || r->lr != lr[i]) continue;
                rp_zsum_add(&z, r);
                if (!strcmp(r->act, "powlu")) rp_zsum_add(&powlu, r);
            }
            char label[64];
            snprintf(label, sizeof label, "%.31s, %g", acts[k], lr[i]);
            rp_md_z_row(c->md, label, &z);
        }
    }
    rp_puts(c->md, "\n");
    rp_md_z_sentence(c->md, "PowLU (E2 ladder, all rungs)", &powlu);
}

static int loss_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e2_loss", "E2: training loss of the ladder runs (log scale)", "step", "training loss", 2);
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &c->s->runs[i];
        if (!rp_pick_e2(r, NULL)) continue;
        double *x = xmalloc((r->n_loss + 1) * sizeof(double)), *y = xmalloc((r->n_loss + 1) * sizeof(double));
        for (size_t j = 0; j < r->n_loss; j++) x[j] = (double)r->loss[j].step, y[j] = r->loss[j].v > 0 ? r->loss[j].v : NAN;
        const double *cols[2] = {x, y};
        rp_fig_series(&f, cols, 2, r->n_loss, strcmp(r->precision, "fp8") ? "1:2 with lines lw 1 dt 2" : "1:2 with lines lw 1.5",
                      r->name, rp_color(c, r->act));
        free(x), free(y);
    }
    return rp_fig_end(&f);
}

// Fraction of stable runs per rung: FP8 solid, control dashed, with the binomial standard error as
// error bars (sqrt(p(1−p)/n); 0 at p = 0 or 1, where the seeds agree).
static int ladder_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e2_ladder", "E2: fraction of stable runs per lr (FP8 solid, control dashed), ± binomial se",
                 "learning rate", "fraction stable", 1);
    for (int g = 0; g < c->a->n_e2; g++) {
        const rp_e2group *e = &c->a->e2[g];
        int n = e->lad.n;
        double *x = xmalloc((size_t)(n + 1) * sizeof(double)), *y[2], *err[2];
        for (int t = 0; t < 2; t++) y[t] = xmalloc((size_t)(n + 1) * sizeof(double)), err[t] = xmalloc((size_t)(n + 1) * sizeof(double));
        for (int i = 0; i < n; i++) {
            const rp_rung *r = &e->lad.r[i];
            int tot[2] = {r->n, r->ctl_n}, bad[2] = {r->unstable, r->ctl_unstable};
            x[i] = r->lr;
            for (int t = 0; t < 2; t++) {
                double p = tot[t] ? 1.0 - (double)bad[t] / tot[t] : NAN;
                y[t][i] = p, err[t][i] = tot[t] ? sqrt(p * (1 - p) / tot[t]) : NAN;
            }
        }
        char h[24], label[96];
        hist_str(e->hist, h);
        for (int t = 0; t < 2; t++) {
            const double *cols[3] = {x, y[t], err[t]};
            snprintf(label, sizeof label, "%s %s/%s%s", e->act, e->recipe, h, t ? " control" : "");
            rp_fig_series(&f, cols, 3, (size_t)n, t ? "1:2:3 with yerrorlines lw 1 dt 2 pt 6" : "1:2:3 with yerrorlines lw 2 pt 7",
                          label, rp_color(c, e->act));
            free(y[t]), free(err[t]);
        }
        free(x);
    }
    return rp_fig_end(&f);
}

void rp_md_e2(rp_ctx *c) {
    rp_puts(c->md, "## 5. E2: FP8 learning-rate ladder with a control\n\n");
    if (!c->a->n_e2) {
        rp_md_no_runs(c);
        return;
    }
    rp_printf(c->md, "Runs tagged E2. A ladder is one activation under one FP8 recipe (fp8_scaling, amax history); its "
                     "control is the bf16/fp32 runs of the same activation at the same lr. A run is unstable when it "
                     "diverged, had at least one spike event (a run of consecutive steps whose metrics line has a "
                     "\"spike\" key) or did not end with status done. An FP8 failure counts only at an lr where every "
                     "control run is stable. FP8 limit: the largest lr where every FP8 run and every control run is "
                     "stable; control limit: the largest lr whose control runs are all stable. The decisive rungs are "
                     "the FP8 limit and the first rung above it with an unstable FP8 run; they need %d seeds, and the "
                     "ladder should be at most √2 apart there. Saturated / flushed: sums of lowp.sat and lowp.ftz over "
                     "the run; down-proj input: the same counts of the tensors L<l>.ffn_down.x on telemetry steps "
                     "(n/a: not logged). The stress recipe is delayed scaling with amax history %d. Warmup bumps: steps "
                     "whose loss exceeded the divergence threshold (ln V + 1 unless set) inside divergence_grace (the "
                     "warmup, in the suite), where the run may recover; such a run is not counted unstable for them. "
                     "At this scale high-lr runs bump in their first ~10 steps in bf16 and FP8 alike, and the claim is "
                     "about training after that.\n\n",
              RP_E2_MIN_SEEDS, RP_E2_STRESS_HISTORY);
    runs_table(c);
    rung_table(c);
    limits_table(c);
    verdict_table(c);
    rp_md_figure(c, ladder_figure(c), "e2_ladder", "E2 stable fraction per rung");
    rp_md_figure(c, loss_figure(c), "e2_loss", "E2 training loss of the ladder runs");
    rp_puts(c->md, "The gate pre-activation z per rung (E2 runs, FP8 and control together):\n\n");
    z_table(c);
}
