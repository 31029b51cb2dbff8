// report_md_verdict.c — section 8: the rules (printed from the constants in report_verdict.h) and
// one verdict line per claim with the numbers that decided it.
#include "report/rp_md.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const E3_POLY[] = {"polynorm", "polyrelu"};
static const char *const E3_BASE[] = {"swiglu", "gelu", "relu"};

static void rules(rp_ctx *c) {
    rp_puts(c->md, "### Rules\n\n");
    rp_printf(c->md, "- E3 (each of PolyNorm, PolyReLU vs each of SwiGLU, GELU, ReLU): diff = mean(poly) − mean(base) "
                     "of the final validation loss, se = sqrt(s1²/n1 + s2²/n2); reproduced if diff < −%g·se, not "
                     "reproduced if diff > +%g·se, otherwise inconclusive (also when either side has fewer than %d "
                     "seeds). Overall: reproduced if every pair is, not reproduced if any pair is not, otherwise "
                     "inconclusive.\n", RP_E3_SE_K, RP_E3_SE_K, RP_E3_MIN_SEEDS);
    rp_printf(c->md, "- E4: over the m values with at least %d seeds (at least two such m): spread = max mean − min "
                     "mean, se = the largest pairwise sqrt(s1²/n1 + s2²/n2); reproduced (equivalent) if spread ≤ "
                     "%g·se and spread ≤ %g%% of the mean loss; not reproduced if spread > %g·se and > %g%%; "
                     "otherwise inconclusive.\n", RP_E3_MIN_SEEDS, RP_E4_SE_K, 100 * RP_E4_REL, RP_E4_SE_K,
              100 * RP_E4_REL);
    rp_printf(c->md, "- E1: ratio = powlu / swiglu of the late-training mean amax of the act_out band, and separately "
                     "of the gradient bands' amax (fp32 runs tagged E1); reproduced if both ratios < %g, not "
                     "reproduced if either ≥ %g, otherwise inconclusive.\n", RP_E1_REPRODUCED, RP_E1_NOT);
    rp_puts(c->md, "- E2: largest stable lr per activation under the same recipe (delayed when both have it): "
                   "reproduced if powlu's is larger than swiglu's; inconclusive if both are stable at every lr "
                   "(ladder too low) or both unstable at every lr; not reproduced if powlu's is not larger and swiglu "
                   "is unstable at some lr of the ladder; otherwise inconclusive.\n");
    rp_printf(c->md, "- E5: both activations fitted (at least %d sizes each, α not at the edge of the searched range "
                     "[0.001, 3]): gap = max over the N range both measured "
                     "of |L_powlu(N) − L_swiglu(N)| / L_swiglu(N) of the fitted curves; reproduced (the curves "
                     "overlap) if gap ≤ %g%%, not reproduced if gap > %g%%, otherwise inconclusive.\n",
              RP_E5_MIN_SIZES, 100 * RP_E5_OVERLAP, 100 * RP_E5_APART);
    rp_puts(c->md, "- E6 (MoE FFNs): not run by this project's sweeps.\n\n");
}

static void verdict_e3(rp_ctx *c) {
    if (!c->a->n_val || !c->a->e3_tagged) {
        rp_puts(c->md, "- E3: inconclusive — no E3 runs in this sweep.\n");
        return;
    }
    rp_verdict v[6];
    int n = 0;
    rp_buf pairs = {0};
    for (int p = 0; p < 2; p++)
        for (int b = 0; b < 3; b++) {
            const rp_actval *x = rp_find_val(c->a, E3_POLY[p]), *y = rp_find_val(c->a, E3_BASE[b]);
            if (!x || !y) continue;
            double diff, se;
            char b1[48], b2[48];
            v[n] = rp_verdict_e3_pair(x->val, y->val, &diff, &se);
            rp_printf(&pairs, "| %s vs %s | %d / %d | %s | %s | %s |\n", E3_POLY[p], E3_BASE[b], x->val.n, y->val.n,
                      rp_f(b1, "%+.4f", diff), rp_f(b2, "%.4f", se), rp_verdict_name(v[n]));
            n++;
        }
    rp_verdict all = rp_verdict_e3_overall(v, n);
    if (!n) rp_printf(c->md, "- E3: %s — no (PolyNorm or PolyReLU, baseline) pair was run.\n", rp_verdict_name(all));
    else rp_printf(c->md, "- E3: %s — %d pairs, per-pair numbers below.\n", rp_verdict_name(all), n);
    if (n)
        rp_printf(c->md, "\n| pair | seeds | diff | se | verdict |\n|---|---|---|---|---|\n%s\n", pairs.p);
    rp_buf_free(&pairs);
}

static void verdict_e4(rp_ctx *c) {
    if (!c->a->n_e4) {
        rp_puts(c->md, "- E4: inconclusive — no E4 runs in this sweep.\n");
        return;
    }
    rp_stat st[RP_MAX_POINTS];
    for (int k = 0; k < c->a->n_e4; k++) st[k] = c->a->e4[k].val;
    double spread, se, mean;
    rp_verdict v = rp_verdict_e4(st, c->a->n_e4, &spread, &se, &mean);
    char b[5][48];
    rp_printf(c->md, "- E4: %s — spread %s, largest pairwise se %s, %g·se = %s, %g%% of the mean loss %s = %s.\n",
              rp_verdict_name(v), rp_f(b[0], "%.4f", spread), rp_f(b[1], "%.4f", se), RP_E4_SE_K,
              rp_f(b[2], "%.4f", RP_E4_SE_K * se), 100 * RP_E4_REL, rp_f(b[3], "%.4f", mean),
              isfinite(mean) ? (snprintf(b[4], 48, "%.4f", RP_E4_REL * mean), b[4]) : "n/a");
}

static void verdict_e1(rp_ctx *c) {
    const rp_e1act *p = rp_find_e1(c->a, "powlu"), *s = rp_find_e1(c->a, "swiglu");
    if (!p || !s) {
        rp_puts(c->md, "- E1: inconclusive — needs fp32 E1 runs of both powlu and swiglu.\n");
        return;
    }
    double ra = p->late[RP_ACT_OUT][0] / s->late[RP_ACT_OUT][0], rg = p->late_grad / s->late_grad;
    char b[6][48];
    rp_printf(c->md, "- E1: %s — act_out amax ratio %s (powlu %s / swiglu %s), gradient amax ratio %s (powlu %s / "
                     "swiglu %s).\n", rp_verdict_name(rp_verdict_e1(ra, rg)), rp_f(b[0], "%.3f", ra),
              rp_f(b[1], "%.4g", p->late[RP_ACT_OUT][0]), rp_f(b[2], "%.4g", s->late[RP_ACT_OUT][0]),
              rp_f(b[3], "%.3f", rg), rp_f(b[4], "%.4g", p->late_grad), rp_f(b[5], "%.4g", s->late_grad));
}

static void verdict_e2(rp_ctx *c) {
    const rp_e2group *p, *s;
    if (!rp_e2_pair(c->a, &p, &s)) {
        rp_puts(c->md, "- E2: inconclusive — needs E2 runs of both powlu and swiglu under one recipe.\n");
        return;
    }
    double lp = rp_ladder_largest_stable(&p->lad), ls = rp_ladder_largest_stable(&s->lad);
    char b[2][48];
    rp_printf(c->md, "- E2: %s — recipe %s: largest stable lr powlu %s, swiglu %s (over %d and %d lrs).\n",
              rp_verdict_name(rp_verdict_e2(&p->lad, &s->lad)), p->recipe, lp > 0 ? rp_f(b[0], "%g", lp) : "none",
              ls > 0 ? rp_f(b[1], "%g", ls) : "none", p->lad.n, s->lad.n);
}

static void verdict_e5(rp_ctx *c) {
    const rp_e5act *p = rp_find_e5(c->a, "powlu"), *s = rp_find_e5(c->a, "swiglu");
    double lo, hi, gap = rp_e5_gap(p, s, &lo, &hi);
    if (!isfinite(gap)) {
        rp_printf(c->md, "- E5: inconclusive — needs usable fits (at least %d sizes, α inside the searched range) of "
                         "both powlu and swiglu over a common N range (powlu: %d sizes%s, swiglu: %d sizes%s).\n",
                  RP_E5_MIN_SIZES, p ? p->n : 0, p && p->fit.ok && p->fit.edge ? ", α at the edge" : "",
                  s ? s->n : 0, s && s->fit.ok && s->fit.edge ? ", α at the edge" : "");
        return;
    }
    char b[6][48];
    rp_printf(c->md, "- E5: %s — largest relative gap %s%% over N = %.0f..%.0f; α powlu %s ± %s, swiglu %s ± %s.\n",
              rp_verdict_name(rp_verdict_e5(gap)), rp_f(b[0], "%.3f", 100 * gap), lo, hi,
              rp_f(b[1], "%.4f", p->fit.alpha), rp_f(b[2], "%.4f", p->fit.salpha), rp_f(b[3], "%.4f", s->fit.alpha),
              rp_f(b[4], "%.4f", s->fit.salpha));
}

void rp_md_verdicts(rp_ctx *c) {
    rp_puts(c->md, "## 8. Verdicts\n\n");
    rules(c);
    rp_puts(c->md, "### Verdicts (these models only)\n\n");
    verdict_e1(c);
    verdict_e2(c);
    verdict_e3(c);
    verdict_e4(c);
    verdict_e5(c);
    rp_puts(c->md, "- E6: not run — the MoE FFN (routed + shared experts) is not part of this sweep.\n\n");
}
