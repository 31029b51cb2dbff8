// report_dist.c — the normal and Student t distributions of report_infer.h. The t tail is
// I_x(df/2, 1/2)/2 with x = df/(df + t²); the incomplete beta is the classic continued fraction
// (evaluated by modified Lentz) with the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) to stay where it
// converges fast. Both x and 1 - x are carried so neither is formed by a cancelling subtraction.
#include "report/report_infer.h"

#include <float.h>
#include <math.h>

#define CF_MAX_ITER 100000   // the fraction needs O(sqrt(max(a, b))) terms near its switch point
#define CF_EPS 1e-16
#define CF_TINY 1e-300       // Lentz's guard against a zero denominator
#define STIRLING_MIN 10.0    // lgamma's Stirling remainder by its series from here on
#define QUANT_MAX_ITER 400
// The continued fraction loses ~df·1e-16 relative for large df (its terms round near 1; measured
// 6e-11 at df = 1e6), so large df use the 1/df expansion of the CDF instead, where its neglected
// third-order term, relatively ~(t⁴/df)³, stays below ~2e-12 (measured against mpmath):
#define ASYM_DF_MIN 1e4
#define ASYM_T4_PER_DF 1e-3
#define HALF_LOG_2PI 0.91893853320467274178

// Stirling remainder δ(x) = lgamma(x) - [(x - 1/2) log x - x + log(2π)/2]. Small, so differences
// of lgamma at large arguments can be taken without cancelling digits.
static double stirling_rem(double x) {
    if (x < STIRLING_MIN) return lgamma(x) - ((x - 0.5) * log(x) - x + HALF_LOG_2PI);
    double r = 1 / x, r2 = r * r;
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 / 1188))));
}

// log B(a, b). Plain lgamma sums lose ~log10(a log a) digits for large a (df of 1e6 and up); the
// Stirling form keeps the large terms as log1p of a small ratio.
static double log_beta(double a, double b) {
    if (a < b) {
        double t = a;
        a = b, b = t;
    }
    if (a < STIRLING_MIN) return lgamma(a) + lgamma(b) - lgamma(a + b);
    double corr = stirling_rem(a) - stirling_rem(a + b);
    if (b < STIRLING_MIN)   // lgamma(a) - lgamma(a+b) by Stirling, lgamma(b) directly
        return lgamma(b) - (a - 0.5) * log1p(b / a) - b * log(a + b) + b + corr;
    return HALF_LOG_2PI - (a - 0.5) * log1p(b / a) + (b - 0.5) * log(b / (a + b)) - 0.5 * log(a + b) +
           stirling_rem(b) + corr;
}

// The continued fraction of I_x(a, b) · a·B(a, b) / (x^a (1-x)^b), fast for x < (a+1)/(a+b+2).
static double beta_cf(double a, double b, double x, double y) {
    // 1 - (a+b)x/(a+1) written with y = 1 - x: it cancels near the switch point when a is large
    double c = 1, d = ((1 - b) + (a + b) * y) / (a + 1);
    if (fabs(d) < CF_TINY) d = CF_TINY;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= CF_MAX_ITER; m++) {
        // the even step d_{2m} = m(b-m)x / ((a+2m-1)(a+2m)), then the odd d_{2m+1}
        for (int odd = 0; odd < 2; odd++) {
            double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                             : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + num * d;
            if (fabs(d) < CF_TINY) d = CF_TINY;
            c = 1 + num / c;
            if (fabs(c) < CF_TINY) c = CF_TINY;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (odd && fabs(del - 1) < CF_EPS) return h;
        }
    }
    return h;   // not converged: only for arguments far beyond what the report uses
}

// I_x(a, b) given both x and y = 1 - x; upper = 1 returns 1 - I_x(a, b) instead, computed
// without subtracting from 1 where that would cancel.
static double beta_inc2(double a, double b, double x, double y, int upper) {
    if (x <= 0) return upper ? 1 : 0;
    if (y <= 0) return upper ? 0 : 1;
    // log x as log1p(-y) when x is near 1: a·log x is of order a·y, and a rounding of x itself
    // would cost a·1e-16 (5e-11 at df = 1e6)
    double lx = x < 0.5 ? log(x) : log1p(-y), ly = y < 0.5 ? log(y) : log1p(-x);
    double lfront = a * lx + b * ly - log_beta(a, b);
    if (x < (a + 1) / (a + b + 2)) {
        double v = exp(lfront) * beta_cf(a, b, x, y) / a;
        return upper ? 1 - v : v;
    }
    double w = exp(lfront) * beta_cf(b, a, y, x) / b;   // = I_y(b, a) = 1 - I_x(a, b)
    return upper ? w : 1 - w;
}

double rp_beta_inc(double a, double b, double x) {
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return NAN;
    return beta_inc2(a, b, x, 1 - x, 0);
}

double rp_norm_cdf(double z) { return 0.5 * erfc(-z / M_SQRT2); }

// Upper-tail quantile of the normal for 0 < q <= 1/2 by Newton on h(z) = log Q(z) - log q.
// log Q is concave (the normal is log-concave), and z0 = sqrt(-2 log q) lies right of the root
// (Chernoff: Q(z) <= exp(-z²/2)), so Newton descends monotonically onto it from there.
static double norm_upper_quantile(double q) {
    double lq = log(q), z = sqrt(-2 * lq);
    for (int it = 0; it < QUANT_MAX_ITER; it++) {
        double Q = 0.5 * erfc(z / M_SQRT2);
        if (!(Q > 0)) return z;   // beyond double range (q below ~1e-308)
        double pdf = exp(-0.5 * z * z - HALF_LOG_2PI);
        double step = (log(Q) - lq) * Q / pdf;   // h / -h'
        z += step;
        if (fabs(step) <= 4 * DBL_EPSILON * fmax(1, fabs(z))) break;
    }
    return z;
}

double rp_norm_quantile(double p) {
    if (!(p >= 0 && p <= 1)) return NAN;
    if (p == 0) return -INFINITY;
    if (p == 1) return INFINITY;
    if (p == 0.5) return 0;   // Newton would land within an ulp of it, not on it
    if (p < 0.5) return -norm_upper_quantile(p);
    return norm_upper_quantile(1 - p);   // exact for p >= 1/2
}

// P(T > t) for t >= 0, df finite.
static double t_upper(double t, double df) {
    if (df >= ASYM_DF_MIN && t * t * t * t <= ASYM_T4_PER_DF * df) {
        // F(t) = Φ(t) - φ(t)·[g1(t)/df + g2(t)/df²] + O(t¹¹/df³), g1 = (t³+t)/4,
        // g2 = (3t⁷ - 7t⁵ - 5t³ - 3t)/96 (Fisher's expansion; checked against 60-digit mpmath)
        double t2 = t * t, phi = exp(-0.5 * t2 - HALF_LOG_2PI);
        double g1 = (t2 + 1) * t / 4, g2 = (((3 * t2 - 7) * t2 - 5) * t2 - 3) * t / 96;
        return 0.5 * erfc(t / M_SQRT2) + phi * (g1 + g2 / df) / df;
    }
    double t2 = t * t, x = df / (df + t2), y = t2 / (df + t2);
    return 0.5 * beta_inc2(0.5 * df, 0.5, x, y, 0);
}

double rp_t_sf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(df)) return 0.5 * erfc(t / M_SQRT2);
    if (isinf(t)) return t > 0 ? 0 : 1;
    return t >= 0 ? t_upper(t, df) : 1 - t_upper(-t, df);
}

double rp_t_cdf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(df)) return rp_norm_cdf(t);
    if (isinf(t)) return t > 0 ? 1 : 0;
    return t <= 0 ? t_upper(-t, df) : 1 - t_upper(t, df);
}

double rp_t_pdf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(df)) return exp(-0.5 * t * t - HALF_LOG_2PI);
    // Γ((df+1)/2) / (sqrt(df π) Γ(df/2)) = 1 / (sqrt(df) B(df/2, 1/2))
    return exp(-0.5 * log(df) - log_beta(0.5 * df, 0.5) - 0.5 * (df + 1) * log1p(t * t / df));
}

// The t > 0 with P(T > t) = q, 0 < q < 1/2: Newton on log P(T > t) - log q, kept inside a bracket
// [lo, hi] that always holds the root, falling back to bisection (geometric while the bracket spans
// orders of magnitude) whenever a Newton step leaves it. The t tail is not log-concave, so plain
// Newton could wander; the bracket makes it safe.
static double t_upper_quantile(double q, double df) {
    double lq = log(q), lo = 0, hi = fmax(1, -rp_norm_quantile(q));   // the normal's is below t's
    while (t_upper(hi, df) > q && hi < 1e300) lo = hi, hi *= 8;
    // a start from the normal quantile with the first term of its 1/df expansion (Cornish-Fisher)
    double z = -rp_norm_quantile(q), t = z + (z * z * z + z) / (4 * df);
    if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
    for (int it = 0; it < QUANT_MAX_ITER; it++) {
        double s = t_upper(t, df);
        if (s == q) return t;
        if (s > q) lo = t; else hi = t;
        double pdf = rp_t_pdf(t, df), next = t + (log(s) - lq) * s / pdf;
        if (!(next > lo && next < hi)) next = lo > 0 && hi > 4 * lo ? sqrt(lo * hi) : 0.5 * (lo + hi);
        if (fabs(next - t) <= 4 * DBL_EPSILON * t || hi - lo <= 4 * DBL_EPSILON * hi) return next;
        t = next;
    }
    return t;
}

double rp_t_quantile(double p, double df) {
    if (!(p >= 0 && p <= 1) || !(df > 0)) return NAN;
    if (p == 0) return -INFINITY;
    if (p == 1) return INFINITY;
    if (p == 0.5) return 0;
    if (isinf(df)) return rp_norm_quantile(p);
    double q = p < 0.5 ? p : 1 - p, t;   // the smaller tail, so p near 1 keeps its digits
    if (df == 1) t = 1 / tan(M_PI * q);                        // Cauchy: exact
    else if (df == 2) t = (1 - 2 * q) / sqrt(2 * q * (1 - q));   // closed form
    else t = t_upper_quantile(q, df);
    return p < 0.5 ? -t : t;
}

double rp_t_crit(double level, double df) {
    if (!(level > 0 && level < 1)) return NAN;
    double q = 0.5 * (1 - level);
    return -rp_t_quantile(q, df);
}
