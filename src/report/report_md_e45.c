// report_md_e45.c — sections 6 (E4: validation loss against PowLU's m) and 7 (E5: scaling-law fit).
#include "report/rp_md.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int e4_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e4_m", "E4: final validation loss against m (mean ± std over seeds)", "m",
                 "final validation loss", 0);
    int n = c->a->n_e4;
    double x[RP_MAX_POINTS], y[RP_MAX_POINTS], e[RP_MAX_POINTS];
    for (int k = 0; k < n; k++)
        x[k] = c->a->e4[k].m, y[k] = c->a->e4[k].val.mean, e[k] = c->a->e4[k].val.n > 1 ? c->a->e4[k].val.sd : 0;
    const double *cols[3] = {x, y, e};
    rp_fig_series(&f, cols, 3, (size_t)n, "1:2:3 with yerrorlines lw 2 pt 7", "powlu", rp_color(c, "powlu"));
    return rp_fig_end(&f);
}

void rp_md_e4(rp_ctx *c) {
    rp_puts(c->md, "## 6. E4: validation loss against PowLU's m\n\n");
    if (!c->a->n_e4) {
        rp_md_no_runs(c);
        return;
    }
    double ref_m = c->a->e4[0].m, ref = c->a->e4[0].val.mean;
    for (int k = 0; k < c->a->n_e4; k++)
        if (c->a->e4[k].m == 3) ref_m = 3, ref = c->a->e4[k].val.mean;
    rp_printf(c->md, "Runs tagged E4: final validation loss per m, mean ± sample std over seeds. The paper's m "
                     "ablation (47M activated, 29.8B tokens: SwiGLU %.3f; m=2 %.3f, m=3 %.3f, m=4 %.3f) is shown "
                     "as differences only, to SwiGLU and to m = 3; ours as the difference to m = %g.\n\n",
              rp_paper_powlu_m_swiglu(), rp_paper_powlu_m_loss(2), rp_paper_powlu_m_loss(3), rp_paper_powlu_m_loss(4),
              ref_m);
    rp_printf(c->md, "| m | n | final val loss | ours − (m=%g) | paper: loss − SwiGLU | paper: loss − (m=3) |\n"
                     "|---|---|---|---|---|---|\n", ref_m);
    for (int k = 0; k < c->a->n_e4; k++) {
        const rp_e4m *e = &c->a->e4[k];
        double p = rp_paper_powlu_m_loss(e->m);
        char b[6][48], ms[100];
        snprintf(ms, sizeof ms, "%s ± %s", rp_f(b[0], "%.4f", e->val.mean), rp_f(b[1], "%.4f", e->val.sd));
        rp_printf(c->md, "| %g | %d | %s | %s | %s | %s |\n", e->m, e->val.n, ms, rp_f(b[2], "%+.4f", e->val.mean - ref),
                  rp_f(b[3], "%+.3f", p - rp_paper_powlu_m_swiglu()), rp_f(b[4], "%+.3f", p - rp_paper_powlu_m_loss(3)));
    }
    rp_puts(c->md, "\n");
    rp_md_figure(c, e4_figure(c), "e4_m", "E4 validation loss against m");
}

static int e5_figure(rp_ctx *c) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, "e5_scaling", "E5: final validation loss against non-embedding parameters",
                 "N (non-embedding parameters)", "final validation loss", 1);
    for (int k = 0; k < c->a->n_e5; k++) {
        const rp_e5act *e = &c->a->e5[k];
        const double *cols[2] = {e->N, e->L};
        char label[64];
        snprintf(label, sizeof label, "%s (measured)", e->act);
        rp_fig_series(&f, cols, 2, (size_t)e->n, "1:2 with points pt 7 ps 1.3", label, rp_color(c, e->act));
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

void rp_md_e5(rp_ctx *c) {
    rp_puts(c->md, "## 7. E5: scaling law\n\n");
    if (!c->a->n_e5) {
        rp_md_no_runs(c);
        return;
    }
    rp_printf(c->md, "Runs tagged E5. N = n_params_nonembed from run.json, L = final validation loss (mean over seeds "
                     "at the same N). Fit of L(N) = A·N^(−α) + E by nonlinear least squares: α profiled over a grid "
                     "on [0.001, 3] with A and E by linear least squares at each α, refined by golden section, then "
                     "A, α, E together by Gauss-Newton. Uncertainties: square roots of the diagonal of s²(JᵀJ)⁻¹ with "
                     "s² = RSS/(n−3) (undefined when n ≤ 3). A fit needs at least %d sizes.\n\n", RP_E5_MIN_SIZES);
    rp_puts(c->md, "| activation | N | seeds | final val loss |\n|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e5; k++)
        for (int j = 0; j < c->a->e5[k].n; j++)
            rp_printf(c->md, "| %s | %.0f | %d | %.4f |\n", c->a->e5[k].act, c->a->e5[k].N[j], c->a->e5[k].seeds[j],
                      c->a->e5[k].L[j]);
    rp_puts(c->md, "\n| activation | sizes | A ± σ | α ± σ | E ± σ | RSS |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_e5; k++) {
        const rp_e5act *e = &c->a->e5[k];
        if (!e->fit.ok) {
            rp_printf(c->md, "| %s | %d | not fitted: %s | | | |\n", e->act, e->n,
                      e->n < RP_E5_MIN_SIZES ? "fewer than 4 sizes" : "the fit failed");
            continue;
        }
        char b[7][48];
        rp_printf(c->md, "| %s | %d | %s ± %s | %s ± %s | %s ± %s | %s%s |\n", e->act, e->n, rp_f(b[0], "%.4g", e->fit.A),
                  rp_f(b[1], "%.2g", e->fit.sA), rp_f(b[2], "%.4f", e->fit.alpha), rp_f(b[3], "%.4f", e->fit.salpha),
                  rp_f(b[4], "%.4f", e->fit.E), rp_f(b[5], "%.4g", e->fit.sE), rp_f(b[6], "%.3e", e->fit.rss),
                  e->fit.edge ? " (α at the edge of [0.001, 3]: no power-law curvature, fit not used)" : "");
    }
    rp_puts(c->md, "\n");
    rp_md_figure(c, e5_figure(c), "e5_scaling", "E5 measured points and fitted curves");
}
