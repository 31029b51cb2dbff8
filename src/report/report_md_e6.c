// report_md_e6.c — section 10, E6: the claims E1, E2 and E3 with an MoE FFN (report_analyze_e6.c),
// with the dense sections' own tables (rp_md_e3_pair_*, rp_md_e1_ratio_*, rp_md_e2_*). Printed only
// when the sweep has E6 runs (`actlab compare --full`), so other reports are unchanged.
#include "report/rp_md.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void intro(rp_ctx *c, const rp_e6 *e) {
    rp_printf(c->md,
              "The PowLU paper measured its claims in MoE models (PowLU in the routed experts and in the shared "
              "expert), PolyCom compared PolyNorm with SwiGLU in an OLMoE-style MoE too; E6 repeats E1, E2 and E3 with "
              "an MoE FFN. Runs tagged E6: the suite's base model with every FFN replaced by %ld routed experts, "
              "top-%ld, and %ld shared expert(s), a softmax router with OLMoE's auxiliary coefficients (load "
              "balancing 0.01, router z-loss 0.001), each expert 1/(top-k + shared) of the dense FFN's width, so a "
              "token uses as many FFN parameters as in the dense model (plus the router; section 1 has the split). "
              "Each activation trains at the learning rate its dense tuning found (section 6), on the same seeds as "
              "the others, so the comparisons are paired as in E3. The validation loss is the cross-entropy alone "
              "(the auxiliary losses are not in it), comparable with the dense runs'.\n\n",
              e->experts, e->top_k, e->shared);
}

static void val_table(rp_ctx *c, const rp_e6 *e) {
    const rp_actval *sw = rp_find_e6_val(e, "swiglu");
    rp_puts(c->md, "| activation | n | MoE final val loss | dense (E3) final val loss | MoE − dense | MoE: − SwiGLU |\n"
                   "|---|---|---|---|---|---|\n");
    for (int k = 0; k < e->n_val; k++) {
        // The dense column only from E3 runs: without them section 3's group is every fp32 run, E6's too.
        const rp_actval *v = &e->val[k], *d = c->a->e3_tagged ? rp_find_val(c->a, v->act) : NULL;
        char b[6][48], moe[112], dense[112];
        snprintf(moe, sizeof moe, "%s ± %s", rp_f(b[0], "%.4f", v->val.mean), rp_f(b[1], "%.4f", v->val.sd));
        if (d) snprintf(dense, sizeof dense, "%s ± %s (%d)", rp_f(b[2], "%.4f", d->val.mean), rp_f(b[3], "%.4f", d->val.sd), d->val.n);
        else snprintf(dense, sizeof dense, "n/a");
        rp_printf(c->md, "| %s | %d | %s | %s | %s | %s |\n", v->act, v->val.n, moe, dense,
                  rp_f(b[4], "%+.4f", d ? v->val.mean - d->val.mean : NAN),
                  rp_f(b[5], "%+.4f", sw ? v->val.mean - sw->val.mean : NAN));
    }
    rp_puts(c->md, "\n");
}

static void e3_part(rp_ctx *c, const rp_e6 *e) {
    rp_puts(c->md, "### E6-E3: the final validation loss against SwiGLU\n\n");
    if (!e->has_polynorm && !e->has_powlu) {
        rp_puts(c->md, "No pair: the E6 runs lack SwiGLU, or both PolyNorm and PowLU.\n\n");
        return;
    }
    rp_printf(c->md, "Paired by seed, as E3: the mean difference of the final validation loss, its %.0f%% t interval, p, "
                     "the MDE and the pairs the paper's difference would need. PolyNorm − SwiGLU is judged by E3's "
                     "interval rule against PolyCom's MoE difference (train loss 2.341 vs 2.355). PowLU − SwiGLU: the "
                     "PowLU paper's MoE ablation has PowLU level with SwiGLU (1.912 vs 1.910 at m = 3, 47M activated), a "
                     "claim of equivalence, so it is judged as E4 judges m (TOST, %.0f%% interval against ±%g nats); its "
                     "row's verdict is that one.\n\n", 100 * RP_LEVEL, 100 * (1 - 2 * RP_TOST_ALPHA), RP_E4_MARGIN);
    rp_md_e3_pair_header(c->md);
    if (e->has_polynorm) rp_md_e3_pair_row(c->md, &e->polynorm);
    if (e->has_powlu) rp_md_e3_pair_row(c->md, &e->powlu);
    rp_puts(c->md, "\n");
    if (!e->has_powlu) return;
    const rp_tost *t = &e->powlu_tost;
    char b[3][48];
    rp_printf(c->md, "PowLU − SwiGLU, TOST: %.0f%% interval [%s, %s] against ±%g nats, resolvable margin %s: %s.\n\n",
              100 * (1 - 2 * RP_TOST_ALPHA), rp_f(b[0], "%+.4f", t->lo), rp_f(b[1], "%+.4f", t->hi), RP_E4_MARGIN,
              rp_f(b[2], "%.4f", t->resolvable), rp_verdict_name(e->powlu.v));
}

static void width_table(rp_ctx *c, const rp_e6 *e) {
    rp_puts(c->md, "| activation | seed | routed: P1–P99 width | routed: amax/RMS | routed: kurtosis | shared: P1–P99 "
                   "width | shared: amax/RMS | shared: kurtosis |\n|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < e->n_e1; k++)
        for (int i = 0; i < e->e1[k].n; i++) {
            const rp_e1run *r = &e->e1[k].run[i];
            char b[6][48];
            rp_printf(c->md, "| %s | %ld | %s | %s | %s | %s | %s | %s |\n", e->e1[k].act, r->seed,
                      rp_f(b[0], "%.4g", r->q[RP_Q_MOE]), rp_f(b[1], "%.3g", r->st[RP_MOE_OUT][RP_ST_CREST]),
                      rp_f(b[2], "%.3g", r->st[RP_MOE_OUT][RP_ST_KURT]), rp_f(b[3], "%.4g", r->q[RP_Q_MOE_SHARED]),
                      rp_f(b[4], "%.3g", r->st[RP_MOE_SHARED_OUT][RP_ST_CREST]),
                      rp_f(b[5], "%.3g", r->st[RP_MOE_SHARED_OUT][RP_ST_KURT]));
        }
    rp_puts(c->md, "\n");
}

static void e1_part(rp_ctx *c, const rp_e6 *e) {
    rp_puts(c->md, "### E6-E1: the experts' down-projection inputs\n\n");
    if (!e->n_e1) {
        rp_puts(c->md, "No fp32/bf16 E6 runs.\n\n");
        return;
    }
    rp_printf(c->md, "E1's statistics from each MoE layer's telemetry (\"moe\": the routed experts' down-projection "
                     "inputs, all experts' rows together, and the shared expert's): per run the P1–P99 band width, max "
                     "over layers per telemetry step, mean over the steps > %g·steps; PowLU/SwiGLU paired by seed, "
                     "t interval over the log ratios, by E1's rule against the paper's %.2f (its figure shows these "
                     "very tensors, the expert FFNs' activations). Both parts decide. The gradient half of E1 is not "
                     "measured here: the MoE telemetry logs no expert gradients.\n\n", RP_E1_LATE, RP_E1_PAPER_ACT);
    width_table(c, e);
    if (!e->e1_has_powlu) {
        rp_puts(c->md, "No ratios: the E6 runs lack PowLU or SwiGLU.\n\n");
        return;
    }
    rp_md_e1_ratio_header(c->md);
    rp_md_e1_ratio_row(c->md, "powlu", RP_Q_MOE, &e->e1_powlu[0], 1);
    rp_md_e1_ratio_row(c->md, "powlu", RP_Q_MOE_SHARED, &e->e1_powlu[1], 1);
    rp_puts(c->md, "\n");
}

// E6-E2: E2's ladder and rule on this section's model (runs tagged E6.E2.*).
static void e2_part(rp_ctx *c, const rp_e6 *e) {
    rp_puts(c->md, "### E6-E2: FP8 stability with MoE\n\n");
    if (!e->n_e2_runs) {
        rp_puts(c->md, "No E6 ladder runs (tagged E6.E2) in this sweep.\n\n");
    } else {
        rp_puts(c->md, "E2's learning-rate ladder and stability rule (section 5) on this section's MoE model: PowLU and "
                       "SwiGLU in FP8 (delayed scaling, history 1024, every expert with its own scales; the router in "
                       "f32) and the same ladder in the suite's training precision as the control, the same seeds at "
                       "every rung, E2's run length. A rung is an FP8 failure only where its control is stable.\n\n");
        rp_md_e2_rung_header(c);
        rp_md_e2_rung_rows(c, "powlu", "delayed", 1024, &e->e2_powlu);
        rp_md_e2_rung_rows(c, "swiglu", "delayed", 1024, &e->e2_swiglu);
        rp_puts(c->md, "\n");
        rp_md_e2_limit_header(c);
        rp_md_e2_limit_row(c, "powlu", "delayed", 1024, &e->e2_powlu);
        rp_md_e2_limit_row(c, "swiglu", "delayed", 1024, &e->e2_swiglu);
        rp_printf(c->md, "\nPowLU against SwiGLU by E2's rule: %s (%s).\n\n", rp_verdict_name(e->e2_v), e->e2_why);
    }
    if (e->n_lowp)
        rp_printf(c->md, "This sweep has %d other low-precision E6 run(s): listed in section 1, not judged.\n\n", e->n_lowp);
}

void rp_md_e6(rp_ctx *c) {
    const rp_e6 *e = &c->a->e6;
    if (!e->n_runs) return;
    rp_puts(c->md, "## 10. E6: the claims with an MoE FFN (routed and shared experts)\n\n");
    intro(c, e);
    val_table(c, e);
    e3_part(c, e);
    e1_part(c, e);
    e2_part(c, e);
    rp_printf(c->md, "What this can show: whether the dense results (sections 4 and 6) carry over to routed experts "
                     "that each see about %ld/%ld of the tokens, chosen by a router that learns as they do, at the same "
                     "active width and learning rates. What "
                     "it cannot: the papers' MoE scale (PolyCom 1B active of 7B, 64 experts top-8; PowLU 26M–368M "
                     "activated), where experts are far more numerous and specialised; nor whether a different learning "
                   "rate would suit an activation better in MoE than dense (the rates are the dense ones).\n\n",
              e->top_k, e->experts);
}
