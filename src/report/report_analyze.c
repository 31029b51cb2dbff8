// report_analyze.c — see report_analyze.h: the run pickers, the validation-loss table and the
// look-ups; the claims' numbers are in report_analyze_e12.c and report_analyze_e345.c.
#include "report/report_analyze.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rp_pick_main(const rp_run *r, const void *ctx) {
    const rp_analysis *a = ctx;
    return a->e3_tagged ? rp_in_exp(r, 3) : r->finished && !rp_is_fp8(r) && !(r->exps & RP_EXP_TUNE);
}
int rp_pick_e1(const rp_run *r, const void *unused) { return (void)unused, rp_in_exp(r, 1) && !rp_is_fp8(r); }
int rp_pick_e2(const rp_run *r, const void *unused) { return (void)unused, rp_in_exp(r, 2); }

int rp_run_stable(const rp_run *r) {
    return r->finished && !strcmp(r->status, "done") && r->diverged_step < 0 && r->n_spikes == 0;
}

int rp_cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int rp_count_pairs(const double *x, const double *y, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++) k += isfinite(x[i]) && isfinite(y[i]);
    return k;
}

int rp_val_by_act(const rp_sweep *s, rp_pick pick, const void *ctx, rp_actval *out, int max) {
    char acts[RP_MAX_ACTS][32];
    int n_acts = rp_acts(s, pick, ctx, acts, max < RP_MAX_ACTS ? max : RP_MAX_ACTS);
    double *v = malloc((s->n + 1) * sizeof(double));
    for (int k = 0; k < n_acts; k++) {
        size_t n = 0;
        for (size_t i = 0; i < s->n; i++)
            if (pick(&s->runs[i], ctx) && !strcmp(s->runs[i].act, acts[k])) v[n++] = s->runs[i].final_val;
        memcpy(out[k].act, acts[k], 32);
        out[k].val = rp_stat_of(v, n);
    }
    free(v);
    return n_acts;
}

static void analyze_val(const rp_sweep *s, rp_analysis *a) {
    for (size_t i = 0; i < s->n && !a->e3_tagged; i++) a->e3_tagged = rp_in_exp(&s->runs[i], 3);
    a->n_val = rp_val_by_act(s, rp_pick_main, a, a->val, RP_MAX_ACTS);
}

void rp_analyze(const rp_sweep *s, rp_analysis *a) { rp_analyze_n(s, a, RP_BOOT_N); }

void rp_analyze_n(const rp_sweep *s, rp_analysis *a, int n_boot) {
    memset(a, 0, sizeof *a);
    a->n_boot = n_boot;
    analyze_val(s, a);
    rp_analyze_e1(s, a);
    rp_analyze_e2(s, a);
    rp_analyze_e3(s, a);
    rp_analyze_e4(s, a);
    rp_analyze_e5(s, a);
    rp_analyze_e6(s, a->n_boot, &a->e6);
}

const rp_actval *rp_find_actval(const rp_actval *v, int n, const char *act) {
    for (int k = 0; k < n; k++)
        if (!strcmp(v[k].act, act)) return &v[k];
    return NULL;
}

const rp_actval *rp_find_val(const rp_analysis *a, const char *act) { return rp_find_actval(a->val, a->n_val, act); }

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

const rp_e2group *rp_find_e2(const rp_analysis *a, const char *act, const char *recipe, long hist) {
    for (int k = 0; k < a->n_e2; k++)
        if (!strcmp(a->e2[k].act, act) && !strcmp(a->e2[k].recipe, recipe) && a->e2[k].hist == hist)
            return &a->e2[k];
    return NULL;
}

// The primary recipe: delayed scaling with a history other than the stress length (the longest).
static int primary_rank(const rp_e2group *g) {
    return !strcmp(g->recipe, "delayed") && g->hist != RP_E2_STRESS_HISTORY;
}

int rp_e2_recipes(const rp_analysis *a, const rp_e2group **out, int max) {
    int n = 0, best = -1;
    for (int k = 0; k < a->n_e2; k++) {
        const rp_e2group *g = &a->e2[k];
        if (strcmp(g->act, "powlu") || n == max) continue;
        if (best < 0 || primary_rank(g) > primary_rank(out[best]) ||
            (primary_rank(g) == primary_rank(out[best]) && g->hist > out[best]->hist))
            best = n;
        out[n++] = g;
    }
    if (best > 0) {   // move the primary to the front, the rest keep their order
        const rp_e2group *p = out[best];
        memmove(out + 1, out, (size_t)best * sizeof *out);
        out[0] = p;
    }
    return n;
}
