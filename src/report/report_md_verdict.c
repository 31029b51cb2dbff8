// report_md_verdict.c — section 9: the rules (printed from the constants in report_verdict.h and
// report_infer.h) and one verdict line per claim: the effect, its interval, n, the paper's effect and
// the rule that decided, and for an inconclusive verdict what would decide it.
#include "report/rp_md.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void rules(rp_ctx *c) {
    rp_puts(c->md, "### Rules\n\n");
    rp_printf(c->md, "- Interval rule (E1, E3): with the paper's effect P and no effect N (1 for a ratio, 0 for a "
                     "difference) and the %.0f%% interval I: inconclusive if I contains both N and P; reproduced if I "
                     "excludes N on P's side; not reproduced if I excludes N on the other side, or contains N but "
                     "excludes P. A claim of several parts is reproduced if every part is, not reproduced if any part "
                     "is not, otherwise inconclusive.\n", 100 * RP_LEVEL);
    rp_printf(c->md, "- E1: per seed pair, PowLU/SwiGLU of the late P1–P99 band width (P99 − P1, max over layers per "
                     "telemetry step, mean over steps > %g·steps) of (a) the down-projection input and (b) the gradient "
                     "at the up/gate outputs (max of the two); t interval over the log ratios (df = pairs − 1), "
                     "exponentiated; P = %.2f for (a), %.2f for (b); both parts. The weight gradients, amax/RMS and "
                     "kurtosis are shown, not used.\n", RP_E1_LATE, RP_E1_PAPER_ACT, RP_E1_PAPER_GRAD);
    rp_printf(c->md, "- E2: per recipe, PowLU's FP8 limit against SwiGLU's and SwiGLU-Clip's (limits as defined in "
                     "section 5); both comparisons must be reproduced. Inconclusive: no control, neither ladder failing "
                     "under FP8 above its limit (the ladder is too low), FP8 seeds disagreeing "
                     "or fewer than %d at a decisive rung, equal limits, or the failure that decides not attributable "
                     "to FP8 (the control fails there too). Reproduced: PowLU's limit is higher and the baseline's FP8 "
                     "failure is attributable; not reproduced: PowLU's limit is lower and its failure is attributable. "
                     "The headline is the primary recipe (delayed scaling, the longest amax history other than %d); the "
                     "stress recipe (history %d) is reported beside it.\n",
              RP_E2_MIN_SEEDS, RP_E2_STRESS_HISTORY, RP_E2_STRESS_HISTORY);
    rp_puts(c->md, "- E3: for PolyNorm and PolyReLU against SwiGLU, GELU and ReLU: the paired (by seed) difference "
                   "poly − base of the final validation loss, its t interval (df = pairs − 1); P = the PolyCom 1B "
                   "train-loss difference; every pair must be reproduced.\n");
    rp_printf(c->md, "- E4: for m = 2 and 4, the paired difference m − 3 of the final validation loss; TOST at α = "
                     "%.2f per side against the margin ±%g nats: reproduced (equivalent) if the 90%% interval lies "
                     "inside (−%g, %g), not reproduced if it lies entirely beyond one side of ±%g, else inconclusive; "
                     "both m.\n", RP_TOST_ALPHA, RP_E4_MARGIN, RP_E4_MARGIN, RP_E4_MARGIN, RP_E4_MARGIN);
    rp_printf(c->md, "- E5: at least %d sizes with %d seeds each for both PowLU and SwiGLU; gap = the largest "
                     "relative difference |L_powlu − L_swiglu| / L_swiglu of the fitted curves over the N range both "
                     "measured; its %.0f%% bootstrap interval (seeds resampled within sizes, %d resamples): reproduced "
                     "(the curves overlap) if the upper end ≤ %g%%, not reproduced if the lower end > %g%%, else "
                     "inconclusive.\n", RP_E5_MIN_SIZES, RP_E5_MIN_SEEDS, 100 * RP_LEVEL, c->a->n_boot,
              100 * RP_E5_OVERLAP, 100 * RP_E5_OVERLAP);
    rp_printf(c->md, "- E6 (MoE FFNs, section 10; `actlab compare --full` only): E6-E1 is E1's rule on the routed and "
                     "the shared experts' down-projection inputs (P = %.2f each; both parts; the experts' gradients are "
                     "not logged, so there is no gradient part); E6-E3 is E3's rule for PolyNorm − SwiGLU with P = "
                     "PolyCom's MoE difference (%+.3f), and E4's TOST against ±%g nats for PowLU − SwiGLU (the PowLU "
                     "paper has them level in MoE, %+.3f); E6-E2 is E2's ladder rule, PowLU against SwiGLU, on the "
                     "MoE model's FP8 ladders (runs tagged E6.E2).\n\n",
              RP_E1_PAPER_ACT, rp_paper_polycom_moe_train_diff("polynorm"), RP_E4_MARGIN,
              rp_paper_powlu_m_loss(3) - rp_paper_powlu_m_swiglu());
}

static void e1_part(rp_buf *md, const char *what, const rp_e1ratio *r, double paper) {
    char b[3][48];
    rp_printf(md, "%s %s [%s, %s] (n = %d seed pairs; paper %.2f): %s", what, rp_f(b[0], "%.3f", r->est),
              rp_f(b[1], "%.3f", r->lo), rp_f(b[2], "%.3f", r->hi), r->n_pairs, paper,
              rp_verdict_name(r->v));
}

static void verdict_e1(rp_ctx *c) {
    if (!c->a->e1_has_powlu) {
        rp_puts(c->md, "- E1: inconclusive — needs non-FP8 E1 runs of both powlu and swiglu with the same seeds.\n");
        return;
    }
    const rp_e1ratio *r = c->a->e1_powlu;
    rp_printf(c->md, "- E1: %s — PowLU/SwiGLU band width, 95%% t interval: ", rp_verdict_name(c->a->e1_v));
    e1_part(c->md, "down-projection input", &r[RP_Q_ACT], RP_E1_PAPER_ACT);
    rp_puts(c->md, "; ");
    e1_part(c->md, "gradient at the up/gate outputs", &r[RP_Q_GRAD], RP_E1_PAPER_GRAD);
    char b[3][48];
    if (!r[RP_Q_WGRAD].n_pairs) rp_puts(c->md, "; weight gradient (not used): not logged by this trainer.");
    else
        rp_printf(c->md, "; weight gradient (not used) %s [%s, %s].", rp_f(b[0], "%.3f", r[RP_Q_WGRAD].est),
                  rp_f(b[1], "%.3f", r[RP_Q_WGRAD].lo), rp_f(b[2], "%.3f", r[RP_Q_WGRAD].hi));
    if (c->a->e1_v == RP_INCONCLUSIVE)
        rp_puts(c->md, " To decide: more seed pairs (the interval narrows as 1/√pairs), or telemetry where it is "
                       "missing.");
    const rp_e1stress *st = c->a->e1_stress_best >= 0 ? &c->a->e1_stress[c->a->e1_stress_best] : NULL;
    if (st && st->q[0].n_pairs >= 2) {
        rp_printf(c->md, " Beside it (not in the verdict), where PowLU's gate reaches its bounded regime — the E2 "
                         "controls at lr %s, z > %g on %ld of %ld telemetry steps: ",
                  rp_f(b[0], "%g", st->lr), RP_Z_PEAK, st->z.steps_peak, st->z.steps);
        e1_part(c->md, "down-projection input", &st->q[0], RP_E1_PAPER_ACT);
        rp_puts(c->md, "; ");
        e1_part(c->md, "gradient at the up/gate outputs", &st->q[1], RP_E1_PAPER_GRAD);
        rp_puts(c->md, ".");
    }
    rp_puts(c->md, "\n");
}

static void verdict_e2(rp_ctx *c) {
    const rp_e2group *pw[RP_MAX_GROUPS];
    int n = rp_e2_recipes(c->a, pw, RP_MAX_GROUPS);
    if (!n) {
        rp_puts(c->md, "- E2: inconclusive — no PowLU FP8 ladder in this sweep.\n");
        return;
    }
    for (int k = 0; k < n; k++) {
        rp_verdict v[2];
        const char *why[2];
        const rp_e2group *base[2];
        int m = rp_e2_recipe_verdicts(c->a, pw[k], v, why, base);
        rp_ladder_sum sp = rp_ladder_summary(&pw[k]->lad);
        char lim[64], b[48];
        rp_md_e2_limit(lim, &pw[k]->lad, &sp);
        rp_printf(c->md, "- E2%s: %s — recipe %s, amax history %ld: PowLU FP8 limit %s (spacing above it %s)",
                  k ? " (secondary recipe, not the headline)" : "", rp_verdict_name(rp_verdict_all(v, m)), pw[k]->recipe,
                  pw[k]->hist, lim, rp_f(b, "×%.3g", sp.spacing));
        for (int j = 0; j < m; j++) {
            rp_ladder_sum sb = rp_ladder_summary(&base[j]->lad);
            rp_md_e2_limit(lim, &base[j]->lad, &sb);
            rp_printf(c->md, "; %s %s (%s: %s; FP8 seeds at its decisive rungs %d, spacing %s)", base[j]->act, lim,
                      rp_verdict_name(v[j]), why[j], sb.min_seeds, rp_f(b, "×%.3g", sb.spacing));
        }
        rp_printf(c->md, "%s. Paper: FP8 SwiGLU spikes after ≈ step 76,200, Clip only delays it (≈ 77,000), PowLU stays "
                         "flat.\n", m ? "" : "; no SwiGLU or SwiGLU-Clip ladder to compare with");
    }
}

static void verdict_e3(rp_ctx *c) {
    if (!c->a->n_e3) {
        rp_puts(c->md, "- E3: inconclusive — no (PolyNorm or PolyReLU, baseline) pair among the E3 runs.\n");
        return;
    }
    rp_printf(c->md, "- E3: %s — paired differences of the final val loss, 95%% t interval (paper):", rp_verdict_name(c->a->e3_v));
    for (int k = 0; k < c->a->n_e3; k++) {
        const rp_e3pair *p = &c->a->e3[k];
        char b[4][48];
        rp_printf(c->md, "%s %s − %s %s [%s, %s] (n = %d, MDE %s; paper %+.3f): %s", k ? ";" : "", p->poly, p->base,
                  rp_f(b[0], "%+.4f", p->c.diff), rp_f(b[1], "%+.4f", p->c.lo), rp_f(b[2], "%+.4f", p->c.hi),
                  p->n_pairs, rp_f(b[3], "%.4f", p->mde), p->paper, rp_verdict_name(p->v));
    }
    rp_puts(c->md, ".");
    if (c->a->e3_v == RP_INCONCLUSIVE)
        rp_puts(c->md, " To decide: the seeds listed per pair in section 6 (\"seeds for the paper's difference\").");
    rp_puts(c->md, "\n");
}

static void verdict_e4(rp_ctx *c) {
    int any = 0;
    for (int k = 0; k < c->a->n_e4; k++) any |= c->a->e4[k].m != RP_E4_REF_M;
    if (!any) {
        rp_puts(c->md, "- E4: inconclusive — no E4 runs with m other than 3.\n");
        return;
    }
    rp_printf(c->md, "- E4: %s — paired difference to m = 3, 90%% interval against ±%g nats:", rp_verdict_name(c->a->e4_v),
              RP_E4_MARGIN);
    int first = 1;
    for (int k = 0; k < c->a->n_e4; k++) {
        const rp_e4m *e = &c->a->e4[k];
        if (e->m == RP_E4_REF_M) continue;
        char b[4][48];
        rp_printf(c->md, "%s m = %g %s [%s, %s] (n = %d; resolvable margin %s; paper %+.3f): %s", first ? "" : ";", e->m,
                  rp_f(b[0], "%+.4f", e->c.diff), rp_f(b[1], "%+.4f", e->t.lo), rp_f(b[2], "%+.4f", e->t.hi),
                  e->n_pairs, rp_f(b[3], "%.4f", e->t.resolvable),
                  rp_paper_powlu_m_loss(e->m) - rp_paper_powlu_m_loss(RP_E4_REF_M), rp_verdict_name(e->v));
        first = 0;
    }
    rp_puts(c->md, ".");
    if (c->a->e4_v == RP_INCONCLUSIVE)
        rp_printf(c->md, " To decide: a resolvable margin below %g (it shrinks as 1/√pairs).", RP_E4_MARGIN);
    rp_puts(c->md, "\n");
}

// The fewest seeds at any size of either activation (0 when one is missing).
static int min_seeds(const rp_e5act *p, const rp_e5act *s) {
    int m = p && s ? 1 << 30 : 0;
    for (int j = 0; p && s && j < p->n; j++) m = p->seeds[j] < m ? p->seeds[j] : m;
    for (int j = 0; p && s && j < s->n; j++) m = s->seeds[j] < m ? s->seeds[j] : m;
    return m == 1 << 30 ? 0 : m;
}

static void verdict_e5(rp_ctx *c) {
    const rp_e5act *p = rp_find_e5(c->a, "powlu"), *s = rp_find_e5(c->a, "swiglu");
    const rp_boot_ci *g = &c->a->e5_boot.gap;
    char b[3][48];
    if (g->ok)
        rp_printf(c->md, "- E5: %s — largest relative gap of the fitted curves %s%%, 95%% bootstrap interval [%s, %s]%% "
                         "(powlu %d sizes, swiglu %d sizes; paper: the curves almost overlap; rule: ≤ %g%%).",
                  rp_verdict_name(c->a->e5_v), rp_f(b[0], "%.3f", 100 * g->est), rp_f(b[1], "%.3f", 100 * g->lo),
                  rp_f(b[2], "%.3f", 100 * g->hi), p ? p->n : 0, s ? s->n : 0, 100 * RP_E5_OVERLAP);
    else if (c->a->e5_boot.n_boot)
        rp_printf(c->md, "- E5: %s — no usable interval of the curves' gap (%d of %d bootstrap resamples failed; a fit "
                         "without power-law curvature fails) (powlu %d sizes, swiglu %d sizes; paper: the curves almost "
                         "overlap; rule: ≤ %g%%).",
                  rp_verdict_name(c->a->e5_v), c->a->e5_boot.n_failed, c->a->e5_boot.n_boot, p ? p->n : 0, s ? s->n : 0,
                  100 * RP_E5_OVERLAP);
    else
        rp_printf(c->md, "- E5: %s — no interval: the design for one is not met (powlu %d sizes, swiglu %d sizes, %d seeds "
                         "at the thinnest size; paper: the curves almost overlap; rule: ≤ %g%%).",
                  rp_verdict_name(c->a->e5_v), p ? p->n : 0, s ? s->n : 0, min_seeds(p, s), 100 * RP_E5_OVERLAP);
    if (!c->a->e5_design_ok)
        rp_printf(c->md, " To decide: at least %d sizes with %d seeds each for both activations.", RP_E5_MIN_SIZES,
                  RP_E5_MIN_SEEDS);
    else if (!c->a->e5_boot_ok || !g->ok)
        rp_puts(c->md, " To decide: sizes spanning a wider range of N, so that the fits find power-law curvature.");
    else if (c->a->e5_v == RP_INCONCLUSIVE)
        rp_puts(c->md, " To decide: more seeds per size (the interval straddles the rule).");
    rp_puts(c->md, "\n");
}

static void verdict_e6_e1(rp_ctx *c, const rp_e6 *e) {
    if (!e->e1_has_powlu) {
        rp_puts(c->md, "- E6-E1: inconclusive — needs fp32/bf16 E6 runs of both powlu and swiglu with the same seeds.\n");
        return;
    }
    rp_printf(c->md, "- E6-E1: %s — PowLU/SwiGLU band width, 95%% t interval: ", rp_verdict_name(e->e1_v));
    e1_part(c->md, "routed experts' down-projection input", &e->e1_powlu[0], RP_E1_PAPER_ACT);
    rp_puts(c->md, "; ");
    e1_part(c->md, "shared experts' down-projection input", &e->e1_powlu[1], RP_E1_PAPER_ACT);
    rp_puts(c->md, ". No gradient part: the MoE telemetry logs no expert gradients.");
    if (e->e1_v == RP_INCONCLUSIVE) rp_puts(c->md, " To decide: more seed pairs (the interval narrows as 1/√pairs).");
    rp_puts(c->md, "\n");
}

static void verdict_e6_e3(rp_ctx *c, const rp_e6 *e) {
    char b[6][48];
    if (!e->has_polynorm) rp_puts(c->md, "- E6-E3 (PolyNorm): inconclusive — needs E6 runs of polynorm and swiglu.\n");
    else {
        const rp_e3pair *p = &e->polynorm;
        rp_printf(c->md, "- E6-E3 (PolyNorm): %s — polynorm − swiglu %s [%s, %s] (95%% t interval, n = %d, MDE %s; paper "
                         "%+.3f, PolyCom MoE).%s\n", rp_verdict_name(p->v), rp_f(b[0], "%+.4f", p->c.diff),
                  rp_f(b[1], "%+.4f", p->c.lo), rp_f(b[2], "%+.4f", p->c.hi), p->n_pairs, rp_f(b[3], "%.4f", p->mde),
                  p->paper, p->v == RP_INCONCLUSIVE ? " To decide: the seeds listed in section 10." : "");
    }
    if (!e->has_powlu) {
        rp_puts(c->md, "- E6-E3 (PowLU): inconclusive — needs E6 runs of powlu and swiglu.\n");
        return;
    }
    const rp_e3pair *p = &e->powlu;
    const rp_tost *t = &e->powlu_tost;
    rp_printf(c->md, "- E6-E3 (PowLU): %s — powlu − swiglu %s, 95%% t interval [%s, %s], 90%% TOST interval [%s, %s] "
                     "against ±%g nats (n = %d, resolvable margin %s; paper %+.3f, level with SwiGLU).%s\n",
              rp_verdict_name(p->v), rp_f(b[0], "%+.4f", p->c.diff), rp_f(b[1], "%+.4f", p->c.lo),
              rp_f(b[2], "%+.4f", p->c.hi), rp_f(b[3], "%+.4f", t->lo), rp_f(b[4], "%+.4f", t->hi), RP_E4_MARGIN,
              p->n_pairs, rp_f(b[5], "%.4f", t->resolvable), p->paper,
              p->v == RP_INCONCLUSIVE ? " To decide: a resolvable margin below the margin (it shrinks as 1/√pairs)." : "");
}

static void verdict_e6(rp_ctx *c) {
    const rp_e6 *e = &c->a->e6;
    if (!e->n_runs) {
        rp_puts(c->md, "- E6: not run — E1, E2 and E3 with an MoE FFN run in `actlab compare --full` only (section 10 "
                       "there).\n");
        return;
    }
    verdict_e6_e1(c, e);
    if (!e->n_e2_runs) rp_puts(c->md, "- E6-E2: not run — no E6 ladder runs (tagged E6.E2) in this sweep.\n");
    else
        rp_printf(c->md, "- E6-E2: %s — %s (PowLU's and SwiGLU's FP8 ladders with experts, section 10).%s\n",
                  rp_verdict_name(e->e2_v), e->e2_why,
                  e->e2_v == RP_INCONCLUSIVE ? " To decide: as for E2 (section 5), a rung where FP8 fails and the control does not." : "");
    verdict_e6_e3(c, e);
}

void rp_md_verdicts(rp_ctx *c) {
    rp_puts(c->md, "## 9. Verdicts\n\n");
    rules(c);
    rp_puts(c->md, "### Verdicts (these models only)\n\n");
    verdict_e1(c);
    verdict_e2(c);
    verdict_e3(c);
    verdict_e4(c);
    verdict_e5(c);
    verdict_e6(c);
    rp_puts(c->md, "\n");
}
