// report_md_e45.c — sections 7 (E4: m = 2, 4 against m = 3, equivalence by TOST) and 8 (E5: sizes,
// seeds and tokens, the scaling-law fits and the bootstrap of their gap).
#include "report/rp_md.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The paired difference to m = 3 with its 90% TOST interval, and the ±margin lines.
static int e4_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e4_m", "E4: final val loss of m minus m = 3 (paired by seed), 90% interval; dashed: ±margin",
                 "m", "difference to m = 3", 0);
    int n = c->a->n_e4;
    double x[RP_MAX_POINTS], y[RP_MAX_POINTS], lo[RP_MAX_POINTS], hi[RP_MAX_POINTS];
    for (int k = 0; k < n; k++) {
        const rp_e4m *e = &c->a->e4[k];
        x[k] = e->m, y[k] = e->m == RP_E4_REF_M ? 0 : e->c.diff, lo[k] = e->m == RP_E4_REF_M ? 0 : e->t.lo;
        hi[k] = e->m == RP_E4_REF_M ? 0 : e->t.hi;
    }
    const double *cols[4] = {x, y, lo, hi};
    rp_fig_series(&f, cols, 4, (size_t)n, "1:2:3:4 with yerrorbars lw 2 pt 7", "powlu", rp_color(c, "powlu"));
    if (n) {
        double mx[2] = {x[0] - 0.5, x[n - 1] + 0.5}, up[2] = {RP_E4_MARGIN, RP_E4_MARGIN}, dn[2] = {-RP_E4_MARGIN, -RP_E4_MARGIN};
        const double *a[2] = {mx, up}, *b[2] = {mx, dn};
        rp_fig_series(&f, a, 2, 2, "1:2 with lines lw 1 dt 2", "+margin", 6);
        rp_fig_series(&f, b, 2, 2, "1:2 with lines lw 1 dt 2", NULL, 6);
    }
    return rp_fig_end(&f);
}

void rp_md_e4(rp_ctx *c) {
    rp_puts(c->md, "## 7. E4: PowLU's m, an equivalence test\n\n");
    if (!c->a->n_e4) {
        rp_md_no_runs(c);
        return;
    }
    rp_printf(c->md, "Runs tagged E4 (m ≠ 3) and E3's PowLU runs (m = 3), at PowLU's tuned lr, paired by seed. For each "
                     "m: the paired difference to m = 3 of the final validation loss, its 90%% interval (TOST at "
                     "α = %.2f per side) against the margin ±%g nats, the TOST p-value, and the smallest margin these "
                     "data could call equivalent (max |interval end|). The paper's m ablation (47M activated, 29.8B "
                     "tokens): m=2 %.3f, m=3 %.3f, m=4 %.3f (SwiGLU %.3f), shown as the difference to m = 3.\n\n",
              RP_TOST_ALPHA, RP_E4_MARGIN, rp_paper_powlu_m_loss(2), rp_paper_powlu_m_loss(3), rp_paper_powlu_m_loss(4),
              rp_paper_powlu_m_swiglu());
    rp_puts(c->md, "| m | n | final val loss | seed pairs with m = 3 | mean difference to m = 3 | 90% interval | TOST p "
                   "| resolvable margin | paper: − (m=3) | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e4; k++) {
        const rp_e4m *e = &c->a->e4[k];
        char b[8][48], ms[100];
        snprintf(ms, sizeof ms, "%s ± %s", rp_f(b[0], "%.4f", e->val.mean), rp_f(b[1], "%.4f", e->val.sd));
        double p = rp_paper_powlu_m_loss(e->m) - rp_paper_powlu_m_loss(RP_E4_REF_M);
        if (e->m == RP_E4_REF_M) {
            rp_printf(c->md, "| %g | %d | %s | (reference) | | | | | | |\n", e->m, e->val.n, ms);
            continue;
        }
        rp_printf(c->md, "| %g | %d | %s | %d | %s | [%s, %s] | %s | %s | %s | %s |\n", e->m, e->val.n, ms,
                  e->n_pairs, rp_f(b[2], "%+.4f", e->c.diff), rp_f(b[3], "%+.4f", e->t.lo),
                  rp_f(b[4], "%+.4f", e->t.hi), rp_f(b[5], "%.3g", e->t.p), rp_f(b[6], "%.4f", e->t.resolvable),
                  rp_f(b[7], "%+.3f", p), rp_verdict_name(e->v));
    }
    rp_puts(c->md, "\n");
    rp_md_figure(c, e4_figure(c), "e4_m", "E4 difference to m = 3 with 90% intervals");
}

static int e5_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e5_scaling", "E5: final validation loss against non-embedding parameters (mean ± sd over seeds)",
                 "N (non-embedding parameters)", "final validation loss", 1);
    for (int k = 0; k < c->a->n_e5; k++) {
        const rp_e5act *e = &c->a->e5[k];
        double err[RP_MAX_POINTS];
        for (int j = 0; j < e->n; j++) err[j] = e->seeds[j] > 1 ? e->sd[j] : 0;
        const double *cols[3] = {e->N, e->L, err};
        char label[64];
        snprintf(label, sizeof label, "%s (measured)", e->act);
        rp_fig_series(&f, cols, 3, (size_t)e->n, "1:2:3 with yerrorbars pt 7 ps 1.3", label, rp_color(c, e->act));
        if (!e->fit.ok) continue;
        double x[121], y[121];
        for (int i = 0; i <= 120; i++) {
            x[i] = e->N[0] * pow(e->N[e->n - 1] / e->N[0], i / 120.0);
            y[i] = rp_fit_eval(&e->fit, x[i]);
        }
        const double *fc[2] = {x, y};
        snprintf(label, sizeof label, "%s fit", e->act);
        rp_fig_series(&f, fc, 2, 121, "1:2 with lines lw 2", label, rp_color(c, e->act));
    }
    return rp_fig_end(&f);
}

static void e5_points(rp_ctx *c) {
    rp_puts(c->md, "| activation | N | seeds | final val loss | tokens per run | tokens / N |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e5; k++) {
        const rp_e5act *e = &c->a->e5[k];
        for (int j = 0; j < e->n; j++) {
            char b[3][48], ms[100];
            snprintf(ms, sizeof ms, "%s ± %s", rp_f(b[0], "%.4f", e->L[j]), rp_f(b[1], "%.4f", e->sd[j]));
            rp_printf(c->md, "| %s | %.0f | %d | %s | %.0f | %s |\n", e->act, e->N[j], e->seeds[j], ms, e->tokens[j],
                      rp_f(b[2], "%.3g", e->tokens[j] / e->N[j]));
        }
    }
    rp_puts(c->md, "\n");
}

static void e5_fits(rp_ctx *c) {
    rp_puts(c->md, "| activation | sizes | A ± σ | α ± σ | E ± σ | RSS |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e5; k++) {
        const rp_e5act *e = &c->a->e5[k];
        if (!e->fit.ok) {
            rp_printf(c->md, "| %s | %d | not fitted: %s | | | |\n", e->act, e->n,
                      e->n < RP_E5_FIT_SIZES ? "fewer than 4 sizes" : "the fit failed");
            continue;
        }
        char b[7][48];
        rp_printf(c->md, "| %s | %d | %s ± %s | %s ± %s | %s ± %s | %s%s |\n", e->act, e->n, rp_f(b[0], "%.4g", e->fit.A),
                  rp_f(b[1], "%.2g", e->fit.sA), rp_f(b[2], "%.4f", e->fit.alpha), rp_f(b[3], "%.4f", e->fit.salpha),
                  rp_f(b[4], "%.4f", e->fit.E), rp_f(b[5], "%.4g", e->fit.sE), rp_f(b[6], "%.3e", e->fit.rss),
                  e->fit.edge ? " (α at the edge of [0.001, 3]: no power-law curvature, fit not used)" : "");
    }
    rp_puts(c->md, "\n");
}

static void ci_cell(char out[96], const rp_boot_ci *ci, const char *fmt) {
    char b[3][48];
    if (!ci->ok && !isfinite(ci->lo)) snprintf(out, 96, "%s (no interval)", rp_f(b[0], fmt, ci->est));
    else snprintf(out, 96, "%s [%s, %s]%s", rp_f(b[0], fmt, ci->est), rp_f(b[1], fmt, ci->lo), rp_f(b[2], fmt, ci->hi),
                  ci->ok ? "" : " (not ok)");
}

static void e5_boot(rp_ctx *c) {
    const rp_fit_boot *b = &c->a->e5_boot;
    if (!rp_find_e5(c->a, "powlu") || !rp_find_e5(c->a, "swiglu")) {
        rp_puts(c->md, "No bootstrap: needs E5 runs of both powlu and swiglu.\n\n");
        return;
    }
    if (!b->n_boot) {
        rp_printf(c->md, "No bootstrap: the seeds give the fits an uncertainty only with at least %d sizes of %d seeds "
                         "each for both activations (the design the verdict needs).\n\n", RP_E5_MIN_SIZES, RP_E5_MIN_SEEDS);
        return;
    }
    char s[5][96];
    ci_cell(s[0], &b->alpha1, "%.3f"), ci_cell(s[1], &b->E1, "%.3f");
    ci_cell(s[2], &b->alpha2, "%.3f"), ci_cell(s[3], &b->E2, "%.3f");
    rp_boot_ci gap = b->gap;
    gap.est *= 100, gap.lo *= 100, gap.hi *= 100;
    ci_cell(s[4], &gap, "%.3f");
    rp_printf(c->md, "Bootstrap of the fits (%d resamples, seeds drawn with replacement within each size, both curves "
                     "refitted; %d resamples failed): α powlu %s, E powlu %s; α swiglu %s, E swiglu %s; largest "
                     "relative gap of the curves over N = %.0f..%.0f: %s%%, 95%% percentile interval. With 2–3 seeds "
                     "per size the percentile interval is too narrow (it cannot see beyond the seeds drawn); a size "
                     "with one seed does not vary at all.\n\n",
              b->n_boot, b->n_failed, s[0], s[1], s[2], s[3], b->n_lo, b->n_hi, s[4]);
}

void rp_md_e5(rp_ctx *c) {
    rp_puts(c->md, "## 8. E5: scaling law\n\n");
    if (!c->a->n_e5) {
        rp_md_no_runs(c);
        return;
    }
    rp_printf(c->md, "Runs tagged E5. N = n_params_nonembed from run.json, L = final validation loss (mean ± sample sd "
                     "over seeds at the same N); tokens per run = steps · batch · seq · grad_accum. Fit of "
                     "L(N) = A·N^(−α) + E to the per-size means by nonlinear least squares: α profiled over a grid on "
                     "[0.001, 3] with A and E by linear least squares at each α, refined by golden section, then A, α, "
                     "E together by Gauss-Newton; σ from s²(JᵀJ)⁻¹ with s² = RSS/(n−3). A fit needs %d sizes; the "
                     "verdict needs %d sizes with %d seeds each.\n\n", RP_E5_FIT_SIZES, RP_E5_MIN_SIZES, RP_E5_MIN_SEEDS);
    e5_points(c);
    e5_fits(c);
    e5_boot(c);
    rp_md_figure(c, e5_figure(c), "e5_scaling", "E5 measured points with seed spread and fitted curves");
}
