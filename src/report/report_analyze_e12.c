// report_analyze_e12.c — E1 (outlier band widths per seed, PowLU/SwiGLU ratios, the gate's z range)
// and E2 (the FP8 ladders with their fp32/bf16 controls).
#include "report/report_analyze.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const RP_Q_NAMES[RP_NQ_ALL] = {"down-projection input", "gradient at the up/gate outputs",
                                           "up/gate weight gradient", "routed experts' down-projection input",
                                           "shared experts' down-projection input"};

// The tensors whose band widths make up each quantity (max over them per telemetry step).
static const int Q_TENSORS[RP_NQ_ALL][2] = {{RP_ACT_OUT, RP_ACT_OUT},       {RP_GRAD_UP, RP_GRAD_GATE},
                                            {RP_WGRAD_UP, RP_WGRAD_GATE},   {RP_MOE_OUT, RP_MOE_OUT},
                                            {RP_MOE_SHARED_OUT, RP_MOE_SHARED_OUT}};

static double band_stat(const rp_band *b, int st) {
    return st == RP_ST_WIDTH ? b->width : st == RP_ST_CREST ? b->crest : st == RP_ST_KURT ? b->kurt : b->amax;
}

static int late_step(const rp_run *r, long step) {
    long total = r->steps_planned > 0 ? r->steps_planned : r->steps_done;
    return step > RP_E1_LATE * (double)total;
}

// Means over the run's late telemetry steps of every statistic and quantity (NAN: never logged).
static void late_means(const rp_run *r, rp_e1run *out) {
    double sum[RP_NT][RP_NST] = {{0}}, qsum[RP_NQ_ALL] = {0};
    int cnt[RP_NT][RP_NST] = {{0}}, qcnt[RP_NQ_ALL] = {0};
    for (size_t i = 0; i < r->n_tele; i++) {
        const rp_tele *t = &r->tele[i];
        if (!late_step(r, t->step)) continue;
        for (int k = 0; k < RP_NT; k++)
            for (int st = 0; st < RP_NST && t->has[k]; st++) {
                double v = band_stat(&t->b[k], st);
                if (isfinite(v)) sum[k][st] += v, cnt[k][st]++;
            }
        for (int q = 0; q < RP_NQ_ALL; q++) {
            double w = NAN;
            for (int j = 0; j < 2; j++)
                if (t->has[Q_TENSORS[q][j]]) w = fmax(w, t->b[Q_TENSORS[q][j]].width);
            if (isfinite(w)) qsum[q] += w, qcnt[q]++;
        }
    }
    for (int k = 0; k < RP_NT; k++)
        for (int st = 0; st < RP_NST; st++) out->st[k][st] = cnt[k][st] ? sum[k][st] / cnt[k][st] : NAN;
    for (int q = 0; q < RP_NQ_ALL; q++) out->q[q] = qcnt[q] ? qsum[q] / qcnt[q] : NAN;
}

void rp_zsum_add(rp_zsum *z, const rp_run *r) {
    int any = 0;
    for (size_t i = 0; i < r->n_tele; i++) {
        const rp_tele *t = &r->tele[i];
        if (!t->has_z) continue;
        if (!any && !z->runs++) z->p999 = z->max = z->gt4 = z->gt_peak = NAN;
        any = 1;
        z->steps++;
        z->steps_knee += t->z.max > RP_Z_KNEE;
        z->steps_peak += t->z.max > RP_Z_PEAK;
        z->p999 = fmax(z->p999, t->z.p999), z->max = fmax(z->max, t->z.max);
        z->gt4 = fmax(z->gt4, t->z.gt4), z->gt_peak = fmax(z->gt_peak, t->z.gt_peak);
    }
}

static const rp_e1run *seed_run(const rp_e1act *e, long seed) {
    for (int i = 0; i < e->n; i++)
        if (e->run[i].seed == seed) return &e->run[i];
    return NULL;
}

rp_e1ratio rp_e1_ratio(const rp_e1act *x, const rp_e1act *sw, int q, int n_boot, uint64_t seed) {
    double lx[RP_MAX_SEEDS] = {0}, ls[RP_MAX_SEEDS] = {0}, vx[RP_MAX_SEEDS], vs[RP_MAX_SEEDS];
    size_t n = 0;
    for (int i = 0; i < x->n; i++) {
        const rp_e1run *s = seed_run(sw, x->run[i].seed);
        double a = x->run[i].q[q], b = s ? s->q[q] : NAN;
        if (!(a > 0) || !(b > 0)) continue;   // a ratio needs both widths positive
        vx[n] = a, vs[n] = b, lx[n] = log(a), ls[n++] = log(b);
    }
    rp_e1ratio r;
    r.n_pairs = (int)n;
    r.logc = rp_cmp_paired(lx, ls, n, RP_LEVEL);
    r.est = r.logc.ok ? exp(r.logc.diff) : n == 1 ? vx[0] / vs[0] : NAN;  // one pair: its ratio, no interval
    r.lo = r.logc.ok ? exp(r.logc.lo) : NAN, r.hi = r.logc.ok ? exp(r.logc.hi) : NAN;
    r.boot = rp_boot_ratio(vx, n, vs, n, 1, RP_LEVEL, n_boot, seed);
    r.v = RP_INCONCLUSIVE;
    return r;
}

void rp_e1_act(const rp_sweep *s, const char *act, rp_pick pick, const void *ctx, rp_e1act *e) {
    memset(e, 0, sizeof *e);
    snprintf(e->act, sizeof e->act, "%.31s", act);
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!pick(r, ctx) || strcmp(r->act, act)) continue;
        rp_zsum_add(&e->z, r);
        if (e->n == RP_MAX_SEEDS || seed_run(e, r->seed)) continue;   // one run per seed
        e->run[e->n].seed = r->seed;
        late_means(r, &e->run[e->n++]);
    }
}

void rp_analyze_e1(const rp_sweep *s, rp_analysis *a) {
    char acts[RP_MAX_ACTS][32];
    a->n_e1 = rp_acts(s, rp_pick_e1, NULL, acts, RP_MAX_ACTS);
    for (int k = 0; k < a->n_e1; k++) rp_e1_act(s, acts[k], rp_pick_e1, NULL, &a->e1[k]);
    const rp_e1act *sw = rp_find_e1(a, "swiglu"), *pw = rp_find_e1(a, "powlu"), *cl = rp_find_e1(a, "swiglu_clip");
    a->e1_has_powlu = sw && pw, a->e1_has_clip = sw && cl;
    for (int q = 0; q < RP_NQ; q++) {
        if (a->e1_has_powlu) a->e1_powlu[q] = rp_e1_ratio(pw, sw, q, a->n_boot, RP_BOOT_SEED + (uint64_t)q);
        if (a->e1_has_clip) a->e1_clip[q] = rp_e1_ratio(cl, sw, q, a->n_boot, RP_BOOT_SEED + 16 + (uint64_t)q);
    }
    // The verdict: the down-projection input and the gradient at the up/gate outputs (the tensor FP8
    // training quantises as E5M2 for both backward GEMMs); the weight gradient is shown beside it.
    rp_e1ratio *r = a->e1_powlu;
    r[RP_Q_ACT].v = rp_verdict_e1(r[RP_Q_ACT].logc.ok, r[RP_Q_ACT].lo, r[RP_Q_ACT].hi, RP_E1_PAPER_ACT);
    r[RP_Q_GRAD].v = rp_verdict_e1(r[RP_Q_GRAD].logc.ok, r[RP_Q_GRAD].lo, r[RP_Q_GRAD].hi, RP_E1_PAPER_GRAD);
    rp_verdict parts[2] = {r[RP_Q_ACT].v, r[RP_Q_GRAD].v};
    a->e1_v = a->e1_has_powlu ? rp_verdict_all(parts, 2) : RP_INCONCLUSIVE;
    rp_analyze_e1_stress(s, a);
}

// A stable bf16/fp32 control run of an E2 ladder at the lr *ctx.
static int pick_stress(const rp_run *r, const void *ctx) {
    double lr = *(const double *)ctx;
    return rp_in_exp(r, 2) && !rp_is_fp8(r) && rp_run_stable(r) && fabs(r->lr - lr) <= 1e-6 * lr;
}

void rp_analyze_e1_stress(const rp_sweep *s, rp_analysis *a) {
    double lrs[RP_MAX_LRS];
    int n = 0;
    for (size_t i = 0; i < s->n && n < RP_MAX_LRS; i++) {
        const rp_run *r = &s->runs[i];
        int seen = 0;
        for (int k = 0; k < n; k++) seen |= fabs(lrs[k] - r->lr) <= 1e-6 * r->lr;
        if (!seen && !strcmp(r->act, "powlu") && pick_stress(r, &r->lr)) lrs[n++] = r->lr;
    }
    qsort(lrs, (size_t)n, sizeof lrs[0], rp_cmp_double);
    a->n_e1_stress = 0;
    rp_e1act *pw = xmalloc(2 * sizeof *pw), *sw = pw + 1;  // large: not on the stack
    for (int k = 0; k < n; k++) {
        rp_e1_act(s, "powlu", pick_stress, &lrs[k], pw);
        rp_e1_act(s, "swiglu", pick_stress, &lrs[k], sw);
        if (!pw->n || !sw->n) continue;
        rp_e1stress *e = &a->e1_stress[a->n_e1_stress++];
        e->lr = lrs[k], e->z = pw->z;
        for (int q = 0; q < 2; q++) {
            rp_e1ratio *r = &e->q[q];
            *r = rp_e1_ratio(pw, sw, q, a->n_boot, RP_BOOT_SEED + 32 + (uint64_t)q);
            r->v = rp_verdict_e1(r->logc.ok, r->lo, r->hi, q == RP_Q_ACT ? RP_E1_PAPER_ACT : RP_E1_PAPER_GRAD);
        }
    }
    free(pw);
    // The rung the verdict line quotes: the most seed pairs, then the highest lr.
    a->e1_stress_best = -1;
    for (int k = 0; k < a->n_e1_stress; k++)
        if (a->e1_stress_best < 0 || a->e1_stress[k].q[0].n_pairs >= a->e1_stress[a->e1_stress_best].q[0].n_pairs)
            a->e1_stress_best = k;
}

// ---- E2 ----

rp_rung *rp_rung_at(rp_ladder *l, double lr) {
    for (int i = 0; i < l->n; i++)
        if (l->r[i].lr == lr) return &l->r[i];
    if (l->n == RP_E2_MAX_RUNGS) return NULL;
    rp_rung *r = &l->r[l->n++];
    memset(r, 0, sizeof *r);
    r->lr = lr;
    r->down_n = r->down_sat = r->down_ftz = NAN;
    return r;
}

static void add_fp8(rp_rung *g, const rp_run *r) {
    g->n++;
    g->unstable += !rp_run_stable(r);
    if (!r->has_down) return;
    if (isnan(g->down_n)) g->down_n = g->down_sat = g->down_ftz = 0;
    g->down_n += r->down_n, g->down_sat += r->down_sat, g->down_ftz += r->down_ftz;
}

void rp_ladder_add(rp_ladder *l, const rp_run *r, int control) {
    rp_rung *u = rp_rung_at(l, r->lr);
    if (!u) return;
    if (control) u->ctl_n++, u->ctl_unstable += !rp_run_stable(r);
    else add_fp8(u, r);
}

int rp_rung_by_lr(const void *x, const void *y) {
    const rp_rung *a = x, *b = y;
    return (a->lr > b->lr) - (a->lr < b->lr);
}

static rp_e2group *group_of(rp_analysis *a, const rp_run *r) {
    for (int k = 0; k < a->n_e2; k++) {
        rp_e2group *g = &a->e2[k];
        if (!strcmp(g->act, r->act) && !strcmp(g->recipe, r->recipe) && g->hist == r->amax_history) return g;
    }
    if (a->n_e2 == RP_MAX_GROUPS) return NULL;
    rp_e2group *g = &a->e2[a->n_e2++];
    memset(g, 0, sizeof *g);
    snprintf(g->act, sizeof g->act, "%s", r->act);
    snprintf(g->recipe, sizeof g->recipe, "%s", r->recipe);
    g->hist = r->amax_history;
    return g;
}

void rp_analyze_e2(const rp_sweep *s, rp_analysis *a) {
    // Treatment groups: the FP8 runs, per (act, recipe, amax history).
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_pick_e2(r, NULL) || strcmp(r->precision, "fp8")) continue;
        rp_e2group *g = group_of(a, r);
        if (g) rp_ladder_add(&g->lad, r, 0);
    }
    // Controls: every bf16/fp32 E2 run of the same activation and lr, in every recipe's ladder.
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_pick_e2(r, NULL) || !strcmp(r->precision, "fp8")) continue;
        for (int k = 0; k < a->n_e2; k++)
            if (!strcmp(a->e2[k].act, r->act)) rp_ladder_add(&a->e2[k].lad, r, 1);
    }
    for (int k = 0; k < a->n_e2; k++) qsort(a->e2[k].lad.r, (size_t)a->e2[k].lad.n, sizeof(rp_rung), rp_rung_by_lr);
}
