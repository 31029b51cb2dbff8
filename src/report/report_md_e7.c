// report_md_e7.c — section 11, E7: 4-bit block-scaled pre-training against its control (report_e7.h).
// Printed only when the sweep has E7 runs (`actlab compare --full`), so other reports are unchanged.
#include "report/report_e7.h"
#include "report/rp_md.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const E7_BASES[] = {"swiglu", "swiglu_clip"};

static int run_order(const void *x, const void *y) {
    const rp_run *a = *(const rp_run *const *)x, *b = *(const rp_run *const *)y;
    int k = strcmp(a->act, b->act);
    if (!k) k = strcmp(a->precision, b->precision);
    if (!k) k = (a->rht < b->rht) - (a->rht > b->rht);
    if (!k) k = (a->lr > b->lr) - (a->lr < b->lr);
    if (!k) k = (a->seed > b->seed) - (a->seed < b->seed);
    return k ? k : (a > b) - (a < b);
}

static double gap_of(const rp_e7 *e, const rp_run *r) {
    const rp_e7group *g = rp_find_e7(e, r->act, r->precision, r->rht);
    for (int i = 0; g && i < g->n_gap; i++)
        if (g->gap_lr[i] == r->lr && g->gap_seed[i] == (double)r->seed) return g->gap[i];
    return NAN;
}

static void runs_table(rp_ctx *c, const rp_e7 *e) {
    const rp_run **rs = xmalloc((c->s->n + 1) * sizeof *rs);
    size_t n = 0;
    for (size_t i = 0; i < c->s->n; i++)
        if (rp_pick_e7(&c->s->runs[i], NULL)) rs[n++] = &c->s->runs[i];
    qsort(rs, n, sizeof *rs, run_order);
    rp_puts(c->md, "| activation | precision | Hadamard | lr | seed | status | spikes | diverged at | final val loss | "
                   "gap to control | down-proj input: outlier blocks | zeros | saturated | mean rel. error |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const rp_run *r = rs[i];
        int four = rp_is_4bit(r), blk = four && r->has_down_blk;
        char b[8][48], div[32] = "-";
        if (r->diverged_step >= 0) snprintf(div, sizeof div, "%ld", r->diverged_step);
        rp_printf(c->md, "| %s | %s | %s | %s | %ld | %s | %ld | %s | %s | %s | %s | %s | %s | %s |\n", r->act,
                  r->precision, four ? (r->rht ? "yes" : "no") : "-", rp_f(b[0], "%g", r->lr), r->seed, r->status,
                  r->n_spikes, div, rp_f(b[1], "%.4f", r->final_val), rp_f(b[2], "%+.4f", four ? gap_of(e, r) : NAN),
                  rp_f(b[3], "%.4f", blk && r->down_blocks > 0 ? r->down_outlier / r->down_blocks : NAN),
                  rp_f(b[4], "%.4f", blk && r->down_bn > 0 ? r->down_zero / r->down_bn : NAN),
                  rp_f(b[5], "%.2e", blk && r->down_bn > 0 ? r->down_bsat / r->down_bn : NAN),
                  rp_f(b[6], "%.4f", blk && r->down_bn > 0 ? r->down_err / r->down_bn : NAN));
    }
    rp_puts(c->md, "\n");
    free((void *)rs);
}

static void ladder_table(rp_ctx *c, const rp_e7 *e) {
    rp_puts(c->md, "| activation | precision | Hadamard | 4-bit limit | control limit | first 4-bit failure above it | "
                   "attributable to 4-bit | 4-bit seeds at the decisive rungs | seeds disagree | loss gap to control "
                   "(mean ± sd, n) | down-proj input: outlier blocks | zeros | saturated | mean rel. error |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < e->n; k++) {
        const rp_e7group *g = &e->g[k];
        rp_ladder_sum s = rp_ladder_summary(&g->lad);
        char lim[64], b[8][48], gap[128];
        rp_md_e2_limit(lim, &g->lad, &s);
        snprintf(gap, sizeof gap, "%s ± %s (%d)", rp_f(b[0], "%+.4f", g->gap_stat.mean), rp_f(b[1], "%.4f", g->gap_stat.sd),
                 g->gap_stat.n);
        rp_printf(c->md, "| %s | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", g->act, g->fmt,
                  g->rht ? "yes" : "no", lim,
                  s.ctl_limit >= 0 ? rp_f(b[2], "%g", g->lad.r[s.ctl_limit].lr) : (s.has_control ? "none" : "no control"),
                  s.fail >= 0 ? rp_f(b[3], "%g", g->lad.r[s.fail].lr) : "none (censored)",
                  s.fail < 0 ? "-" : s.fail_attributable ? "yes" : "no", s.min_seeds, s.disagree ? "yes" : "no", gap,
                  rp_f(b[4], "%.4f", g->outlier_frac), rp_f(b[5], "%.4f", g->zero_frac), rp_f(b[6], "%.2e", g->sat_frac),
                  rp_f(b[7], "%.4f", g->rel_err));
    }
    rp_puts(c->md, "\n");
}

// Per format (and Hadamard setting) with a PowLU ladder: PowLU against each baseline, on stability
// (E2's rule) and on the loss gap (paired by lr and seed).
static void verdict_table(rp_ctx *c, const rp_e7 *e) {
    rp_puts(c->md, "| precision | Hadamard | comparison | PowLU 4-bit limit | baseline 4-bit limit | avoids divergence "
                   "(E2 rule) | why | gap(PowLU) − gap(baseline), 95% CI (pairs) | narrows the loss gap |\n"
                   "|---|---|---|---|---|---|---|---|---|\n");
    int any = 0;
    for (int k = 0; k < e->n; k++) {
        const rp_e7group *p = &e->g[k];
        if (strcmp(p->act, "powlu")) continue;
        for (int j = 0; j < 2; j++) {
            const rp_e7group *b = rp_find_e7(e, E7_BASES[j], p->fmt, p->rht);
            if (!b) continue;
            any = 1;
            const char *why;
            rp_verdict vs = rp_verdict_e2(&p->lad, &b->lad, &why);
            rp_e7gap gc = rp_e7_gap_cmp(p, b);
            rp_ladder_sum sp = rp_ladder_summary(&p->lad), sb = rp_ladder_summary(&b->lad);
            char lp[64], lb[64], ci[160], x[3][48];
            rp_md_e2_limit(lp, &p->lad, &sp), rp_md_e2_limit(lb, &b->lad, &sb);
            snprintf(ci, sizeof ci, "%s [%s, %s] (%d)", rp_f(x[0], "%+.4f", gc.c.ok ? gc.c.diff : NAN),
                     rp_f(x[1], "%+.4f", gc.c.lo), rp_f(x[2], "%+.4f", gc.c.hi), gc.n_pairs);
            rp_printf(c->md, "| %s | %s | powlu vs %s | %s | %s | %s | %s | %s | %s |\n", p->fmt, p->rht ? "yes" : "no",
                      b->act, lp, lb, rp_verdict_name(vs), why, ci, rp_verdict_name(gc.v));
        }
    }
    if (!any) rp_puts(c->md, "| | | no PowLU and baseline ladders in the same format | | | inconclusive | | | inconclusive |\n");
    rp_puts(c->md, "\n");
}

void rp_md_e7(rp_ctx *c) {
    int n = 0;
    for (size_t i = 0; i < c->s->n; i++) n += rp_pick_e7(&c->s->runs[i], NULL);
    if (!n) return;
    rp_e7 *e = xmalloc(sizeof *e);
    rp_analyze_e7(c->s, e);
    rp_puts(c->md, "## 11. E7: 4-bit pre-training (NVFP4, MXFP4) against a control\n\n");
    rp_printf(c->md,
              "A question neither paper tested: does PowLU's bounded growth narrow the loss gap of 4-bit "
              "block-scaled pre-training to its control, or avoid divergence, where SwiGLU's near-quadratic growth does "
              "not? Runs tagged E7: SwiGLU, SwiGLU-Clip and PowLU on a learning-rate ladder in NVFP4 and MXFP4 "
              "(NVIDIA's NVFP4 recipe: 1×16 / 1×32 blocks for activations and gradients, 2-D weight blocks, "
              "stochastic rounding of gradients, a 16×16 random Hadamard transform on the weight-gradient inputs; "
              "NVFP4 also without the transform; LM head bf16; docs/lowp.md), and the control (fp32 or bf16) at the same "
              "activations, rates and seeds. Stability is judged exactly as in E2 (a run is unstable when it "
              "diverged, had a spike event or did not finish; a 4-bit failure counts where the control is stable; "
              "%d seeds at the decisive rungs). The loss gap is the final validation loss of a 4-bit run minus "
              "that of its control (same activation, lr and seed; both stable); PowLU's gap is compared with "
              "a baseline's paired by (lr, seed): narrowing is reproduced when the 95%% interval of gap(PowLU) − "
              "gap(baseline) lies below 0, not reproduced when it lies above 0 or within ±%g nats, else "
              "inconclusive. The block telemetry is that of the down-projection inputs (L<l>.ffn_down.x, "
              "telemetry steps): the fraction of blocks whose scale is set by one element (every other element "
              "below half the block's amax), of elements rounded to zero, of saturated elements, and the mean "
              "relative quantisation error.\n\n",
              RP_E2_MIN_SEEDS, RP_E7_MARGIN);
    runs_table(c, e);
    ladder_table(c, e);
    verdict_table(c, e);
    free(e);
}
