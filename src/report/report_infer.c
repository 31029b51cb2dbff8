// report_infer.c — paired and Welch comparisons, the minimum detectable effect, TOST and the
// verdict rules on an interval (report_infer.h). Distributions: report_dist.c; bootstraps:
// report_boot.c.
#include "report/report_infer.h"

#include <math.h>

static rp_cmp cmp_none(double level) {
    rp_cmp c = {0};
    c.mean1 = c.mean2 = c.diff = c.sd = c.sd1 = c.sd2 = c.se = c.df = c.lo = c.hi = c.t = c.p = NAN;
    c.level = level;
    return c;
}

// The interval, t and p from diff, se and df (shared by both designs).
static void finish(rp_cmp *c) {
    if (c->se > 0) {
        double k = rp_t_crit(c->level, c->df);
        c->lo = c->diff - k * c->se, c->hi = c->diff + k * c->se;
        c->t = c->diff / c->se;
        c->p = 2 * rp_t_sf(fabs(c->t), c->df);
    } else {   // no spread at all: the data pin the difference exactly
        c->lo = c->hi = c->diff;
        c->t = c->diff != 0 ? copysign(INFINITY, c->diff) : NAN;
        c->p = c->diff != 0 ? 0 : 1;
    }
    c->ok = 1;
}

// Mean and sample sd of the finite x[i] (two-pass, so a large common offset costs no digits).
static int mean_sd(const double *x, size_t n, double *mean, double *sd) {
    double sum = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) sum += x[i], k++;
    *mean = k ? sum / k : NAN;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = k >= 2 ? sqrt(ss / (k - 1)) : NAN;
    return k;
}

rp_cmp rp_cmp_paired(const double *a, const double *b, size_t n, double level) {
    rp_cmp c = cmp_none(level);
    double sa = 0, sb = 0, sd = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i])) sa += a[i], sb += b[i], sd += a[i] - b[i], k++;
    if (k < 2 || !(level > 0 && level < 1)) return c;
    c.n1 = c.n2 = k;
    c.mean1 = sa / k, c.mean2 = sb / k, c.diff = sd / k;
    double ssd = 0, ssa = 0, ssb = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(isfinite(a[i]) && isfinite(b[i]))) continue;
        double e = a[i] - b[i] - c.diff, ea = a[i] - c.mean1, eb = b[i] - c.mean2;
        ssd += e * e, ssa += ea * ea, ssb += eb * eb;
    }
    c.sd = sqrt(ssd / (k - 1)), c.sd1 = sqrt(ssa / (k - 1)), c.sd2 = sqrt(ssb / (k - 1));
    c.se = c.sd / sqrt(k);
    c.df = k - 1;
    finish(&c);
    return c;
}

double rp_welch_df(double v1, int n1, double v2, int n2) {
    if (n1 < 2 || n2 < 2 || !(v1 >= 0) || !(v2 >= 0)) return NAN;
    double u1 = v1 / n1, u2 = v2 / n2, den = u1 * u1 / (n1 - 1) + u2 * u2 / (n2 - 1);
    return den > 0 ? (u1 + u2) * (u1 + u2) / den : NAN;
}

rp_cmp rp_cmp_welch(const double *a, size_t na, const double *b, size_t nb, double level) {
    rp_cmp c = cmp_none(level);
    int n1 = mean_sd(a, na, &c.mean1, &c.sd1), n2 = mean_sd(b, nb, &c.mean2, &c.sd2);
    if (n1 < 2 || n2 < 2 || !(level > 0 && level < 1)) return c;
    c.n1 = n1, c.n2 = n2;
    c.diff = c.mean1 - c.mean2;
    double v1 = c.sd1 * c.sd1, v2 = c.sd2 * c.sd2;
    c.se = sqrt(v1 / n1 + v2 / n2);
    // with no spread on either side Welch's df is 0/0; the pooled n1+n2-2 stands in, and only
    // labels the point interval (which does not depend on it)
    c.df = c.se > 0 ? rp_welch_df(v1, n1, v2, n2) : n1 + n2 - 2;
    finish(&c);
    return c;
}

double rp_mde(double se, double df, double alpha, double power) {
    if (!(se >= 0) || !(df > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) return NAN;
    return (rp_t_quantile(1 - 0.5 * alpha, df) + rp_t_quantile(power, df)) * se;
}

rp_tost rp_tost_of(const rp_cmp *c, double margin, double alpha) {
    rp_tost r = {0, 0, NAN, NAN, NAN, NAN};
    if (!c->ok || !(margin > 0) || !(alpha > 0 && alpha < 0.5)) return r;
    if (c->se > 0) {
        double k = rp_t_quantile(1 - alpha, c->df);
        r.lo = c->diff - k * c->se, r.hi = c->diff + k * c->se;
        // H0: diff <= -margin, rejected for large t; H0: diff >= margin, rejected for small t
        double p_low = rp_t_sf((c->diff + margin) / c->se, c->df);
        double p_high = rp_t_cdf((c->diff - margin) / c->se, c->df);
        r.p = fmax(p_low, p_high);
    } else {
        r.lo = r.hi = c->diff;
        r.p = fabs(c->diff) < margin ? 0 : 1;
    }
    r.equivalent = r.lo > -margin && r.hi < margin;
    r.resolvable = fmax(fabs(r.lo), fabs(r.hi));
    r.ok = 1;
    return r;
}

static int bad_interval(double lo, double hi) { return !isfinite(lo) || !isfinite(hi) || lo > hi; }

rp_verdict rp_verdict_effect(double lo, double hi, double none, double paper) {
    if (bad_interval(lo, hi) || !isfinite(none) || !isfinite(paper) || paper == none) return RP_INCONCLUSIVE;
    int has_none = lo <= none && none <= hi, has_paper = lo <= paper && paper <= hi;
    if (has_none) return has_paper ? RP_INCONCLUSIVE : RP_NOT_REPRODUCED;
    int paper_above = paper > none, above = lo > none;   // the interval excludes `none` on one side
    return above == paper_above ? RP_REPRODUCED : RP_NOT_REPRODUCED;
}

rp_verdict rp_verdict_at_most(double lo, double hi, double bound) {
    if (bad_interval(lo, hi) || !isfinite(bound)) return RP_INCONCLUSIVE;
    if (hi <= bound) return RP_REPRODUCED;
    if (lo > bound) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_equivalent(double lo, double hi, double margin) {
    if (bad_interval(lo, hi) || !(margin > 0) || !isfinite(margin)) return RP_INCONCLUSIVE;
    if (lo > -margin && hi < margin) return RP_REPRODUCED;
    if (lo > margin || hi < -margin) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}
