// report_stats.c — mean ± sd over seeds, series averaged over runs, the train-loss smoothing.
#include "report/rp.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

rp_stat rp_stat_of(const double *x, size_t n) {
    rp_stat s = {NAN, NAN, 0};
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) sum += x[i], s.n++;
    if (!s.n) return s;
    s.mean = sum / s.n;
    if (s.n < 2) return s;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.sd = sqrt(ss / (s.n - 1));
    return s;
}

static int by_step(const void *a, const void *b) {
    const rp_pt *x = a, *y = b;
    if (x->step != y->step) return (x->step > y->step) - (x->step < y->step);
    return (x->v > y->v) - (x->v < y->v);   // sums in value order: independent of qsort's tie order
}

size_t rp_mean_series(const rp_pt *const *series, const size_t *ns, size_t k, rp_pt **out) {
    size_t total = 0;
    for (size_t i = 0; i < k; i++) total += ns[i];
    rp_pt *all = xmalloc((total + 1) * sizeof(rp_pt));
    size_t n = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < ns[i]; j++)
            if (isfinite(series[i][j].v)) all[n++] = series[i][j];
    qsort(all, n, sizeof(rp_pt), by_step);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double sum = 0;
        while (j < n && all[j].step == all[i].step) sum += all[j++].v;
        all[m].step = all[i].step;
        all[m++].v = sum / (double)(j - i);
        i = j;
    }
    *out = all;
    return m;
}

void rp_ema(rp_pt *p, size_t n, double w) {
    double acc = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        acc = w * acc + (1 - w) * p[i].v;
        norm = w * norm + (1 - w);
        p[i].v = acc / norm;
    }
}

int rp_acts(const rp_sweep *s, rp_pick use, const void *ctx, char names[][32], int max) {
    int k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!use(r, ctx)) continue;
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = !strcmp(names[j], r->act);
        if (!seen && k < max) snprintf(names[k++], 32, "%s", r->act);
    }
    return k;
}
