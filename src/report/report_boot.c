// report_boot.c — the percentile bootstraps of report_infer.h: the stratified engine, the ratio of
// means built on it, and the uncertainty of the E5 scaling-law fits.
#include "report/report_infer.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIT_MAX_SIZES 256   // rp_fit_power's own limit on points

// The plain bootstrap of a mean of n values has variance (n-1)/n · s²/n, not s²/n: with the 3-5
// seeds the report has, its intervals are 10-20% too narrow (measured: 87% coverage of α for a
// nominal 95% with 3-5 seeds per size). The statistics below therefore move each resampled mean
// away from the observed one by sqrt(n/(n-1)), which makes its bootstrap variance exactly s²/n.
static double rescale(size_t n) { return n > 1 ? sqrt((double)n / (double)(n - 1)) : 1; }

// A uniform index in [0, n): 53 random bits scaled, so the bias is below 2^-53 · n (nothing next to
// the bootstrap's own noise), and the draw is the same on every platform.
static size_t draw(rng_t *r, size_t n) {
    size_t i = (size_t)(rng_uniform_d(r) * (double)n);
    return i < n ? i : n - 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Quantile p of sorted x[0..n-1], interpolating linearly between order statistics at (n-1)p
// (Hyndman & Fan's type 7, R's default).
static double quantile_sorted(const double *x, int n, double p) {
    double h = (n - 1) * p;
    int i = (int)floor(h);
    if (i >= n - 1) return x[n - 1];
    return x[i] + (h - i) * (x[i + 1] - x[i]);
}

// Calls f on the current resample; a nonzero return or a non-finite statistic is a failure.
static int eval(rp_boot_fn f, void *ctx, const rp_resample *rs, int m, double *out) {
    if (f(rs, ctx, out)) return 1;
    for (int j = 0; j < m; j++)
        if (!isfinite(out[j])) return 1;
    return 0;
}

// The interval of statistic j from the n_boot rows of vals (NAN rows: failed resamples).
static rp_boot_ci interval(const double *vals, int m, int j, int n_boot, int n_failed, double est, double level,
                           double *buf) {
    rp_boot_ci ci = {0, est, NAN, NAN, n_boot, n_failed};
    int k = 0;
    for (int b = 0; b < n_boot; b++)
        if (isfinite(vals[(size_t)b * m + j])) buf[k++] = vals[(size_t)b * m + j];
    if (k >= 1) {
        qsort(buf, (size_t)k, sizeof(double), cmp_double);
        ci.lo = quantile_sorted(buf, k, 0.5 * (1 - level));
        ci.hi = quantile_sorted(buf, k, 0.5 * (1 + level));
    }
    ci.ok = isfinite(est) && k >= 2 && n_failed <= RP_BOOT_MAX_FAIL * n_boot;
    return ci;
}

int rp_bootstrap(const size_t *cnt, int k, int m, rp_boot_fn f, void *ctx, double level, int n_boot,
                 uint64_t seed, rp_boot_ci *ci) {
    for (int j = 0; j < m; j++) ci[j] = (rp_boot_ci){0, NAN, NAN, NAN, n_boot, 0};
    if (k < 1 || m < 1 || n_boot < 1 || !(level > 0 && level < 1)) return 0;
    size_t *off = xmalloc((size_t)k * sizeof(size_t)), total = 0;
    for (int g = 0; g < k; g++) off[g] = total, total += cnt[g];
    size_t *idx = xmalloc((total + 1) * sizeof(size_t));
    double *est = xmalloc((size_t)m * sizeof(double)), *vals = xmalloc((size_t)n_boot * m * sizeof(double));
    double *buf = xmalloc((size_t)n_boot * sizeof(double));
    rp_resample rs = {k, cnt, off, idx};
    for (int g = 0; g < k; g++)
        for (size_t i = 0; i < cnt[g]; i++) idx[off[g] + i] = i;
    if (eval(f, ctx, &rs, m, est))
        for (int j = 0; j < m; j++) est[j] = NAN;
    rng_t r;
    rng_seed(&r, seed);
    int failed = 0;
    for (int b = 0; b < n_boot; b++) {
        for (int g = 0; g < k; g++)
            for (size_t i = 0; i < cnt[g]; i++) idx[off[g] + i] = draw(&r, cnt[g]);
        double *row = vals + (size_t)b * m;
        if (eval(f, ctx, &rs, m, row)) {
            failed++;
            for (int j = 0; j < m; j++) row[j] = NAN;
        }
    }
    int ok = 1;
    for (int j = 0; j < m; j++) {
        ci[j] = interval(vals, m, j, n_boot, failed, est[j], level, buf);
        ok &= ci[j].ok;
    }
    free(off), free(idx), free(est), free(vals), free(buf);
    return ok;
}

// ---- ratio of means ----
typedef struct {
    const double *a, *b;   // finite values only (paired: a[i], b[i] a pair)
    int paired;
    double ma, mb;         // the observed means
} ratio_ctx;

static int ratio_stat(const rp_resample *r, void *vctx, double *out) {
    const ratio_ctx *c = vctx;
    // paired: one group of pairs; unpaired: group 0 indexes a, group 1 indexes b
    const size_t *ia = r->idx + r->off[0], *ib = r->idx + r->off[c->paired ? 0 : 1];
    size_t na = r->cnt[0], nb = r->cnt[c->paired ? 0 : 1];
    double sa = 0, sb = 0;
    for (size_t i = 0; i < na; i++) sa += c->a[ia[i]];
    for (size_t i = 0; i < nb; i++) sb += c->b[ib[i]];
    double mean_a = c->ma + rescale(na) * (sa / (double)na - c->ma);
    double mean_b = c->mb + rescale(nb) * (sb / (double)nb - c->mb);
    if (mean_b == 0) return 1;
    out[0] = mean_a / mean_b;
    return 0;
}

rp_boot_ci rp_boot_ratio(const double *a, size_t na, const double *b, size_t nb, int paired, double level,
                         int n_boot, uint64_t seed) {
    rp_boot_ci ci = {0, NAN, NAN, NAN, n_boot, 0};
    if (paired && na != nb) return ci;
    double *fa = xmalloc((na + 1) * sizeof(double)), *fb = xmalloc((nb + 1) * sizeof(double));
    size_t cnt[2] = {0, 0};
    if (paired) {
        for (size_t i = 0; i < na; i++)
            if (isfinite(a[i]) && isfinite(b[i])) fa[cnt[0]] = a[i], fb[cnt[0]++] = b[i];
        cnt[1] = cnt[0];
    } else {
        for (size_t i = 0; i < na; i++)
            if (isfinite(a[i])) fa[cnt[0]++] = a[i];
        for (size_t i = 0; i < nb; i++)
            if (isfinite(b[i])) fb[cnt[1]++] = b[i];
    }
    if (cnt[0] >= 2 && cnt[1] >= 2) {
        double sa = 0, sb = 0;
        for (size_t i = 0; i < cnt[0]; i++) sa += fa[i];
        for (size_t i = 0; i < cnt[1]; i++) sb += fb[i];
        ratio_ctx c = {fa, fb, paired != 0, sa / (double)cnt[0], sb / (double)cnt[1]};
        rp_bootstrap(cnt, paired ? 1 : 2, 1, ratio_stat, &c, level, n_boot, seed, &ci);
    }
    free(fa), free(fb);
    return ci;
}

// ---- the E5 fits ----
// Per-size mean losses of s into N[], L[] (sizes without a finite loss left out); returns the
// number of sizes kept, or -1 when there are more than rp_fit_power takes.
static int size_means(const rp_scaling *s, double *N, double *L) {
    int n = 0;
    for (int i = 0; i < s->n_sizes; i++) {
        double sum = 0;
        int k = 0;
        for (int j = 0; j < s->n_seeds[i]; j++)
            if (isfinite(s->loss[i][j])) sum += s->loss[i][j], k++;
        if (!k) continue;
        if (n == FIT_MAX_SIZES) return -1;
        N[n] = s->N[i], L[n++] = sum / k;
    }
    return n;
}

static int fit_usable(const rp_fit *f) { return f->ok && !f->edge; }

int rp_scaling_fit(const rp_scaling *s, rp_fit *f) {
    double N[FIT_MAX_SIZES], L[FIT_MAX_SIZES];
    int n = size_means(s, N, L);
    rp_fit_power(N, L, n < 0 ? 0 : n, f);
    return fit_usable(f);
}

double rp_fit_rel_gap(const rp_fit *f1, const rp_fit *f2, double n_lo, double n_hi) {
    if (!fit_usable(f1) || !fit_usable(f2) || !(n_lo > 0) || !(n_hi >= n_lo) || !isfinite(n_hi)) return NAN;
    double gap = 0;
    for (int i = 0; i <= RP_GAP_GRID; i++) {
        double N = n_lo * pow(n_hi / n_lo, (double)i / RP_GAP_GRID), l2 = rp_fit_eval(f2, N);
        gap = fmax(gap, fabs(rp_fit_eval(f1, N) - l2) / l2);
    }
    return gap;
}

// The bootstrap's view of the data: one group per (activation, size) with its finite losses.
typedef struct {
    int n_act, sizes[2];   // groups 0..sizes[0]-1: activation 1; then activation 2
    int with_gap;          // both activations, with overlapping size ranges
    double *N, **loss;     // per group
    double *mean;          // per group: the observed mean loss
    double n_lo, n_hi;
} fit_ctx;

// Refits one activation (groups g0 .. g0+n-1) on the resampled per-size means.
static int refit(const fit_ctx *c, const rp_resample *r, int g0, int n, rp_fit *f) {
    double N[FIT_MAX_SIZES], L[FIT_MAX_SIZES];
    for (int i = 0; i < n; i++) {
        int g = g0 + i;
        double sum = 0;
        for (size_t j = 0; j < r->cnt[g]; j++) sum += c->loss[g][r->idx[r->off[g] + j]];
        N[i] = c->N[g], L[i] = c->mean[g] + rescale(r->cnt[g]) * (sum / (double)r->cnt[g] - c->mean[g]);
    }
    rp_fit_power(N, L, n, f);
    return fit_usable(f);
}

static int fit_stat(const rp_resample *r, void *vctx, double *out) {
    const fit_ctx *c = vctx;
    rp_fit f1, f2;
    if (!refit(c, r, 0, c->sizes[0], &f1)) return 1;
    out[0] = f1.alpha, out[1] = f1.E;
    if (c->n_act == 1) return 0;
    if (!refit(c, r, c->sizes[0], c->sizes[1], &f2)) return 1;
    out[2] = f2.alpha, out[3] = f2.E;
    if (c->with_gap) out[4] = rp_fit_rel_gap(&f1, &f2, c->n_lo, c->n_hi);
    return 0;
}

// Adds activation s's sizes with at least one finite loss as groups; returns how many, or -1.
static int add_groups(const rp_scaling *s, fit_ctx *c, size_t *cnt, int g0, double *lo, double *hi) {
    int g = g0;
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < s->n_sizes; i++) {
        double *v = xmalloc(((size_t)s->n_seeds[i] + 1) * sizeof(double));
        size_t k = 0;
        double sum = 0;
        for (int j = 0; j < s->n_seeds[i]; j++)
            if (isfinite(s->loss[i][j])) sum += v[k++] = s->loss[i][j];
        if (!k || g - g0 == FIT_MAX_SIZES) {
            free(v);
            if (k) return -1;
            continue;
        }
        c->N[g] = s->N[i], c->loss[g] = v, c->mean[g] = sum / (double)k, cnt[g++] = k;
        *lo = fmin(*lo, s->N[i]), *hi = fmax(*hi, s->N[i]);
    }
    return g - g0;
}

int rp_fit_bootstrap(const rp_scaling *s1, const rp_scaling *s2, double level, int n_boot, uint64_t seed,
                     rp_fit_boot *out) {
    memset(out, 0, sizeof *out);
    rp_boot_ci none = {0, NAN, NAN, NAN, n_boot, 0};
    out->alpha1 = out->E1 = out->alpha2 = out->E2 = out->gap = none;
    out->n_boot = n_boot;
    rp_scaling_fit(s1, &out->fit1);
    if (s2) rp_scaling_fit(s2, &out->fit2);
    int total = s1->n_sizes + (s2 ? s2->n_sizes : 0);
    fit_ctx c = {s2 ? 2 : 1, {0, 0}, 0, xcalloc((size_t)total + 1, sizeof(double)),
                 xcalloc((size_t)total + 1, sizeof(double *)), xcalloc((size_t)total + 1, sizeof(double)), NAN, NAN};
    size_t *cnt = xcalloc((size_t)total + 1, sizeof(size_t));
    double lo1, hi1, lo2 = 0, hi2 = INFINITY;
    c.sizes[0] = add_groups(s1, &c, cnt, 0, &lo1, &hi1);
    if (s2 && c.sizes[0] >= 0) c.sizes[1] = add_groups(s2, &c, cnt, c.sizes[0], &lo2, &hi2);
    c.n_lo = fmax(lo1, lo2), c.n_hi = fmin(hi1, hi2);
    c.with_gap = s2 && c.n_hi >= c.n_lo;   // disjoint ranges: no gap, but α and E still
    out->n_lo = s2 ? c.n_lo : NAN, out->n_hi = s2 ? c.n_hi : NAN;
    int ok = 0;
    if (c.sizes[0] >= 0 && c.sizes[1] >= 0) {
        rp_boot_ci ci[5];
        int m = s2 ? 4 + c.with_gap : 2;
        ok = rp_bootstrap(cnt, c.sizes[0] + c.sizes[1], m, fit_stat, &c, level, n_boot, seed, ci);
        out->alpha1 = ci[0], out->E1 = ci[1];
        if (s2) out->alpha2 = ci[2], out->E2 = ci[3];
        if (c.with_gap) out->gap = ci[4];
        out->n_failed = ci[0].n_failed;
    }
    for (int g = 0; g < total; g++) free(c.loss[g]);
    free(c.N), free(c.loss), free(c.mean), free(cnt);
    return ok;
}
