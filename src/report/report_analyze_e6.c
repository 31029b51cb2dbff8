// report_analyze_e6.c — E6 (issue 11): the papers' claims E1, E2 and E3 again with an MoE FFN
// (routed experts plus a shared expert), judged with the dense claims' own code: E3's paired
// differences of the final validation loss (rp_pair_val), E1's band-width ratios (rp_e1_act,
// rp_e1_ratio) on the experts' down-projection inputs, and E2's ladder rule (rp_ladder_add,
// rp_verdict_e2) on the runs tagged E6.E2.*. n_lowp counts other low-precision E6 runs, listed but
// not judged.
#include "report/report_analyze.h"
#include "report/report_paper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The PowLU/SwiGLU quantities E6-E1 judges, in rp_e6.e1_powlu's order.
static const int E6_Q[2] = {RP_Q_MOE, RP_Q_MOE_SHARED};
#define E6_BOOT_SEED (RP_BOOT_SEED + 48)   // apart from E1's bootstrap streams (+0, +16, +32)

int rp_pick_e6(const rp_run *r, const void *unused) {
    return (void)unused, rp_in_exp(r, 6) && !rp_is_fp8(r) && !rp_is_4bit(r) && !(r->exps & (RP_EXP_TUNE | RP_EXP_E6_E2));
}

static int pick_e6_act(const rp_run *r, const char *act, double m) {
    return (void)m, rp_pick_e6(r, NULL) && !strcmp(r->act, act);
}

const rp_actval *rp_find_e6_val(const rp_e6 *e, const char *act) { return rp_find_actval(e->val, e->n_val, act); }

static const rp_e1act *find_e1(const rp_e6 *e, const char *act) {
    for (int k = 0; k < e->n_e1; k++)
        if (!strcmp(e->e1[k].act, act)) return &e->e1[k];
    return NULL;
}

// The runs tagged E6, the low-precision ones among them, and the MoE shape of the first.
static void count_runs(const rp_sweep *s, rp_e6 *e) {
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_in_exp(r, 6)) continue;
        if (!e->n_runs++) e->experts = r->moe_experts, e->top_k = r->moe_top_k, e->shared = r->moe_shared;
        e->n_lowp += !rp_pick_e6(r, NULL) && !(r->exps & RP_EXP_E6_E2);
    }
}

// E6-E3. PolyNorm: PolyCom's MoE claim (it beats SwiGLU), E3's interval rule. PowLU: the PowLU
// paper's MoE ablation has it level with SwiGLU (+0.002 at m = 3), a claim of equivalence, so it is
// judged as E4 judges m: TOST against ±RP_E4_MARGIN.
static void analyze_e3(const rp_sweep *s, rp_e6 *e) {
    e->has_polynorm = rp_find_e6_val(e, "polynorm") && rp_find_e6_val(e, "swiglu");
    e->has_powlu = rp_find_e6_val(e, "powlu") && rp_find_e6_val(e, "swiglu");
    if (e->has_polynorm)
        e->polynorm = rp_pair_val(s, pick_e6_act, "polynorm", "swiglu", rp_paper_polycom_moe_train_diff("polynorm"));
    if (!e->has_powlu) return;
    e->powlu = rp_pair_val(s, pick_e6_act, "powlu", "swiglu", rp_paper_powlu_m_loss(3) - rp_paper_powlu_m_swiglu());
    e->powlu_tost = rp_tost_of(&e->powlu.c, RP_E4_MARGIN, RP_TOST_ALPHA);
    e->powlu.v = rp_verdict_e4(e->powlu_tost.ok, e->powlu_tost.lo, e->powlu_tost.hi);
}

// E6-E1: E1's rule on each logged part (the paper's band ratio is that of its expert FFNs).
static void analyze_e1(const rp_sweep *s, int n_boot, rp_e6 *e) {
    char acts[RP_E6_MAX_ACTS][32];
    e->n_e1 = rp_acts(s, rp_pick_e6, NULL, acts, RP_E6_MAX_ACTS);
    for (int k = 0; k < e->n_e1; k++) rp_e1_act(s, acts[k], rp_pick_e6, NULL, &e->e1[k]);
    const rp_e1act *pw = find_e1(e, "powlu"), *sw = find_e1(e, "swiglu");
    e->e1_has_powlu = pw && sw;
    e->e1_v = RP_INCONCLUSIVE;
    if (!e->e1_has_powlu) return;
    rp_verdict parts[2];
    int n = 0;
    for (int j = 0; j < 2; j++) {
        rp_e1ratio *r = &e->e1_powlu[j];
        *r = rp_e1_ratio(pw, sw, E6_Q[j], n_boot, E6_BOOT_SEED + (uint64_t)j);
        r->v = rp_verdict_e1(r->logc.ok, r->lo, r->hi, RP_E1_PAPER_ACT);
        if (r->n_pairs) parts[n++] = r->v;   // a part never logged (no shared expert) is not a claim
    }
    e->e1_v = rp_verdict_all(parts, n);
}

// E6-E2: PowLU's and SwiGLU's FP8 ladders with their controls (any non-FP8 ladder run of the same
// activation), judged by E2's rule.
static void analyze_e2(const rp_sweep *s, rp_e6 *e) {
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_in_exp(r, 6) || !(r->exps & RP_EXP_E6_E2)) continue;
        rp_ladder *l = !strcmp(r->act, "powlu") ? &e->e2_powlu : !strcmp(r->act, "swiglu") ? &e->e2_swiglu : NULL;
        if (!l) continue;
        e->n_e2_runs++;
        rp_ladder_add(l, r, !rp_is_fp8(r));
    }
    qsort(e->e2_powlu.r, (size_t)e->e2_powlu.n, sizeof(rp_rung), rp_rung_by_lr);
    qsort(e->e2_swiglu.r, (size_t)e->e2_swiglu.n, sizeof(rp_rung), rp_rung_by_lr);
    e->e2_v = rp_verdict_e2(&e->e2_powlu, &e->e2_swiglu, &e->e2_why);
}

void rp_analyze_e6(const rp_sweep *s, int n_boot, rp_e6 *out) {
    memset(out, 0, sizeof *out);
    count_runs(s, out);
    out->n_val = rp_val_by_act(s, rp_pick_e6, NULL, out->val, RP_E6_MAX_ACTS);
    analyze_e3(s, out);
    analyze_e1(s, n_boot, out);
    analyze_e2(s, out);
}
