// stats.h — tensor statistics for training telemetry (E1: outlier bands; Fishman et al.: gate/value
// row alignment). Deterministic: the same input gives the same bits on every run and thread count.
#ifndef ACTLAB_STATS_H
#define ACTLAB_STATS_H

#include <stddef.h>

// Quantiles are exact (order statistics of every finite element) up to this many elements; above
// it they come from a fixed strided subset of about this many elements (every ceil(n/MAX)-th one).
#define STATS_EXACT_MAX ((size_t)1 << 22)

typedef struct {
    size_t n;            // elements looked at
    size_t n_nonfinite;  // NaN/Inf elements: counted here and left out of everything else
    size_t n_quantile;   // elements the quantiles were taken over (n - n_nonfinite when exact)
    float min, max, amax;
    float p1, p50, p99, p999;  // linear interpolation between order statistics (numpy's default)
    double mean, rms;
    double kurtosis;     // Pearson (non-excess): E[(x-mean)^4] / var^2, 3 for a Gaussian; 0 if var = 0
} tensor_stats;

// x: (n). Works on a private copy; x is not modified.
void stats_compute(const float *x, size_t n, tensor_stats *out);

// Fraction of the finite elements of x (n) strictly above thr (0 when none is finite).
double stats_frac_above(const float *x, size_t n, float thr);

// The q-quantile (0 <= q <= 1) of v (n finite values), reordering v in place. Exact.
float stats_quantile_inplace(float *v, size_t n, double q);

// Mean over rows of |cos(a_r, b_r)|: a, b: (rows, cols). A zero row counts as cosine 0.
double stats_mean_abs_row_cosine(const float *a, const float *b, int rows, int cols);

#endif
