// test_report_infer.c — the report's inference (report_infer.h): t and normal distributions
// against table values, comparisons against independent hand calculations, TOST, the MDE, the
// bootstraps (determinism, coverage, failures), the E5 fit bootstrap, and the verdict rules.
//
// Reference numbers marked [mpmath] were computed once, independently of this code, with
// python3's mpmath at 50 significant digits: the t tail as betainc(df/2, 1/2, 0, df/(df+t²),
// regularized)/2, t quantiles by mpmath.findroot on that CDF, normal quantiles as
// sqrt(2)·erfinv(2p-1), and the comparisons by their textbook formulas on the data below
// (mean, n-1 sd, se, Welch-Satterthwaite df, diff ± t·se, p = 2·tail(|t|)).
#include "report/report_infer.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

// The fit bootstrap's planted curves: a 10% separation lies beyond this gap, identical curves within it.
#define GAP_APART 0.03

static int close_rel(double x, double ref, double tol) { return fabs(x - ref) <= tol * fabs(ref); }
#define assert_rel(x, ref, tol)                                                              \
    do {                                                                                     \
        double x_ = (x), r_ = (ref);                                                         \
        if (!close_rel(x_, r_, tol)) fail_msg("%s = %.17g, expected %.17g (rel tol %g)", #x, x_, r_, (double)(tol)); \
    } while (0)

// ---- distributions ----
static void test_t_quantile_table(void **state) {
    (void)state;
    // two-sided 95% critical values, the t table's row: [mpmath] (match the printed tables)
    const struct { double df, t; } tab[] = {
        {1, 12.706204736174705},   {2, 4.3026527297494639},  {4, 2.7764451051977944},
        {9, 2.2621571627982055},   {29, 2.0452296421327043}, {1000, 1.9623390808264085},
        {1e5, 1.9599877075346096}, {1e7, 1.9599642217672055}, {INFINITY, 1.9599639845400542},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        assert_rel(rp_t_crit(0.95, tab[i].df), tab[i].t, 1e-10);
        assert_rel(rp_t_quantile(0.975, tab[i].df), tab[i].t, 1e-10);
        assert_rel(rp_t_quantile(0.025, tab[i].df), -tab[i].t, 1e-10);
    }
    // other levels, real df, far tails [mpmath]
    assert_rel(rp_t_quantile(0.8, 9), 0.88340385968553453569, 1e-10);
    assert_rel(rp_t_quantile(0.8, 4.7), 0.92493712729317114196, 1e-10);
    assert_rel(rp_t_quantile(0.6, 50.5), 0.25468591402667761764, 1e-10);
    assert_rel(rp_t_quantile(0.999999, 3), 103.29946778041934274, 1e-9);
    assert_rel(rp_t_quantile(1e-12, 7), -104.02182926264720416, 1e-9);
    assert_true(rp_t_quantile(0.5, 3) == 0);
    assert_true(rp_t_quantile(1, 3) == INFINITY && rp_t_quantile(0, 3) == -INFINITY);
    assert_true(isnan(rp_t_quantile(1.5, 3)) && isnan(rp_t_quantile(0.5, 0)) && isnan(rp_t_crit(1, 3)));
}

static void test_t_cdf_values(void **state) {
    (void)state;
    // [mpmath]
    const struct { double t, df, F; } tab[] = {
        {1.5, 3, 0.88470806737758847386},     {-2.0, 7.5, 0.041448497649083156345},
        {0.3, 1, 0.59277357907774234032},     {4.0, 2, 0.97140452079103168293},
        {2.0, 12.345, 0.96600233685954993484}, {1.0, 1e6, 0.84134462508321093536},
        {3.0, 1e8, 0.99865010163598125281},   {-30.0, 5, 3.859324310248025993e-7},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        assert_rel(rp_t_cdf(tab[i].t, tab[i].df), tab[i].F, 1e-10);
        assert_rel(rp_t_sf(-tab[i].t, tab[i].df), tab[i].F, 1e-10);   // symmetry
    }
    // a small upper tail keeps its digits (1 - CDF in doubles would keep ~5) [mpmath]
    assert_rel(rp_t_sf(10.0, 30), 2.2876257041148065963e-11, 1e-12);
    assert_rel(rp_t_pdf(0, 1), 1 / M_PI, 1e-14);   // Cauchy density at 0
    assert_rel(rp_t_pdf(1.3, INFINITY), exp(-0.845) / sqrt(2 * M_PI), 1e-14);
    // the regularized incomplete beta [mpmath] and closed forms I_x(1,1) = x, I_x(a,1) = x^a
    assert_rel(rp_beta_inc(2, 3, 0.3), 0.3483, 1e-13);
    assert_rel(rp_beta_inc(7.5, 0.5, 0.1), 6.7102896521057701481e-9, 1e-11);
    assert_rel(rp_beta_inc(200, 300, 0.41), 0.67762816477217934626, 1e-11);
    assert_rel(rp_beta_inc(1, 1, 0.37), 0.37, 1e-14);
    assert_rel(rp_beta_inc(3.5, 1, 0.6), pow(0.6, 3.5), 1e-13);
    assert_true(rp_beta_inc(2, 3, 0) == 0 && rp_beta_inc(2, 3, 1) == 1 && isnan(rp_beta_inc(0, 3, 0.5)));
    // symmetry I_x(a, b) + I_{1-x}(b, a) = 1 and I_1/2(a, a) = 1/2, across both branches and all
    // three ways of taking log B (small, one large, both large arguments)
    const double ab[] = {0.5, 1.7, 9, 12, 150, 2000};
    for (int i = 0; i < 6; i++) {
        assert_rel(rp_beta_inc(ab[i], ab[i], 0.5), 0.5, 1e-12);
        for (int j = 0; j < 6; j++)
            for (double x = 0.05; x < 1; x += 0.1) {
                double u = rp_beta_inc(ab[i], ab[j], x), v = rp_beta_inc(ab[j], ab[i], 1 - x);
                if (!(fabs(u + v - 1) < 1e-12)) fail_msg("a %g b %g x %g: %.17g + %.17g", ab[i], ab[j], x, u, v);
            }
    }
}

// quantile(cdf) round trip on fresh random df and p, including real df and extreme tails.
static void test_t_round_trip(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_report_infer t round trip"));
    for (int i = 0; i < 2000; i++) {
        double df = i % 3 ? 1 + 60 * rng_uniform_d(&r) : pow(10, 7 * rng_uniform_d(&r));
        double p = i % 2 ? rng_uniform_d(&r) : pow(10, -12 * rng_uniform_d(&r) - 1);
        if (!(p > 0)) continue;
        double t = rp_t_quantile(p, df), back = p < 0.5 ? rp_t_cdf(t, df) : rp_t_sf(t, df);
        double want = p < 0.5 ? p : 1 - p;
        if (!close_rel(back, want, 1e-9)) fail_msg("df %.17g p %.17g: t %.17g gives %.17g", df, p, t, back);
    }
}

static void test_normal(void **state) {
    (void)state;
    // [mpmath] sqrt(2)·erfinv(2p - 1)
    assert_rel(rp_norm_quantile(0.975), 1.9599639845400542355, 1e-14);
    assert_rel(rp_norm_quantile(0.8), 0.84162123357291420518, 1e-14);
    assert_rel(rp_norm_quantile(0.95), 1.6448536269514727149, 1e-14);
    assert_rel(rp_norm_quantile(0.999), 3.0902323061678135415, 1e-14);
    assert_rel(rp_norm_quantile(1e-10), -6.3613409024040562047, 1e-14);
    assert_true(rp_norm_quantile(0.5) == 0 && rp_norm_quantile(1) == INFINITY && isnan(rp_norm_quantile(-0.1)));
    for (double p = 1e-300; p < 0.5; p *= 10) assert_rel(rp_norm_cdf(rp_norm_quantile(p)), p, 1e-12);
    // the t with large df tends to it
    assert_rel(rp_t_quantile(0.975, 1e12), rp_norm_quantile(0.975), 1e-11);
}

// ---- comparisons ----
static void test_paired(void **state) {
    (void)state;
    // the last pair has a NAN and is skipped; differences -0.03 -0.02 -0.02 -0.04 0 -0.01
    double a[7] = {3.21, 3.18, 3.25, 3.19, 3.22, 3.30, NAN}, b[7] = {3.24, 3.20, 3.27, 3.23, 3.22, 3.31, 3.0};
    rp_cmp c = rp_cmp_paired(a, b, 7, 0.95);
    assert_true(c.ok);
    assert_int_equal(c.n1, 6);
    assert_true(c.df == 5);
    // [mpmath] on the decimal data; the double inputs differ from them by ~1e-16, which the
    // differences (~1e-2) turn into ~1e-13 relative
    assert_rel(c.diff, -0.02, 1e-12);
    assert_rel(c.sd, 0.014142135623730950488, 1e-11);
    assert_rel(c.se, 0.0057735026918962576451, 1e-11);
    assert_rel(c.t, -3.4641016151377545871, 1e-11);
    assert_rel(c.lo, -0.034841261147785890944, 1e-11);
    assert_rel(c.hi, -0.0051587388522141090561, 1e-11);
    assert_rel(c.p, 0.017962884609943947293, 1e-10);
    // too few pairs, and no spread
    assert_false(rp_cmp_paired(a, b, 1, 0.95).ok);
    double x[3] = {1, 2, 3}, y[3] = {0.5, 1.5, 2.5};
    c = rp_cmp_paired(x, y, 3, 0.95);
    assert_true(c.ok && c.se == 0 && c.lo == 0.5 && c.hi == 0.5 && c.p == 0 && isinf(c.t));
}

static void test_welch(void **state) {
    (void)state;
    double x[8] = {20.1, 22.4, 19.8, 21.7, 23.0, 20.9, 22.2, NAN};
    double y[10] = {18.2, 24.9, 16.1, 21.5, 26.3, 15.8, 19.4, 23.7, 17.9, 20.2};
    rp_cmp c = rp_cmp_welch(x, 8, y, 10, 0.95);
    assert_true(c.ok);
    assert_int_equal(c.n1, 7);
    assert_int_equal(c.n2, 10);
    // [mpmath]: Welch-Satterthwaite df 11.635..., well below the pooled 15
    assert_rel(c.diff, 1.0428571428571428571, 1e-12);
    assert_rel(c.se, 1.2371479892851502547, 1e-12);
    assert_rel(c.df, 11.635007470608651662, 1e-12);
    assert_rel(c.t, 0.84295262320211773947, 1e-12);
    assert_rel(c.lo, -1.6620650572732935606, 1e-10);
    assert_rel(c.hi, 3.7477793429875792749, 1e-10);
    assert_rel(c.p, 0.41624774829543641252, 1e-10);
    // equal variances and sizes: df = 2(n-1) exactly
    assert_rel(rp_welch_df(0.3, 5, 0.3, 5), 8, 1e-14);
    assert_true(isnan(rp_welch_df(0, 5, 0, 5)));
    assert_false(rp_cmp_welch(x, 1, y, 10, 0.95).ok);
}

static void test_mde(void **state) {
    (void)state;
    // (t_0.975,9 + t_0.8,9)·se and the normal limit (1.95996 + 0.84162)·se [mpmath]
    assert_rel(rp_mde(1, 9, 0.05, 0.8), 3.1455610224837400783, 1e-10);
    assert_rel(rp_mde(0.01, INFINITY, 0.05, 0.8), 0.028015852181129684407, 1e-12);
    assert_true(rp_mde(0.01, 4, RP_ALPHA, RP_POWER) > rp_mde(0.01, 40, RP_ALPHA, RP_POWER));
    assert_true(isnan(rp_mde(1, 9, 0.05, 1.2)));
}

static void test_tost(void **state) {
    (void)state;
    // the paired data above: diff -0.02, 90% interval [-0.03163, -0.00837] [mpmath]
    double a[6] = {3.21, 3.18, 3.25, 3.19, 3.22, 3.30}, b[6] = {3.24, 3.20, 3.27, 3.23, 3.22, 3.31};
    rp_cmp c = rp_cmp_paired(a, b, 6, 0.95);
    rp_tost t = rp_tost_of(&c, 0.04, RP_TOST_ALPHA);
    assert_true(t.ok && t.equivalent);
    assert_rel(t.lo, -0.031633887207739390586, 1e-11);
    assert_rel(t.hi, -0.0083661127922606094138, 1e-11);
    assert_rel(t.resolvable, 0.031633887207739390586, 1e-11);
    assert_true(t.p < RP_TOST_ALPHA);
    // the margin the data resolve is the boundary: just above it equivalent, just below not
    assert_true(rp_tost_of(&c, t.resolvable * 1.001, RP_TOST_ALPHA).equivalent);
    rp_tost no = rp_tost_of(&c, t.resolvable * 0.999, RP_TOST_ALPHA);
    assert_true(no.ok && !no.equivalent && no.p > RP_TOST_ALPHA);
    // planted: two samples of the same mean, tight, vs a real shift of 0.05
    rng_t r;
    rng_seed(&r, 42);
    double u[30], v[30], w[30];
    for (int i = 0; i < 30; i++) u[i] = 3 + 0.01 * rng_normal(&r), v[i] = 3 + 0.01 * rng_normal(&r), w[i] = v[i] + 0.05;
    rp_cmp same = rp_cmp_welch(u, 30, v, 30, 0.95), shifted = rp_cmp_welch(u, 30, w, 30, 0.95);
    assert_true(rp_tost_of(&same, 0.02, RP_TOST_ALPHA).equivalent);
    assert_false(rp_tost_of(&shifted, 0.02, RP_TOST_ALPHA).equivalent);
    assert_false(rp_tost_of(&same, 0, RP_TOST_ALPHA).ok);
}

// ---- bootstrap ----
static void test_boot_deterministic(void **state) {
    (void)state;
    double a[12], b[12];
    rng_t r;
    rng_seed(&r, 7);
    for (int i = 0; i < 12; i++) b[i] = 3 + 0.1 * rng_normal(&r), a[i] = 0.9 * b[i] + 0.05 * rng_normal(&r);
    for (int paired = 0; paired < 2; paired++) {
        rp_boot_ci x = rp_boot_ratio(a, 12, b, 12, paired, 0.95, 2000, 123);
        rp_boot_ci y = rp_boot_ratio(a, 12, b, 12, paired, 0.95, 2000, 123);
        rp_boot_ci z = rp_boot_ratio(a, 12, b, 12, paired, 0.95, 2000, 124);
        assert_true(x.ok && x.lo < x.est && x.est < x.hi);
        // same seed: the same bits
        assert_memory_equal(&x.lo, &y.lo, sizeof x.lo);
        assert_memory_equal(&x.hi, &y.hi, sizeof x.hi);
        assert_true(x.lo != z.lo || x.hi != z.hi);
        assert_int_equal(x.n_failed, 0);
    }
    // paired needs equal lengths; a pair with a NAN is dropped, as is a NAN in either sample
    assert_false(rp_boot_ratio(a, 12, b, 11, 1, 0.95, 100, 1).ok);
    double a2[13], b2[13];
    memcpy(a2, a, sizeof a), memcpy(b2, b, sizeof b);
    a2[12] = NAN, b2[12] = 100;
    for (int paired = 0; paired < 2; paired++) {
        rp_boot_ci x = rp_boot_ratio(a, 12, b, 12, paired, 0.95, 500, 3);
        rp_boot_ci y = rp_boot_ratio(a2, 13, paired ? b2 : b, paired ? 13 : 12, paired, 0.95, 500, 3);
        assert_true(x.lo == y.lo && x.hi == y.hi && x.est == y.est);
    }
    // pairing matters: a strongly correlated pair gives a much narrower ratio interval
    rp_boot_ci p = rp_boot_ratio(a, 12, b, 12, 1, 0.95, 2000, 5), u = rp_boot_ratio(a, 12, b, 12, 0, 0.95, 2000, 5);
    assert_true(p.hi - p.lo < u.hi - u.lo);
}

// 95% intervals of a known ratio cover it in most of many fresh data sets (measured 90-97% at
// n = 20; fewer than 45 of 60 happens once in ~5000 runs even at a true 90%).
static void test_boot_coverage(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_report_infer boot coverage"));
    int cover[2] = {0, 0}, trials = 60;
    for (int t = 0; t < trials; t++) {
        double a[20], b[20];
        for (int i = 0; i < 20; i++) b[i] = 3 + 0.2 * rng_normal(&r), a[i] = 0.8 * b[i] + 0.05 * rng_normal(&r);
        for (int paired = 0; paired < 2; paired++) {
            rp_boot_ci ci = rp_boot_ratio(a, 20, b, 20, paired, 0.95, 1000, rng_u64(&r));
            assert_true(ci.ok);
            cover[paired] += ci.lo <= 0.8 && 0.8 <= ci.hi;
        }
    }
    printf("ratio 0.8 covered: unpaired %d, paired %d of %d\n", cover[0], cover[1], trials);
    assert_true(cover[0] >= trials * 3 / 4 && cover[1] >= trials * 3 / 4);
}

// A planted small, noisy data set: the true ratio 0.9 lies between "no effect" 1 and a paper's
// 0.8, and four pairs cannot separate them -> inconclusive. Tight data decide both ways.
static void test_boot_verdict(void **state) {
    (void)state;
    double b[4] = {3.0, 3.6, 2.5, 3.2}, a[4] = {3.3, 2.8, 1.9, 3.0};   // ratio of means 0.894
    for (int paired = 0; paired < 2; paired++) {
        rp_boot_ci ci = rp_boot_ratio(a, 4, b, 4, paired, 0.95, RP_BOOT_N, 1);
        assert_true(ci.ok);
        assert_rel(ci.est, 11.0 / 12.3, 1e-14);
        assert_true(ci.lo < 0.8 && ci.hi > 1.0);   // paired [0.751, 1.048], unpaired [0.666, 1.144]
        assert_int_equal(rp_verdict_effect(ci.lo, ci.hi, 1, 0.8), RP_INCONCLUSIVE);
    }
    rp_boot_ci ci;
    double b2[6] = {3.0, 3.1, 2.9, 3.05, 2.95, 3.0}, a2[6], a3[6];
    for (int i = 0; i < 6; i++) a2[i] = 0.8 * b2[i] + 0.01 * (i % 3 - 1), a3[i] = b2[i] + 0.01 * (i % 3 - 1);
    ci = rp_boot_ratio(a2, 6, b2, 6, 1, 0.95, RP_BOOT_N, 1);
    assert_int_equal(rp_verdict_effect(ci.lo, ci.hi, 1, 0.8), RP_REPRODUCED);
    ci = rp_boot_ratio(a3, 6, b2, 6, 1, 0.95, RP_BOOT_N, 1);
    assert_true(ci.lo <= 1 && 1 <= ci.hi);
    assert_int_equal(rp_verdict_effect(ci.lo, ci.hi, 1, 0.8), RP_NOT_REPRODUCED);
}

// The generic engine: strata are resampled within themselves, and failures are counted.
typedef struct {
    const double *x;
    double fail_above;
} mean_ctx;
static int stratum_means(const rp_resample *r, void *vctx, double *out) {
    const mean_ctx *c = vctx;
    for (int g = 0; g < r->k; g++) {
        double s = 0;
        for (size_t i = 0; i < r->cnt[g]; i++) s += c->x[r->off[g] + r->idx[r->off[g] + i]];
        out[g] = s / (double)r->cnt[g];
        if (out[g] > c->fail_above) return 1;
    }
    return 0;
}
static void test_bootstrap_engine(void **state) {
    (void)state;
    // stratum 0: 1..4 (mean 2.5); stratum 1: one member (never varies); stratum 2: 10, 20
    double x[7] = {1, 2, 3, 4, 7, 10, 20};
    size_t cnt[3] = {4, 1, 2};
    mean_ctx c = {x, INFINITY};
    rp_boot_ci ci[3];
    assert_true(rp_bootstrap(cnt, 3, 3, stratum_means, &c, 0.95, 4000, 9, ci));
    assert_true(ci[0].est == 2.5 && ci[0].lo >= 1 && ci[0].hi <= 4 && ci[0].lo < 2.5 && ci[0].hi > 2.5);
    assert_true(ci[1].est == 7 && ci[1].lo == 7 && ci[1].hi == 7);
    assert_true(ci[2].est == 15 && ci[2].lo == 10 && ci[2].hi == 20);   // 1/4 of resamples at each end
    // failing every resample whose stratum-0 mean exceeds 3.5 (1/256 + 4/256 + ...: ~2%)
    c.fail_above = 3.5;
    assert_true(rp_bootstrap(cnt, 1, 1, stratum_means, &c, 0.95, 4000, 9, ci));
    assert_true(ci[0].n_failed > 0 && ci[0].n_failed <= RP_BOOT_MAX_FAIL * 4000);
    // failing about half: not ok, though the numbers are still filled
    c.fail_above = 2.5;
    assert_false(rp_bootstrap(cnt, 1, 1, stratum_means, &c, 0.95, 4000, 9, ci));
    assert_true(ci[0].n_failed > 4000 / 3 && isfinite(ci[0].lo));
}

// ---- the E5 fit bootstrap ----
#define FS 6
#define FSEEDS 5
static const double FIT_N[FS] = {1e4, 3e4, 1e5, 3e5, 1e6, 3e6};

// Seed losses from L(N) = A·N^-α + E plus noise, ragged seed counts (3..5).
static void synth(rng_t *r, double A, double alpha, double E, double noise, double loss[FS][FSEEDS], int *n_seeds) {
    for (int i = 0; i < FS; i++) {
        n_seeds[i] = 3 + i % 3;
        for (int j = 0; j < n_seeds[i]; j++) loss[i][j] = A * pow(FIT_N[i], -alpha) + E + noise * rng_normal(r);
    }
}

static rp_scaling view(double loss[FS][FSEEDS], const int *n_seeds, const double **rows) {
    for (int i = 0; i < FS; i++) rows[i] = loss[i];
    return (rp_scaling){FS, FIT_N, n_seeds, rows};
}

static const double ALPHA = 0.3, E0 = 2.0, RED0 = 1.5;   // truth; reducible loss RED0 at N = 1e4

// One fixed data set (a 95% interval misses the truth 1 time in 20 by design, so the exact
// assertions below use a fixed seed; test_fit_coverage checks fresh ones).
static void test_fit_bootstrap(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, 2026);
    const double alpha = ALPHA, E = E0, A = RED0 * pow(FIT_N[0], alpha);
    double l1[FS][FSEEDS], l2[FS][FSEEDS], l3[FS][FSEEDS];
    int n1[FS], n2[FS], n3[FS];
    const double *r1[FS], *r2[FS], *r3[FS];
    synth(&r, A, alpha, E, 0.01, l1, n1);
    synth(&r, A, alpha, E, 0.01, l2, n2);            // the same curve
    synth(&r, A, alpha, E + 0.2, 0.01, l3, n3);      // 10% apart at large N
    rp_scaling s1 = view(l1, n1, r1), s2 = view(l2, n2, r2), s3 = view(l3, n3, r3);
    const int nb = 300;
    rp_fit_boot same, apart;
    int ok = rp_fit_bootstrap(&s1, &s2, 0.95, nb, 11, &same);
    printf("fit bootstrap: alpha %.4f [%.4f, %.4f] E %.4f [%.4f, %.4f] gap %.4f [%.4f, %.4f], %d of %d failed\n",
           same.alpha1.est, same.alpha1.lo, same.alpha1.hi, same.E1.est, same.E1.lo, same.E1.hi, same.gap.est,
           same.gap.lo, same.gap.hi, same.n_failed, same.n_boot);
    assert_true(ok);
    assert_true(same.fit1.ok && same.fit2.ok);
    assert_true(same.alpha1.lo <= alpha && alpha <= same.alpha1.hi);
    assert_true(same.alpha2.lo <= alpha && alpha <= same.alpha2.hi);
    assert_true(same.E1.lo <= E && E <= same.E1.hi);
    assert_true(same.n_lo == 1e4 && same.n_hi == 3e6);
    assert_rel(same.gap.est, rp_fit_rel_gap(&same.fit1, &same.fit2, 1e4, 3e6), 1e-15);
    assert_int_equal(rp_verdict_at_most(same.gap.lo, same.gap.hi, GAP_APART), RP_REPRODUCED);
    assert_true(rp_fit_bootstrap(&s1, &s3, 0.95, nb, 11, &apart));
    assert_true(apart.gap.lo > GAP_APART);
    assert_int_equal(rp_verdict_at_most(apart.gap.lo, apart.gap.hi, RP_E5_OVERLAP), RP_NOT_REPRODUCED);
    // deterministic
    rp_fit_boot again;
    rp_fit_bootstrap(&s1, &s2, 0.95, nb, 11, &again);
    assert_memory_equal(&same.gap.lo, &again.gap.lo, sizeof(double));
    assert_memory_equal(&same.gap.hi, &again.gap.hi, sizeof(double));
    assert_memory_equal(&same.alpha1.lo, &again.alpha1.lo, sizeof(double));
    assert_memory_equal(&same.alpha1.hi, &again.alpha1.hi, sizeof(double));
    // one activation only: no gap
    rp_fit_boot one;
    assert_true(rp_fit_bootstrap(&s1, NULL, 0.95, 50, 3, &one));
    assert_false(one.gap.ok);
    // size ranges that do not overlap: α and E, but no gap
    {
        static const double Na[4] = {1e4, 3e4, 1e5, 3e5}, Nb[4] = {1e6, 3e6, 1e7, 3e7};
        double la[4][2], lb[4][2];
        const double *ra[4], *rb[4];
        int two[4] = {2, 2, 2, 2};
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) {
                la[i][j] = A * pow(Na[i], -alpha) + E + 0.001 * (2 * j - 1);
                lb[i][j] = A * pow(Nb[i], -alpha) + E + 0.001 * (2 * j - 1);
            }
            ra[i] = la[i], rb[i] = lb[i];
        }
        rp_scaling sa = {4, Na, two, ra}, sb = {4, Nb, two, rb};
        rp_fit_boot d;
        assert_true(rp_fit_bootstrap(&sa, &sb, 0.95, 50, 3, &d));
        assert_true(d.alpha1.ok && d.alpha2.ok && d.E2.ok && !d.gap.ok && d.n_lo > d.n_hi);
    }
    // too few sizes: every fit fails, counted
    s1.n_sizes = 2;
    assert_false(rp_fit_bootstrap(&s1, &s2, 0.95, 20, 3, &one));
    assert_int_equal(one.n_failed, 20);
}

// The α interval covers the truth on most fresh data sets (measured ~92% at 3-5 seeds per size).
static void test_fit_coverage(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_report_infer fit coverage"));
    const double A = RED0 * pow(FIT_N[0], ALPHA);
    int covered = 0, trials = 10;
    for (int t = 0; t < trials; t++) {
        double l[FS][FSEEDS];
        int n[FS];
        const double *rows[FS];
        synth(&r, A, ALPHA, E0, 0.01, l, n);
        rp_scaling s = view(l, n, rows);
        rp_fit_boot fb;
        assert_true(rp_fit_bootstrap(&s, NULL, 0.95, 200, rng_u64(&r), &fb));
        assert_true(fabs(fb.alpha1.est - ALPHA) < 0.1);
        covered += fb.alpha1.lo <= ALPHA && ALPHA <= fb.alpha1.hi;
    }
    printf("fit coverage: alpha in its 95%% interval %d of %d times\n", covered, trials);
    assert_true(covered >= 6);   // at 92% coverage this fails ~1 run in 1700
}

// ---- verdict rules on an interval ----
static void test_verdict_effect(void **state) {
    (void)state;
    // paper: a ratio of 0.8 (below "no effect" 1)
    assert_int_equal(rp_verdict_effect(0.7, 0.9, 1, 0.8), RP_REPRODUCED);    // excludes 1, below it
    assert_int_equal(rp_verdict_effect(0.9, 0.95, 1, 0.8), RP_REPRODUCED);   // smaller effect, same side
    assert_int_equal(rp_verdict_effect(1.05, 1.2, 1, 0.8), RP_NOT_REPRODUCED);   // the other side
    assert_int_equal(rp_verdict_effect(0.95, 1.05, 1, 0.8), RP_NOT_REPRODUCED);  // only "no effect"
    assert_int_equal(rp_verdict_effect(0.75, 1.05, 1, 0.8), RP_INCONCLUSIVE);    // both
    // end points count as inside
    assert_int_equal(rp_verdict_effect(0.8, 1.0, 1, 0.8), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_effect(0.81, 1.0, 1, 0.8), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_effect(0.7, 1.0, 1, 0.8), RP_INCONCLUSIVE);
    // a difference with the paper's effect above 0
    assert_int_equal(rp_verdict_effect(0.01, 0.03, 0, 0.02), RP_REPRODUCED);
    assert_int_equal(rp_verdict_effect(-0.03, -0.01, 0, 0.02), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_effect(-0.01, 0.03, 0, 0.02), RP_INCONCLUSIVE);
    // no direction, or no interval
    assert_int_equal(rp_verdict_effect(0.7, 0.9, 1, 1), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_effect(NAN, 0.9, 1, 0.8), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_effect(0.9, 0.7, 1, 0.8), RP_INCONCLUSIVE);
}

static void test_verdict_bounds(void **state) {
    (void)state;
    assert_int_equal(rp_verdict_at_most(0.002, 0.008, RP_E5_OVERLAP), RP_REPRODUCED);
    assert_int_equal(rp_verdict_at_most(0.002, 0.01, RP_E5_OVERLAP), RP_REPRODUCED);   // at the bound
    assert_int_equal(rp_verdict_at_most(0.005, 0.02, RP_E5_OVERLAP), RP_INCONCLUSIVE);  // straddles
    assert_int_equal(rp_verdict_at_most(0.02, 0.05, RP_E5_OVERLAP), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_at_most(NAN, 0.05, RP_E5_OVERLAP), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_equivalent(-0.005, 0.008, 0.01), RP_REPRODUCED);
    assert_int_equal(rp_verdict_equivalent(-0.005, 0.01, 0.01), RP_INCONCLUSIVE);   // strictly inside
    assert_int_equal(rp_verdict_equivalent(0.005, 0.03, 0.01), RP_INCONCLUSIVE);
    assert_int_equal(rp_verdict_equivalent(0.012, 0.03, 0.01), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_equivalent(-0.03, -0.012, 0.01), RP_NOT_REPRODUCED);
    assert_int_equal(rp_verdict_equivalent(-0.005, 0.008, 0), RP_INCONCLUSIVE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_quantile_table), cmocka_unit_test(test_t_cdf_values),
        cmocka_unit_test(test_t_round_trip),     cmocka_unit_test(test_normal),
        cmocka_unit_test(test_paired),           cmocka_unit_test(test_welch),
        cmocka_unit_test(test_mde),              cmocka_unit_test(test_tost),
        cmocka_unit_test(test_boot_deterministic), cmocka_unit_test(test_boot_coverage),
        cmocka_unit_test(test_boot_verdict),     cmocka_unit_test(test_bootstrap_engine),
        cmocka_unit_test(test_fit_bootstrap),    cmocka_unit_test(test_fit_coverage),
        cmocka_unit_test(test_verdict_effect),
        cmocka_unit_test(test_verdict_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
