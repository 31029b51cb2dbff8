// report_analyze_e345.c — E3 (learning-rate tuning, paired differences with t intervals and the
// minimum detectable effect), E4 (TOST of m = 2, 4 against m = 3), E5 (sizes, seeds, the fits and
// the bootstrap of their gap).
#include "report/report_analyze.h"
#include "report/report_paper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const E3_POLY[] = {"polynorm", "polyrelu"};
static const char *const E3_BASE[] = {"swiglu", "gelu", "relu"};
#define E3_MAX_SEEDS_NEEDED 1000   // beyond this the "seeds needed" is printed as "> 1000"

// ---- E3: tuning ----

static rp_tune *tune_of(rp_analysis *a, const char *act) {
    for (int k = 0; k < a->n_tune; k++)
        if (!strcmp(a->tune[k].act, act)) return &a->tune[k];
    if (a->n_tune == RP_MAX_ACTS) return NULL;
    rp_tune *t = &a->tune[a->n_tune++];
    memset(t, 0, sizeof *t);
    snprintf(t->act, sizeof t->act, "%s", act);
    return t;
}

static void analyze_tune(const rp_sweep *s, rp_analysis *a) {
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_is_tune(r)) continue;
        rp_tune *t = tune_of(a, r->act);
        int j = 0;
        while (t && j < t->n && t->lr[j] != r->lr) j++;
        if (!t || j == RP_MAX_LRS) continue;
        if (j == t->n) t->lr[t->n] = r->lr, t->val[t->n++] = r->final_val;   // one seed per lr (the contract)
    }
    for (int k = 0; k < a->n_tune; k++) {
        rp_tune *t = &a->tune[k];
        for (int i = 1; i < t->n; i++)   // lr ascending, val travels with it
            for (int j = i; j > 0 && t->lr[j - 1] > t->lr[j]; j--) {
                double l = t->lr[j], v = t->val[j];
                t->lr[j] = t->lr[j - 1], t->val[j] = t->val[j - 1], t->lr[j - 1] = l, t->val[j - 1] = v;
            }
        t->best = -1;
        for (int i = 0; i < t->n; i++)
            if (isfinite(t->val[i]) && (t->best < 0 || t->val[i] < t->val[t->best])) t->best = i;
        // The optimum may lie outside the grid when the best lr is an end of it.
        t->edge = t->best == 0 || t->best == t->n - 1;
    }
}

// ---- E3, E4: pairing by seed ----

// The final val loss of the first run picked for each seed, aligned with seeds[] (NAN: none).
static void by_seed(const rp_sweep *s, rp_seed_pick pick, const char *act, double m, const long *seeds, int n, double *out) {
    for (int k = 0; k < n; k++) {
        out[k] = NAN;
        for (size_t i = 0; i < s->n && isnan(out[k]); i++)
            if (pick(&s->runs[i], act, m) && s->runs[i].seed == seeds[k]) out[k] = s->runs[i].final_val;
    }
}

// The distinct seeds of the picked runs, ascending. Returns the count.
static int seeds_of(const rp_sweep *s, rp_seed_pick pick, const char *act, double m, long *seeds) {
    int n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!pick(r, act, m)) continue;
        int j = 0;
        while (j < n && seeds[j] != r->seed) j++;
        if (j == n && n < RP_MAX_SEEDS) seeds[n++] = r->seed;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && seeds[j - 1] > seeds[j]; j--) {
            long t = seeds[j];
            seeds[j] = seeds[j - 1], seeds[j - 1] = t;
        }
    return n;
}

static int pick_e3(const rp_run *r, const char *act, double m) {
    return (void)m, rp_in_exp(r, 3) && !(r->exps & RP_EXP_TUNE) && !strcmp(r->act, act);
}

// Seeds a paired design needs for the difference `effect` to be its minimum detectable effect, at the
// observed sd of the differences: the smallest n with MDE(sd/√n, n−1) <= |effect|.
static int seeds_needed(double sd, double effect) {
    if (!isfinite(sd) || !isfinite(effect) || effect == 0) return 0;
    for (int n = 2; n <= E3_MAX_SEEDS_NEEDED; n++)
        if (rp_mde(sd / sqrt(n), n - 1, RP_ALPHA, RP_POWER) <= fabs(effect)) return n;
    return -1;
}

rp_e3pair rp_pair_val(const rp_sweep *s, rp_seed_pick pick, const char *x_act, const char *base, double paper) {
    long seeds[RP_MAX_SEEDS] = {0};
    int n = seeds_of(s, pick, x_act, NAN, seeds);
    double x[RP_MAX_SEEDS], y[RP_MAX_SEEDS];
    by_seed(s, pick, x_act, NAN, seeds, n, x);
    by_seed(s, pick, base, NAN, seeds, n, y);
    rp_e3pair p = {.poly = x_act, .base = base};
    p.n_pairs = rp_count_pairs(x, y, (size_t)n);
    p.c = rp_cmp_paired(x, y, (size_t)n, RP_LEVEL);
    p.mde = p.c.ok ? rp_mde(p.c.se, p.c.df, RP_ALPHA, RP_POWER) : NAN;
    p.paper = paper;
    p.seeds_needed = p.c.ok ? seeds_needed(p.c.sd, p.paper) : 0;
    p.v = rp_verdict_e3(p.c.ok, p.c.lo, p.c.hi, p.paper);
    return p;
}

static rp_e3pair e3_pair(const rp_sweep *s, const char *poly, const char *base) {
    return rp_pair_val(s, pick_e3, poly, base, rp_paper_polycom_train(poly) - rp_paper_polycom_train(base));
}

static int has_act(const rp_sweep *s, const char *act) {
    for (size_t i = 0; i < s->n; i++)
        if (pick_e3(&s->runs[i], act, NAN)) return 1;
    return 0;
}

void rp_analyze_e3(const rp_sweep *s, rp_analysis *a) {
    analyze_tune(s, a);
    rp_verdict v[6];
    for (int p = 0; p < 2; p++)
        for (int b = 0; b < 3; b++) {
            if (!has_act(s, E3_POLY[p]) || !has_act(s, E3_BASE[b])) continue;
            a->e3[a->n_e3] = e3_pair(s, E3_POLY[p], E3_BASE[b]);
            v[a->n_e3] = a->e3[a->n_e3].v;
            a->n_e3++;
        }
    a->e3_v = rp_verdict_all(v, a->n_e3);
    a->gelu_relu = e3_pair(s, "gelu", "relu");
}

// ---- E4 ----

// m = 3 comes from E3's PowLU runs (or E4's, when a sweep ran it there); other m from E4.
static int pick_e4(const rp_run *r, const char *act, double m) {
    int tagged = rp_in_exp(r, 4) || (m == RP_E4_REF_M && rp_in_exp(r, 3));
    return (void)act, tagged && !(r->exps & RP_EXP_TUNE) && !strcmp(r->act, "powlu") && !rp_is_fp8(r) && r->m == m;
}

void rp_analyze_e4(const rp_sweep *s, rp_analysis *a) {
    double ms[RP_MAX_POINTS];
    int n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_in_exp(r, 4) || !isfinite(r->m)) continue;
        int seen = 0;
        for (int k = 0; k < n; k++) seen |= ms[k] == r->m;
        if (!seen && n < RP_MAX_POINTS - 1) ms[n++] = r->m;
    }
    int has_ref = 0;
    for (int k = 0; k < n; k++) has_ref |= ms[k] == RP_E4_REF_M;
    if (n && !has_ref) ms[n++] = RP_E4_REF_M;
    qsort(ms, (size_t)n, sizeof(double), rp_cmp_double);
    long seeds[RP_MAX_SEEDS] = {0};
    int ns = seeds_of(s, pick_e4, NULL, RP_E4_REF_M, seeds);
    double ref[RP_MAX_SEEDS], x[RP_MAX_SEEDS];
    by_seed(s, pick_e4, NULL, RP_E4_REF_M, seeds, ns, ref);
    rp_verdict v[RP_MAX_POINTS];
    int nv = 0;
    for (int k = 0; k < n; k++) {
        rp_e4m *e = &a->e4[k];
        long sm[RP_MAX_SEEDS];
        int nm = seeds_of(s, pick_e4, NULL, ms[k], sm);
        by_seed(s, pick_e4, NULL, ms[k], sm, nm, x);
        e->m = ms[k];
        e->val = rp_stat_of(x, (size_t)nm);
        by_seed(s, pick_e4, NULL, ms[k], seeds, ns, x);   // aligned with the m = 3 seeds
        e->n_pairs = rp_count_pairs(x, ref, (size_t)ns);
        e->c = rp_cmp_paired(x, ref, (size_t)ns, RP_LEVEL);
        e->t = rp_tost_of(&e->c, RP_E4_MARGIN, RP_TOST_ALPHA);
        e->v = rp_verdict_e4(e->t.ok, e->t.lo, e->t.hi);
        if (ms[k] != RP_E4_REF_M) v[nv++] = e->v;
    }
    a->n_e4 = n;
    a->e4_v = rp_verdict_all(v, nv);
}

// ---- E5 ----

static int pick_e5(const rp_run *r, const void *unused) {
    return (void)unused, rp_in_exp(r, 5) && r->n_params_nonembed > 0 && isfinite(r->final_val);
}

static int size_index(rp_e5act *e, double N) {
    int j = 0;
    while (j < e->n && e->N[j] != N) j++;
    if (j == e->n) {
        if (e->n == RP_MAX_POINTS) return -1;
        e->N[e->n++] = N;
    }
    return j;
}

static void swap_sizes(rp_e5act *e, int i, int j) {
    rp_e5act t;
    t.N[0] = e->N[i], t.L[0] = e->L[i], t.sd[0] = e->sd[i], t.tokens[0] = e->tokens[i], t.seeds[0] = e->seeds[i];
    memcpy(t.loss[0], e->loss[i], sizeof t.loss[0]);
    e->N[i] = e->N[j], e->L[i] = e->L[j], e->sd[i] = e->sd[j], e->tokens[i] = e->tokens[j], e->seeds[i] = e->seeds[j];
    memcpy(e->loss[i], e->loss[j], sizeof t.loss[0]);
    e->N[j] = t.N[0], e->L[j] = t.L[0], e->sd[j] = t.sd[0], e->tokens[j] = t.tokens[0], e->seeds[j] = t.seeds[0];
    memcpy(e->loss[j], t.loss[0], sizeof t.loss[0]);
}

static void e5_act(const rp_sweep *s, const char *act, rp_e5act *e) {
    memset(e, 0, sizeof *e);
    snprintf(e->act, sizeof e->act, "%.31s", act);
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!pick_e5(r, NULL) || strcmp(r->act, act)) continue;
        int j = size_index(e, (double)r->n_params_nonembed);
        if (j < 0 || e->seeds[j] == RP_MAX_SEEDS) continue;
        e->loss[j][e->seeds[j]++] = r->final_val;
        double steps = r->steps_planned > 0 ? (double)r->steps_planned : (double)r->steps_done;
        e->tokens[j] = steps * (double)r->batch * (double)r->seq * (double)r->grad_accum;
    }
    for (int j = 0; j < e->n; j++) {
        rp_stat st = rp_stat_of(e->loss[j], (size_t)e->seeds[j]);
        e->L[j] = st.mean, e->sd[j] = st.sd;
    }
    for (int i = 1; i < e->n; i++)
        for (int j = i; j > 0 && e->N[j - 1] > e->N[j]; j--) swap_sizes(e, j - 1, j);
    if (e->n >= RP_E5_FIT_SIZES) rp_fit_power(e->N, e->L, e->n, &e->fit);
}

static int design_ok(const rp_e5act *e) {
    int ok = e && e->n >= RP_E5_MIN_SIZES;
    for (int j = 0; ok && j < e->n; j++) ok = e->seeds[j] >= RP_E5_MIN_SEEDS;
    return ok;
}

static rp_scaling scaling_of(const rp_e5act *e, const double **rows) {
    for (int j = 0; j < e->n; j++) rows[j] = e->loss[j];
    return (rp_scaling){e->n, e->N, e->seeds, rows};
}

void rp_analyze_e5(const rp_sweep *s, rp_analysis *a) {
    char acts[RP_MAX_ACTS][32];
    a->n_e5 = rp_acts(s, pick_e5, NULL, acts, RP_MAX_ACTS);
    for (int k = 0; k < a->n_e5; k++) e5_act(s, acts[k], &a->e5[k]);
    const rp_e5act *p = rp_find_e5(a, "powlu"), *w = rp_find_e5(a, "swiglu");
    a->e5_design_ok = design_ok(p) && design_ok(w);
    a->e5_v = RP_INCONCLUSIVE;
    // Without the design the verdict is inconclusive anyway; a bootstrap of 1 seed per size, or of fewer
    // sizes, would only print an interval that looks firmer than it is.
    if (!a->e5_design_ok) return;
    const double *rp_[RP_MAX_POINTS], *rw[RP_MAX_POINTS];
    rp_scaling sp = scaling_of(p, rp_), sw = scaling_of(w, rw);
    a->e5_boot_ok = rp_fit_bootstrap(&sp, &sw, RP_LEVEL, a->n_boot, RP_E5_BOOT_SEED, &a->e5_boot);
    const rp_boot_ci *g = &a->e5_boot.gap;
    a->e5_v = rp_verdict_e5(a->e5_design_ok, a->e5_boot_ok && g->ok, g->lo, g->hi);
}
