// report_infer.h — the inference the report's verdicts rest on: Student t and normal distributions,
// paired and Welch comparisons with t confidence intervals, the minimum detectable effect, TOST
// equivalence, deterministic percentile bootstraps (a ratio of means, any statistic via a callback,
// and the E5 scaling-law fit), and verdict rules on an interval. Everything here is a pure function
// of its arguments (the bootstraps draw from a generator seeded by the caller); every threshold is a
// named constant below.
#ifndef ACTLAB_REPORT_INFER_H
#define ACTLAB_REPORT_INFER_H

#include "report/report_fit.h"
#include "report/report_verdict.h"

#include <stddef.h>
#include <stdint.h>

// ---- conventions ----
#define RP_LEVEL 0.95          // confidence level of the intervals the report prints
#define RP_ALPHA 0.05          // two-sided significance level (1 - RP_LEVEL)
#define RP_POWER 0.80          // power the minimum detectable effect is quoted at
#define RP_TOST_ALPHA 0.05     // each one-sided test of TOST: the (1 - 2·0.05) = 90% interval
#define RP_BOOT_N 10000        // resamples the report draws
#define RP_BOOT_MAX_FAIL 0.10  // a bootstrap with more than this fraction of failed resamples is
                               // not ok: its percentiles would describe only the resamples that
                               // happened to work, a selected (biased) subset
#define RP_GAP_GRID 200        // the relative gap of two fitted curves is a max over GRID+1
                               // log-spaced sizes (the grid the E5 verdict's gap uses)

// ---- distributions ----
// Regularized incomplete beta I_x(a, b) for a, b > 0, 0 <= x <= 1 (continued fraction, modified
// Lentz). NAN outside the domain. Absolute error ~1e-16·max(a, b) (its terms round near 1 for
// large parameters: 4e-12 at a = b = 4e4), ~1e-15 for parameters below ~100.
double rp_beta_inc(double a, double b, double x);
// Standard normal CDF, and its inverse for 0 < p < 1 (±INFINITY at 0 and 1, NAN outside).
double rp_norm_cdf(double z);
double rp_norm_quantile(double p);
// Student t with df > 0 degrees of freedom (real df, as Welch gives; df = INFINITY is the normal).
// rp_t_sf is the upper tail P(T > t), computed directly (not as 1 - CDF) so small p-values keep
// their digits. Relative accuracy of both tails, measured against 40-digit mpmath: ~1e-15 for
// df <= 100, ~1e-13 at df = 1e3, and at worst ~1e-10 for df of 1e5..1e8 (large df switch to a
// 1/df expansion, see report_dist.c); quantiles inherit it.
double rp_t_cdf(double t, double df);
double rp_t_sf(double t, double df);
double rp_t_pdf(double t, double df);
// Inverse CDF for 0 < p < 1 (±INFINITY at 0 and 1; NAN for p outside [0, 1] or df <= 0).
double rp_t_quantile(double p, double df);
// Two-sided critical value t_{(1+level)/2, df}: e.g. level 0.95, df 9 -> 2.2621571628.
double rp_t_crit(double level, double df);

// ---- comparisons of two sets of runs ----
// The difference a - b: its estimate, standard error, t interval at `level`, t statistic and
// two-sided p-value. ok = 0 when there are too few values (paired: 2 pairs; Welch: 2 per side);
// then every number is NAN. When the spread is zero (se = 0, e.g. identical deterministic runs) the
// interval is the point [diff, diff], t = ±INFINITY with p = 0 if diff != 0, else t = NAN, p = 1.
typedef struct {
    int ok;
    int n1, n2;           // values used (paired: n1 = n2 = pairs used)
    double mean1, mean2;
    double diff;          // mean1 - mean2 (paired: the mean of the differences, the same number)
    double sd;            // paired: sd of the differences; Welch: NAN (see sd1, sd2)
    double sd1, sd2;      // sample (n-1) standard deviations of each side
    double se;            // standard error of diff
    double df;            // paired: n-1; Welch: Welch-Satterthwaite (real-valued)
    double level, lo, hi; // the interval diff ± t_crit(level, df)·se
    double t, p;          // t = diff/se; two-sided p-value
} rp_cmp;
// Pairs (a[i], b[i]); a pair with a NAN on either side is skipped.
rp_cmp rp_cmp_paired(const double *a, const double *b, size_t n, double level);
// Independent samples (NANs skipped) with unequal variances.
rp_cmp rp_cmp_welch(const double *a, size_t na, const double *b, size_t nb, double level);
// Welch-Satterthwaite degrees of freedom of se² = v1/n1 + v2/n2 (v: variances); NAN when both
// variances are 0.
double rp_welch_df(double v1, int n1, double v2, int n2);

// Minimum detectable effect: the smallest true |difference| a two-sided test at `alpha` finds
// with probability `power`, for a design with standard error se and df degrees of freedom:
//   MDE = (t_{1-alpha/2, df} + t_{power, df}) · se.
// Approximation: the exact power needs the noncentral t; this shifts a central t by the effect and
// ignores the (tiny) chance of rejecting on the wrong side. It is the usual planning formula and
// errs slightly large for small df. For a planned design use se = sd/sqrt(n), df = n - 1 (paired)
// or se = sqrt(sd1²/n1 + sd2²/n2) with rp_welch_df (unpaired).
double rp_mde(double se, double df, double alpha, double power);

// TOST equivalence of a difference (from rp_cmp_paired or rp_cmp_welch) against margin Δ > 0:
// two one-sided t tests at alpha each; equivalent iff the (1 - 2·alpha) interval lies strictly
// inside (-Δ, Δ) (the same as both one-sided p-values < alpha).
typedef struct {
    int ok;            // 0: the comparison was not ok, or margin/alpha invalid
    int equivalent;
    double lo, hi;     // the (1 - 2·alpha) interval
    double p;          // TOST p-value: the larger of the two one-sided p-values
    double resolvable; // max(|lo|, |hi|): the smallest margin these data could call equivalent
} rp_tost;
rp_tost rp_tost_of(const rp_cmp *c, double margin, double alpha);

// ---- bootstrap ----
// A percentile interval: est is the statistic on the data as observed; lo, hi the (1-level)/2 and
// (1+level)/2 quantiles (linear interpolation between order statistics) of the statistic over the
// resamples that succeeded. ok = 0 when est failed, fewer than 2 resamples succeeded, or more than
// RP_BOOT_MAX_FAIL of them failed (lo and hi are still filled when they can be).
typedef struct {
    int ok;
    double est, lo, hi;
    int n_boot, n_failed;
} rp_boot_ci;

// One resample of k groups (strata): group g drew cnt[g] members, given as indices into that
// group's original members at idx[off[g]] .. idx[off[g] + cnt[g] - 1]. The identity resample
// (idx = 0, 1, 2, ... within each group) is the data as observed.
typedef struct {
    int k;
    const size_t *cnt, *off, *idx;
} rp_resample;
// Computes m statistics of a resample into out[0..m-1]; returns 0, or nonzero when the statistic
// cannot be computed (the resample is counted as failed). A non-finite out[j] also fails it.
typedef int (*rp_boot_fn)(const rp_resample *r, void *ctx, double *out);
// Stratified percentile bootstrap: each resample draws cnt[g] members with replacement within each
// group g, calls f, and collects the m statistics; ci[j] (m of them) gets statistic j's interval.
// Deterministic: the same seed, data and n_boot give the same bits (util/rng.h, one stream drawn
// in a fixed order). Returns ci[0].ok && ... && ci[m-1].ok.
int rp_bootstrap(const size_t *cnt, int k, int m, rp_boot_fn f, void *ctx, double level, int n_boot,
                 uint64_t seed, rp_boot_ci *ci);
// The ratio mean(a)/mean(b) (NANs skipped; at least 2 values or pairs). paired = 1: a[i], b[i] are
// pairs (na must equal nb; pairs with a NAN are dropped) and pair indices are resampled; paired = 0:
// each sample is resampled on its own. A resample whose mean(b) is 0 fails.
// Small-sample correction (here and in rp_fit_bootstrap): the plain bootstrap mean of n values
// varies by (n-1)/n of the sampling variance, 10-20% too narrow at the report's 3-5 seeds, so each
// resampled mean m* is used as m + sqrt(n/(n-1))·(m* - m) (m: the observed mean), which makes its
// bootstrap variance s²/n exactly.
rp_boot_ci rp_boot_ratio(const double *a, size_t na, const double *b, size_t nb, int paired, double level,
                         int n_boot, uint64_t seed);

// ---- uncertainty of the E5 scaling-law fit ----
// One activation's E5 runs: n_sizes model sizes N[i], each with n_seeds[i] final losses loss[i][j]
// (ragged; NAN losses are skipped).
typedef struct {
    int n_sizes;
    const double *N;
    const int *n_seeds;
    const double *const *loss;
} rp_scaling;
// Fits L(N) = A·N^-α + E (rp_fit_power) to the per-size mean losses, as the report does. Returns
// ok: the fit succeeded and α is not at the edge of its search range.
int rp_scaling_fit(const rp_scaling *s, rp_fit *f);
// max over RP_GAP_GRID+1 log-spaced N in [n_lo, n_hi] of |L1(N) - L2(N)| / L2(N); NAN when a fit
// is not ok, edge, or the range is empty.
double rp_fit_rel_gap(const rp_fit *f1, const rp_fit *f2, double n_lo, double n_hi);

// Bootstrap of the fits: each resample draws seeds with replacement within every size of each
// activation, refits both curves, and takes α, E and the relative gap over the common size range
// (the overlap of both activations' measured sizes, fixed from the data as observed). A resample
// whose fit fails (not ok, or α at the edge) is counted in n_failed. With s2 = NULL only curve 1
// is bootstrapped (gap not ok; n_lo, n_hi NAN); the gap is not ok either when the activations' size
// ranges do not overlap (n_lo > n_hi). Returns 1 when every interval it computed is ok. Resampled
// size means are variance-corrected as in rp_boot_ratio.
// Caveats: a size with one seed never varies; with 3-5 seeds per size the α interval covered the
// truth ~92% of the time at a nominal 95% (measured on synthetic curves, see tests/report), so the
// report should state the seed counts next to the interval. Cost: two fits per resample, ~0.7 ms
// each (~14 s for RP_BOOT_N resamples of two activations on this machine; 2000 take ~3 s).
typedef struct {
    rp_fit fit1, fit2;          // the fits to the data as observed
    double n_lo, n_hi;          // the common size range of the gap
    rp_boot_ci alpha1, E1, alpha2, E2, gap;
    int n_boot, n_failed;
} rp_fit_boot;
int rp_fit_bootstrap(const rp_scaling *s1, const rp_scaling *s2, double level, int n_boot, uint64_t seed,
                     rp_fit_boot *out);

// ---- verdicts on an interval [lo, hi] (closed: an end point counts as inside) ----
// A directional claim: the paper reports effect `paper` where `none` means no effect (0 for a
// difference, 1 for a ratio). With the interval I:
//   I contains both `none` and `paper`                 -> inconclusive (the data cannot tell them apart)
//   I excludes `none`, on the paper's side              -> reproduced (the direction is; the size is
//                                                          not judged: a smaller effect of the same
//                                                          sign still reproduces)
//   I excludes `none`, on the other side                -> not reproduced
//   I contains `none` but excludes `paper`              -> not reproduced (the paper's effect is ruled
//                                                          out and no effect is detected)
// Inconclusive too when lo, hi or paper is not finite, lo > hi, or paper == none (no direction).
rp_verdict rp_verdict_effect(double lo, double hi, double none, double paper);
// A claim "the quantity is at most `bound`" (e.g. E5's curves overlap: gap <= RP_E5_OVERLAP):
// reproduced if hi <= bound, not reproduced if lo > bound, else inconclusive (the interval
// straddles the bound). Inconclusive on non-finite input or lo > hi.
rp_verdict rp_verdict_at_most(double lo, double hi, double bound);
// An equivalence claim "the difference is within ±margin" (e.g. E4): reproduced if the interval
// lies strictly inside (-margin, margin) (TOST, given the 1 - 2α interval), not reproduced if it
// lies entirely outside [-margin, margin] on one side (lo > margin or hi < -margin: a difference
// larger than the margin is detected), else inconclusive.
rp_verdict rp_verdict_equivalent(double lo, double hi, double margin);

#endif
