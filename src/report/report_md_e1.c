// report_md_e1.c — section 4, E1: the outlier quantile bands over training, the per-seed band widths,
// the PowLU/SwiGLU ratios with their intervals, and the range of the gate pre-activation z.
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

static int any_tensor(rp_ctx *c, int t) {
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &c->s->runs[i];
        for (size_t j = 0; rp_pick_e1(r, NULL) && j < r->n_tele; j++)
            if (r->tele[j].has[t]) return 1;
    }
    return 0;
}

static void band_figures(rp_ctx *c) {
    for (int t = 0; t < RP_NT_DENSE; t++) {   // the MoE tensors are E6's (report_md_e6.c)
        char cap[64], name[32];
        snprintf(cap, sizeof cap, "E1 quantile bands of %s", RP_TENSOR_NAMES[t]);
        snprintf(name, sizeof name, "e1_%s", RP_TENSOR_NAMES[t]);
        if (any_tensor(c, t)) rp_md_figure(c, band_figure(c, t), name, cap);
        else rp_printf(c->md, "_%s: not in these metrics files (written by an older trainer)._\n\n", RP_TENSOR_NAMES[t]);
    }
}

// The larger of the up and gate tensors' late means (the gate is absent for non-gated activations).
static double up_gate(const rp_e1run *r, int up, int gate, int st) { return fmax(r->st[up][st], r->st[gate][st]); }

static void seed_table(rp_ctx *c) {
    rp_puts(c->md, "| activation | seed | act_out P1–P99 width | act_out amax/RMS | act_out kurtosis | grad P1–P99 width "
                   "| grad amax/RMS | grad kurtosis | wgrad P1–P99 width | wgrad amax/RMS |\n"
                   "|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e1; k++) {
        const rp_e1act *e = &c->a->e1[k];
        for (int i = 0; i < e->n; i++) {
            const rp_e1run *r = &e->run[i];
            char b[9][48];
            rp_printf(c->md, "| %s | %ld | %s | %s | %s | %s | %s | %s | %s | %s |\n", e->act, r->seed,
                      rp_f(b[0], "%.4g", r->q[RP_Q_ACT]), rp_f(b[1], "%.3g", r->st[RP_ACT_OUT][RP_ST_CREST]),
                      rp_f(b[2], "%.3g", r->st[RP_ACT_OUT][RP_ST_KURT]), rp_f(b[3], "%.4g", r->q[RP_Q_GRAD]),
                      rp_f(b[4], "%.3g", up_gate(r, RP_GRAD_UP, RP_GRAD_GATE, RP_ST_CREST)),
                      rp_f(b[5], "%.3g", up_gate(r, RP_GRAD_UP, RP_GRAD_GATE, RP_ST_KURT)),
                      rp_f(b[6], "%.4g", r->q[RP_Q_WGRAD]),
                      rp_f(b[7], "%.3g", up_gate(r, RP_WGRAD_UP, RP_WGRAD_GATE, RP_ST_CREST)));
        }
    }
    rp_puts(c->md, "\n");
}

// The paper's ratio for a quantity: its figure shows the expert FFNs' down-projection inputs (every
// down-projection input here: dense, routed and shared) and the first linear layer's gradients.
static double paper_ratio(int q) {
    return q == RP_Q_GRAD ? RP_E1_PAPER_GRAD : q == RP_Q_WGRAD ? NAN : RP_E1_PAPER_ACT;
}

void rp_md_e1_ratio_header(rp_buf *md) {
    rp_puts(md, "| ratio | band width of | seed pairs | geometric mean ratio | 95% t interval | p (ratio = 1) | "
                "95% paired bootstrap (ratio of means) | paper | verdict |\n|---|---|---|---|---|---|---|---|---|\n");
}

void rp_md_e1_ratio_row(rp_buf *md, const char *act, int q, const rp_e1ratio *r, int decides) {
    char b[8][48];
    if (!r->n_pairs) {
        rp_printf(md, "| %s / swiglu | %s | 0 | not logged | | | | | %s |\n", act, RP_Q_NAMES[q],
                  decides ? rp_verdict_name(r->v) : "shown, not used");
        return;
    }
    rp_printf(md, "| %s / swiglu | %s | %d | %s | [%s, %s] | %s | [%s, %s] | %s | %s |\n", act, RP_Q_NAMES[q],
              r->n_pairs, rp_f(b[0], "%.3f", r->est), rp_f(b[1], "%.3f", r->lo),
              rp_f(b[2], "%.3f", r->hi), rp_f(b[3], "%.3g", r->logc.p), rp_f(b[4], "%.3f", r->boot.lo),
              rp_f(b[5], "%.3f", r->boot.hi), rp_f(b[6], "%.2f", paper_ratio(q)),
              decides ? rp_verdict_name(r->v) : "shown, not used");
}

static void ratio_table(rp_ctx *c) {
    rp_md_e1_ratio_header(c->md);
    for (int q = 0; q < RP_NQ && c->a->e1_has_powlu; q++)
        rp_md_e1_ratio_row(c->md, "powlu", q, &c->a->e1_powlu[q], q != RP_Q_WGRAD);
    for (int q = 0; q < RP_NQ && c->a->e1_has_clip; q++)
        rp_md_e1_ratio_row(c->md, "swiglu_clip", q, &c->a->e1_clip[q], 0);
    rp_puts(c->md, "\n");
}

// Band widths per activation and quantity: mean over seeds with the sample sd as error bars.
static int width_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e1_widths", "E1: late P1-P99 band width, mean ± sd over seeds (1 act_out, 2 grad, 3 wgrad)",
                 "quantity", "band width (P99 - P1)", 2);
    for (int k = 0; k < c->a->n_e1; k++) {
        const rp_e1act *e = &c->a->e1[k];
        double x[RP_NQ], y[RP_NQ], err[RP_NQ], v[RP_MAX_SEEDS];
        for (int q = 0; q < RP_NQ; q++) {
            for (int i = 0; i < e->n; i++) v[i] = e->run[i].q[q];
            rp_stat st = rp_stat_of(v, (size_t)e->n);
            x[q] = 1 + q + 0.08 * (k - 0.5 * (c->a->n_e1 - 1)), y[q] = st.mean, err[q] = st.n > 1 ? st.sd : 0;
        }
        const double *cols[3] = {x, y, err};
        rp_fig_series(&f, cols, 3, RP_NQ, "1:2:3 with yerrorbars lw 2 pt 7", e->act, rp_color(c, e->act));
    }
    return rp_fig_end(&f);
}

// The same ratios where the stress reaches PowLU's bounded regime: the E2 ladders' controls (fp32/bf16).
static void stress_table(rp_ctx *c) {
    if (!c->a->n_e1_stress) return;
    rp_printf(c->md, "### E1 where PowLU's bounded regime is reached: the E2 control runs\n\n"
                     "The E2 ladders' control runs (not FP8) train the same model %s above the tuned learning rates, "
                     "where z can go beyond %g. Per lr with stable PowLU and SwiGLU control runs: the same PowLU/SwiGLU "
                     "band-width ratios, paired by seed (t interval over log ratios when there are ≥ 2 pairs). Shown, "
                     "not used by the verdict: the runs are short and not at a tuned lr; they say whether the ratio "
                     "changes once the gate's bounded regime is in play.\n\n"
                     "| lr | seed pairs | PowLU max z | telemetry steps with z > %g | down-proj input ratio | 95%% t "
                     "interval | gradient ratio | 95%% t interval |\n|---|---|---|---|---|---|---|---|\n",
              "in shorter runs", RP_Z_PEAK, RP_Z_PEAK);
    for (int k = 0; k < c->a->n_e1_stress; k++) {
        const rp_e1stress *e = &c->a->e1_stress[k];
        char b[8][48];
        for (int q = 0; q < 2; q++) {
            const rp_e1ratio *r = &e->q[q];
            rp_f(b[2 * q], "%.3f", r->est);
            if (r->logc.ok) snprintf(b[2 * q + 1], sizeof b[0], "[%.3f, %.3f]", r->lo, r->hi);
            else snprintf(b[2 * q + 1], sizeof b[0], "n/a");
        }
        rp_printf(c->md, "| %s | %d | %s | %ld of %ld | %s | %s | %s | %s |\n", rp_f(b[4], "%g", e->lr), e->q[0].n_pairs,
                  rp_f(b[5], "%.3g", e->z.max), e->z.steps_peak, e->z.steps, b[0], b[1], b[2], b[3]);
    }
    rp_puts(c->md, "\n");
}

void rp_md_z_header(rp_buf *md, const char *first) {
    rp_printf(md, "| %s | runs with z | telemetry steps | max P99.9 | max z | largest fraction > %g | largest fraction "
                  "> %g | steps with max z > %g | steps with max z > %g |\n|---|---|---|---|---|---|---|---|---|\n",
              first, RP_Z_KNEE, RP_Z_PEAK, RP_Z_KNEE, RP_Z_PEAK);
}

void rp_md_z_row(rp_buf *md, const char *label, const rp_zsum *z) {
    char b[4][48];
    if (!z->runs) {
        rp_printf(md, "| %s | 0 | 0 | n/a | n/a | n/a | n/a | n/a | n/a |\n", label);
        return;
    }
    rp_printf(md, "| %s | %d | %ld | %s | %s | %s | %s | %ld | %ld |\n", label, z->runs, z->steps,
              rp_f(b[0], "%.3g", z->p999), rp_f(b[1], "%.3g", z->max), rp_f(b[2], "%.3g", z->gt4),
              rp_f(b[3], "%.3g", z->gt_peak), z->steps_knee, z->steps_peak);
}

void rp_md_z_sentence(rp_buf *md, const char *what, const rp_zsum *z) {
    if (!z->runs) {
        rp_printf(md, "%s: the metrics carry no gate pre-activation (z) telemetry, so whether PowLU's bounded regime "
                      "(z > %g) was reached is unknown.\n\n", what, RP_Z_KNEE);
        return;
    }
    if (!z->steps_knee) {
        rp_printf(md, "%s: z never exceeded %g (max %.3g over %ld telemetry steps): the suite stays where PowLU's gate "
                      "grows faster than SiLU's and never tests PowLU's bounded regime.\n\n", what, RP_Z_KNEE, z->max,
                  z->steps);
        return;
    }
    rp_printf(md, "%s: z exceeded %g on %ld of %ld telemetry steps (at most a fraction %.3g of the elements of a layer) "
                  "and %g on %ld (at most %.3g); max z %.3g.\n\n", what, RP_Z_KNEE, z->steps_knee, z->steps, z->gt4,
              RP_Z_PEAK, z->steps_peak, z->gt_peak, z->max);
}

void rp_md_e1(rp_ctx *c) {
    rp_puts(c->md, "## 4. E1: activation and gradient outliers\n\n");
    if (!c->a->n_e1) {
        rp_md_no_runs(c);
        return;
    }
    rp_puts(c->md, "Runs tagged E1 (fp32 or bf16; never FP8), from the metrics lines that carry per-layer telemetry. act_out is the "
                   "FFN down-projection input; grad_up and grad_gate are the gradients at the up- and gate-projection "
                   "outputs; wgrad_up and wgrad_gate the up/gate weight gradients (gate tensors only for gated "
                   "activations). In the figures the band at each telemetry step is taken over layers (min of mins, "
                   "max of maxes, min of P1, max of P99) and each bound averaged over seeds.\n\n");
    band_figures(c);
    rp_printf(c->md, "One number per run and quantity: the P1–P99 band width P99 − P1, max over layers (and over the "
                     "up and gate tensors) per telemetry step, mean over the telemetry steps with step > %g·steps. "
                     "amax/RMS and kurtosis (max over layers, same mean) are shown beside it; grad = the gradient at "
                     "the up/gate outputs, wgrad = the up/gate weight gradient.\n\n", RP_E1_LATE);
    seed_table(c);
    rp_md_figure(c, width_figure(c), "e1_widths", "E1 band widths with seed spread");
    rp_printf(c->md, "Ratios to SwiGLU, paired by seed: the t interval is over log(ratio) per seed pair (df = pairs − 1), "
                     "exponentiated; the paired bootstrap (%d resamples of the seed pairs, fixed seed) of the ratio of "
                     "means is shown beside it. The verdict uses the down-projection input and the gradient at the "
                     "up/gate outputs: that gradient is the tensor FP8 training quantises (E5M2) for both backward "
                     "GEMMs, while a weight gradient is a GEMM output, never an FP8 GEMM input. Paper: "
                     "%.2f (activations, P99 ≈ 50 vs ≈ 200) and %.2f (gradients, ≈ 5 vs ≈ 30), read off its "
                     "figure.\n\n", c->a->n_boot, RP_E1_PAPER_ACT, RP_E1_PAPER_GRAD);
    if (c->a->e1_has_powlu || c->a->e1_has_clip) ratio_table(c);
    else rp_puts(c->md, "No ratios: the E1 runs lack SwiGLU, or both PowLU and SwiGLU-Clip.\n\n");
    rp_puts(c->md, "The gate pre-activation z of the E1 runs, over all telemetry steps (max over layers and runs):\n\n");
    rp_md_z_header(c->md, "activation");
    for (int k = 0; k < c->a->n_e1; k++) rp_md_z_row(c->md, c->a->e1[k].act, &c->a->e1[k].z);
    rp_puts(c->md, "\n");
    const rp_e1act *p = rp_find_e1(c->a, "powlu");
    rp_md_z_sentence(c->md, "PowLU (E1)", p ? &p->z : &(rp_zsum){0});
    stress_table(c);
}
