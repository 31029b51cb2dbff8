// report_analyze.c — see report_analyze.h.
#include "report/report_analyze.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rp_pick_main(const rp_run *r, const void *ctx) {
    const rp_analysis *a = ctx;
    return a->e3_tagged ? rp_in_exp(r, 3) : r->finished && rp_is_fp32(r);
}
int rp_pick_e1(const rp_run *r, const void *unused) { return (void)unused, rp_in_exp(r, 1) && rp_is_fp32(r); }
int rp_pick_e2(const rp_run *r, const void *unused) { return (void)unused, rp_in_exp(r, 2); }

int rp_run_stable(const rp_run *r) {
    return r->finished && !strcmp(r->status, "done") && r->diverged_step < 0 && r->n_spikes == 0;
}

static void analyze_val(const rp_sweep *s, rp_analysis *a) {
    for (size_t i = 0; i < s->n && !a->e3_tagged; i++) a->e3_tagged = rp_in_exp(&s->runs[i], 3);
    char acts[RP_MAX_ACTS][32];
    a->n_val = rp_acts(s, rp_pick_main, a, acts, RP_MAX_ACTS);
    double *v = malloc((s->n + 1) * sizeof(double));
    for (int k = 0; k < a->n_val; k++) {
        size_t n = 0;
        for (size_t i = 0; i < s->n; i++)
            if (rp_pick_main(&s->runs[i], a) && !strcmp(s->runs[i].act, acts[k])) v[n++] = s->runs[i].final_val;
        memcpy(a->val[k].act, acts[k], 32);
        a->val[k].val = rp_stat_of(v, n);
    }
    free(v);
}

// Mean over one run's telemetry steps in the second half of its schedule.
static void late_means(const rp_run *r, double out[RP_NT][2], double *grad) {
    long total = r->steps_planned > 0 ? r->steps_planned : r->steps_done;
    double sum[RP_NT][2] = {{0}}, gsum = 0;
    int cnt[RP_NT] = {0}, gcnt = 0;
    for (size_t i = 0; i < r->n_tele; i++) {
        const rp_tele *t = &r->tele[i];
        if (2 * t->step <= total) continue;
        double g = NAN;
        for (int k = 0; k < RP_NT; k++) {
            if (!t->has[k] || !isfinite(t->b[k].amax)) continue;
            double q = fmax(fabs(t->b[k].p1), fabs(t->b[k].p99));
            sum[k][0] += t->b[k].amax, sum[k][1] += q, cnt[k]++;
            if (k != RP_ACT_OUT) g = fmax(g, t->b[k].amax);
        }
        if (isfinite(g)) gsum += g, gcnt++;
    }
    for (int k = 0; k < RP_NT; k++)
        out[k][0] = cnt[k] ? sum[k][0] / cnt[k] : NAN, out[k][1] = cnt[k] ? sum[k][1] / cnt[k] : NAN;
    *grad = gcnt ? gsum / gcnt : NAN;
}

static void analyze_e1(const rp_sweep *s, rp_analysis *a) {
    char acts[RP_MAX_ACTS][32];
    a->n_e1 = rp_acts(s, rp_pick_e1, NULL, acts, RP_MAX_ACTS);
    for (int k = 0; k < a->n_e1; k++) {
        rp_e1act *e = &a->e1[k];
        memset(e, 0, sizeof *e);
        memcpy(e->act, acts[k], 32);
        double sum[RP_NT][2] = {{0}}, gsum = 0;
        int cnt[RP_NT][2] = {{0}}, gcnt = 0;
        for (size_t i = 0; i < s->n; i++) {
            const rp_run *r = &s->runs[i];
            if (!rp_pick_e1(r, NULL) || strcmp(r->act, acts[k])) continue;
            double m[RP_NT][2], g;
            late_means(r, m, &g);
            e->n_runs++;
            for (int t = 0; t < RP_NT; t++)
                for (int q = 0; q < 2; q++)
                    if (isfinite(m[t][q])) sum[t][q] += m[t][q], cnt[t][q]++;
            if (isfinite(g)) gsum += g, gcnt++;
        }
        for (int t = 0; t < RP_NT; t++)
            for (int q = 0; q < 2; q++) e->late[t][q] = cnt[t][q] ? sum[t][q] / cnt[t][q] : NAN;
        e->late_grad = gcnt ? gsum / gcnt : NAN;
    }
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void analyze_e2(const rp_sweep *s, rp_analysis *a) {
    a->n_e2 = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_pick_e2(r, NULL)) continue;
        rp_e2group *g = NULL;
        for (int k = 0; k < a->n_e2 && !g; k++)
            if (!strcmp(a->e2[k].act, r->act) && !strcmp(a->e2[k].recipe, r->recipe)) g = &a->e2[k];
        if (!g) {
            if (a->n_e2 == RP_MAX_GROUPS) continue;
            g = &a->e2[a->n_e2++];
            memset(g, 0, sizeof *g);
            snprintf(g->act, 32, "%s", r->act);
            snprintf(g->recipe, sizeof g->recipe, "%s", r->recipe);
        }
        int j = 0;
        while (j < g->lad.n && g->lad.lr[j] != r->lr) j++;
        if (j == g->lad.n) {
            if (g->lad.n == 32) continue;
            g->lad.lr[j] = r->lr, g->lad.stable[j] = 1, g->lad.n++;
        }
        g->lad.stable[j] &= rp_run_stable(r);
    }
    // lr ascending: stable flags travel with their lr.
    for (int k = 0; k < a->n_e2; k++) {
        rp_ladder *l = &a->e2[k].lad, c = *l;
        qsort(l->lr, (size_t)l->n, sizeof(double), cmp_double);
        for (int i = 0; i < l->n; i++)
            for (int j = 0; j < c.n; j++)
                if (c.lr[j] == l->lr[i]) l->stable[i] = c.stable[j];
    }
}

static void analyze_e4(const rp_sweep *s, rp_analysis *a) {
    double ms[RP_MAX_POINTS];
    int n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_in_exp(r, 4) || !isfinite(r->m)) continue;
        int seen = 0;
        for (int k = 0; k < n; k++) seen |= ms[k] == r->m;
        if (!seen && n < RP_MAX_POINTS) ms[n++] = r->m;
    }
    qsort(ms, (size_t)n, sizeof(double), cmp_double);
    double *v = malloc((s->n + 1) * sizeof(double));
    for (int k = 0; k < n; k++) {
        size_t c = 0;
        for (size_t i = 0; i < s->n; i++)
            if (rp_in_exp(&s->runs[i], 4) && s->runs[i].m == ms[k]) v[c++] = s->runs[i].final_val;
        a->e4[k].m = ms[k];
        a->e4[k].val = rp_stat_of(v, c);
    }
    a->n_e4 = n;
    free(v);
}

static int pick_e5(const rp_run *r, const void *unused) {
    return (void)unused, rp_in_exp(r, 5) && r->n_params_nonembed > 0 && isfinite(r->final_val);
}

static void analyze_e5(const rp_sweep *s, rp_analysis *a) {
    char acts[RP_MAX_ACTS][32];
    a->n_e5 = rp_acts(s, pick_e5, NULL, acts, RP_MAX_ACTS);
    for (int k = 0; k < a->n_e5; k++) {
        rp_e5act *e = &a->e5[k];
        memset(e, 0, sizeof *e);
        memcpy(e->act, acts[k], 32);
        double sum[RP_MAX_POINTS] = {0};
        for (size_t i = 0; i < s->n; i++) {
            const rp_run *r = &s->runs[i];
            if (!pick_e5(r, NULL) || strcmp(r->act, acts[k])) continue;
            double N = (double)r->n_params_nonembed;
            int j = 0;
            while (j < e->n && e->N[j] != N) j++;
            if (j == e->n) {
                if (e->n == RP_MAX_POINTS) continue;
                e->N[e->n++] = N;
            }
            sum[j] += r->final_val, e->seeds[j]++;
        }
        for (int j = 0; j < e->n; j++) e->L[j] = sum[j] / e->seeds[j];
        // sizes ascending (insertion sort keeps L and seeds with their N)
        for (int i = 1; i < e->n; i++)
            for (int j = i; j > 0 && e->N[j - 1] > e->N[j]; j--) {
                double tN = e->N[j], tL = e->L[j];
                int ts = e->seeds[j];
                e->N[j] = e->N[j - 1], e->L[j] = e->L[j - 1], e->seeds[j] = e->seeds[j - 1];
                e->N[j - 1] = tN, e->L[j - 1] = tL, e->seeds[j - 1] = ts;
            }
        if (e->n >= RP_E5_MIN_SIZES) rp_fit_power(e->N, e->L, e->n, &e->fit);
        else memset(&e->fit, 0, sizeof e->fit);
    }
}

void rp_analyze(const rp_sweep *s, rp_analysis *a) {
    memset(a, 0, sizeof *a);
    analyze_val(s, a);
    analyze_e1(s, a);
    analyze_e2(s, a);
    analyze_e4(s, a);
    analyze_e5(s, a);
}

const rp_actval *rp_find_val(const rp_analysis *a, const char *act) {
    for (int k = 0; k < a->n_val; k++)
        if (!strcmp(a->val[k].act, act)) return &a->val[k];
    return NULL;
}

const rp_e1act *rp_find_e1(const rp_analysis *a, const char *act) {
    for (int k = 0; k < a->n_e1; k++)
        if (!strcmp(a->e1[k].act, act)) return &a->e1[k];
    return NULL;
}

const rp_e5act *rp_find_e5(const rp_analysis *a, const char *act) {
    for (int k = 0; k < a->n_e5; k++)
        if (!strcmp(a->e5[k].act, act)) return &a->e5[k];
    return NULL;
}

static const rp_e2group *find_e2(const rp_analysis *a, const char *act, const char *recipe) {
    for (int k = 0; k < a->n_e2; k++)
        if (!strcmp(a->e2[k].act, act) && !strcmp(a->e2[k].recipe, recipe)) return &a->e2[k];
    return NULL;
}

int rp_e2_pair(const rp_analysis *a, const rp_e2group **powlu, const rp_e2group **swiglu) {
    *powlu = find_e2(a, "powlu", "delayed"), *swiglu = find_e2(a, "swiglu", "delayed");
    for (int k = 0; k < a->n_e2 && !(*powlu && *swiglu); k++) {
        *powlu = find_e2(a, "powlu", a->e2[k].recipe), *swiglu = find_e2(a, "swiglu", a->e2[k].recipe);
    }
    return *powlu && *swiglu;
}

double rp_e5_gap(const rp_e5act *p, const rp_e5act *s, double *n_lo, double *n_hi) {
    *n_lo = *n_hi = NAN;
    if (!p || !s || !p->fit.ok || !s->fit.ok || p->fit.edge || s->fit.edge) return NAN;
    double lo = fmax(p->N[0], s->N[0]), hi = fmin(p->N[p->n - 1], s->N[s->n - 1]);
    if (!(hi >= lo)) return NAN;
    *n_lo = lo, *n_hi = hi;
    double gap = 0;
    for (int i = 0; i <= 200; i++) {
        double N = lo * pow(hi / lo, i / 200.0), ls = rp_fit_eval(&s->fit, N);
        gap = fmax(gap, fabs(rp_fit_eval(&p->fit, N) - ls) / ls);
    }
    return gap;
}
