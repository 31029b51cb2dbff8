// report_md_e12.c — sections 4 (E1: outlier quantile bands) and 5 (E2: the FP8 learning-rate ladder).
#include "report/rp_md.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B_LO, B_HI, B_P1, B_P99, B_N };

static double band_field(const rp_band *b, int f) {
    return f == B_LO ? b->lo : f == B_HI ? b->hi : f == B_P1 ? b->p1 : b->p99;
}

// One activation's band of tensor t over steps: each bound the mean over the E1 runs (seeds).
// cols: 1 + B_N arrays of n values (step first). Returns n.
static size_t act_band(rp_ctx *c, const char *act, int t, double **cols) {
    rp_pt *mean[B_N];
    size_t nm[B_N];
    for (int fld = 0; fld < B_N; fld++) {
        size_t k = 0, cap = 16, *ns = xmalloc(cap * sizeof(size_t));
        rp_pt **ser = xmalloc(cap * sizeof(rp_pt *));
        for (size_t i = 0; i < c->s->n; i++) {
            const rp_run *r = &c->s->runs[i];
            if (!rp_pick_e1(r, NULL) || strcmp(r->act, act)) continue;
            if (k == cap) {
                cap *= 2;
                ns = realloc(ns, cap * sizeof(size_t)), ser = realloc(ser, cap * sizeof(rp_pt *));
                if (!ns || !ser) die(NULL, "out of memory");
            }
            ser[k] = xmalloc((r->n_tele + 1) * sizeof(rp_pt)), ns[k] = 0;
            for (size_t j = 0; j < r->n_tele; j++)
                if (r->tele[j].has[t]) ser[k][ns[k]++] = (rp_pt){r->tele[j].step, band_field(&r->tele[j].b[t], fld)};
            k++;
        }
        nm[fld] = rp_mean_series((const rp_pt *const *)ser, ns, k, &mean[fld]);
        for (size_t i = 0; i < k; i++) free(ser[i]);
        free(ser), free(ns);
    }
    // Align on the steps of the lower bound; a bound missing at a step (all null) leaves NAN there.
    size_t n = nm[B_LO];
    for (int j = 0; j <= B_N; j++) cols[j] = xmalloc((n + 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        cols[0][i] = (double)mean[B_LO][i].step;
        for (int fld = 0; fld < B_N; fld++) {
            cols[1 + fld][i] = NAN;
            for (size_t q = 0; q < nm[fld]; q++)
                if (mean[fld][q].step == mean[B_LO][i].step) cols[1 + fld][i] = mean[fld][q].v;
        }
    }
    for (int fld = 0; fld < B_N; fld++) free(mean[fld]);
    return n;
}

static int band_figure(rp_ctx *c, int t) {
    char name[32], title[128];
    snprintf(name, sizeof name, "e1_%s", RP_TENSOR_NAMES[t]);
    snprintf(title, sizeof title, "E1: %s bands over layers (light: min-max, dark: P1-P99), mean over seeds",
             RP_TENSOR_NAMES[t]);
    rp_fig f;
    rp_fig_begin(&f, c->pl, name, title, "step", RP_TENSOR_NAMES[t], 0);
    for (int k = 0; k < c->a->n_e1; k++) {
        double *cols[1 + B_N];
        const char *act = c->a->e1[k].act;
        size_t n = act_band(c, act, t, cols);
        char l1[64], l2[64];
        snprintf(l1, sizeof l1, "%s min-max", act);
        snprintf(l2, sizeof l2, "%s P1-P99", act);
        const double *mm[3] = {cols[0], cols[1 + B_LO], cols[1 + B_HI]}, *pp[3] = {cols[0], cols[1 + B_P1], cols[1 + B_P99]};
        rp_fig_series(&f, mm, 3, n, "1:2:3 with filledcurves fs transparent solid 0.15 noborder", l1, rp_color(c, act));
        rp_fig_series(&f, pp, 3, n, "1:2:3 with filledcurves fs transparent solid 0.45 noborder", l2, rp_color(c, act));
        for (int j = 0; j <= B_N; j++) free(cols[j]);
    }
    return rp_fig_end(&f);
}

void rp_md_e1(rp_ctx *c) {
    rp_puts(c->md, "## 4. E1: activation and gradient outliers\n\n");
    if (!c->a->n_e1) {
        rp_md_no_runs(c);
        return;
    }
    rp_puts(c->md, "fp32 runs tagged E1, from the metrics lines that carry per-layer telemetry. act_out is the "
                   "FFN down-projection input; grad_up and grad_gate are the gradients of the up- and "
                   "gate-projection outputs (grad_gate only for gated activations). At each telemetry step the band "
                   "is taken over layers: min of the layers' mins, max of their maxes, min of their P1, max of "
                   "their P99; each bound is then averaged over the activation's runs (seeds).\n\n");
    for (int t = 0; t < RP_NT; t++) {
        char cap[64];
        snprintf(cap, sizeof cap, "E1 quantile bands of %s", RP_TENSOR_NAMES[t]);
        char name[32];
        snprintf(name, sizeof name, "e1_%s", RP_TENSOR_NAMES[t]);
        rp_md_figure(c, band_figure(c, t), name, cap);
    }
    rp_puts(c->md, "Late training: the mean over the telemetry steps in the second half of the schedule (step > "
                   "steps/2), then over runs, of amax (the largest |value|) and of Pmax = max(|P1|, |P99|). "
                   "Gradient amax is the larger of grad_up's and grad_gate's at each step.\n\n");
    rp_puts(c->md, "| activation | runs | act_out amax | act_out Pmax | grad_up amax | grad_up Pmax | grad_gate amax "
                   "| grad_gate Pmax | gradient amax |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e1; k++) {
        const rp_e1act *e = &c->a->e1[k];
        char b[7][48];
        rp_printf(c->md, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", e->act, e->n_runs,
                  rp_f(b[0], "%.4g", e->late[RP_ACT_OUT][0]), rp_f(b[1], "%.4g", e->late[RP_ACT_OUT][1]),
                  rp_f(b[2], "%.4g", e->late[RP_GRAD_UP][0]), rp_f(b[3], "%.4g", e->late[RP_GRAD_UP][1]),
                  rp_f(b[4], "%.4g", e->late[RP_GRAD_GATE][0]), rp_f(b[5], "%.4g", e->late[RP_GRAD_GATE][1]),
                  rp_f(b[6], "%.4g", e->late_grad));
    }
    rp_puts(c->md, "\n");
}

static void e2_run_row(rp_ctx *c, const rp_run *r) {
    char b[8][48], div[32] = "-";
    if (r->diverged_step >= 0) snprintf(div, sizeof div, "%ld", r->diverged_step);
    rp_printf(c->md, "| %s | %s | %s | %ld | %s | %ld | %s | %s | %s | %s | %s |\n", r->act, r->recipe,
              rp_f(b[0], "%g", r->lr), r->seed, r->status, r->n_spikes, div,
              rp_f(b[1], "%.0f", r->has_lowp ? r->lowp_sat : NAN), rp_f(b[2], "%.0f", r->has_lowp ? r->lowp_ftz : NAN),
              rp_f(b[3], "%.3e", r->has_lowp && r->lowp_n > 0 ? r->lowp_ftz / r->lowp_n : NAN),
              rp_f(b[4], "%.4f", r->final_val));
}

static int e2_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e2_loss", "E2: training loss of the FP8 runs (log scale)", "step", "training loss", 2);
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &c->s->runs[i];
        if (!rp_pick_e2(r, NULL)) continue;
        double *x = xmalloc((r->n_loss + 1) * sizeof(double)), *y = xmalloc((r->n_loss + 1) * sizeof(double));
        for (size_t j = 0; j < r->n_loss; j++) x[j] = (double)r->loss[j].step, y[j] = r->loss[j].v > 0 ? r->loss[j].v : NAN;
        const double *cols[2] = {x, y};
        rp_fig_series(&f, cols, 2, r->n_loss, "1:2 with lines lw 1.5", r->name, rp_color(c, r->act));
        free(x), free(y);
    }
    return rp_fig_end(&f);
}

void rp_md_e2(rp_ctx *c) {
    rp_puts(c->md, "## 5. E2: FP8 learning-rate ladder\n\n");
    if (!c->a->n_e2) {
        rp_md_no_runs(c);
        return;
    }
    rp_puts(c->md, "Runs tagged E2, per (activation, fp8_scaling recipe, lr). Spikes: events, i.e. runs of consecutive steps "
                   "whose metrics line has a \"spike\" key; diverged at: the step of the \"diverged\" key (or the last step when the run's status is "
                   "diverged); saturated and flushed to zero: sums of lowp.sat and lowp.ftz over the run, ftz "
                   "fraction = sum of ftz / sum of n (n/a when the trainer wrote no lowp counts).\n\n");
    rp_puts(c->md, "| activation | recipe | lr | seed | status | spikes | diverged at | saturated | flushed to zero | "
                   "ftz fraction | final val loss |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int g = 0; g < c->a->n_e2; g++) {
        const rp_e2group *e = &c->a->e2[g];
        for (int l = 0; l < e->lad.n; l++)
            for (size_t i = 0; i < c->s->n; i++) {
                const rp_run *r = &c->s->runs[i];
                if (rp_pick_e2(r, NULL) && !strcmp(r->act, e->act) && !strcmp(r->recipe, e->recipe) && r->lr == e->lad.lr[l])
                    e2_run_row(c, r);
            }
    }
    rp_puts(c->md, "\nStable = finished with status done, not diverged, zero spikes (every run at that lr).\n\n");
    rp_puts(c->md, "| activation | recipe | lrs tried | stable at | largest stable lr |\n|---|---|---|---|---|\n");
    for (int g = 0; g < c->a->n_e2; g++) {
        const rp_e2group *e = &c->a->e2[g];
        rp_buf tried = {0}, stable = {0};
        for (int l = 0; l < e->lad.n; l++) {
            rp_printf(&tried, "%s%g", l ? ", " : "", e->lad.lr[l]);
            if (e->lad.stable[l]) rp_printf(&stable, "%s%g", stable.n ? ", " : "", e->lad.lr[l]);
        }
        double best = rp_ladder_largest_stable(&e->lad);
        char b[48];
        rp_printf(c->md, "| %s | %s | %s | %s | %s |\n", e->act, e->recipe, tried.p, stable.n ? stable.p : "none",
                  best > 0 ? rp_f(b, "%g", best) : "none");
        rp_buf_free(&tried), rp_buf_free(&stable);
    }
    rp_puts(c->md, "\n");
    rp_md_figure(c, e2_figure(c), "e2_loss", "E2 training loss of the FP8 runs");
}
