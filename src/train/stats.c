// stats.c — see stats.h.
#include "train/stats.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>

static void swapf(float *a, float *b) { float t = *a; *a = *b; *b = t; }

// Quickselect with a median-of-three pivot (Hoare-style partition): v[k] ends as the k-th smallest,
// everything before it <= it, everything after it >= it. Deterministic: no random pivots.
static void select_kth(float *v, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo]) swapf(&v[mid], &v[lo]);
        if (v[hi] < v[lo]) swapf(&v[hi], &v[lo]);
        if (v[hi] < v[mid]) swapf(&v[hi], &v[mid]);
        float pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                swapf(&v[i], &v[j]);
                i++;
                if (j == 0) break;
                j--;
            }
        }
        // Now [lo, j] <= pivot <= [i, hi], and anything strictly between j and i equals the pivot.
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return;
    }
}

float stats_quantile_inplace(float *v, size_t n, double q) {
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    if (k >= n - 1) k = n - 1;
    double frac = pos - (double)k;
    select_kth(v, n, k);
    float lo = v[k];
    if (frac == 0 || k + 1 >= n) return lo;
    float hi = v[k + 1];  // after selection the (k+1)-th smallest is the minimum of the tail
    for (size_t i = k + 2; i < n; i++)
        if (v[i] < hi) hi = v[i];
    return (float)((double)lo + frac * ((double)hi - (double)lo));
}

void stats_compute(const float *x, size_t n, tensor_stats *o) {
    o->n = n;
    o->n_nonfinite = 0;
    double sum = 0, sumsq = 0;
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) { o->n_nonfinite++; continue; }
        sum += v;
        sumsq += (double)v * v;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    size_t nf = n - o->n_nonfinite;
    if (nf == 0) {
        o->n_quantile = 0;
        o->min = o->max = o->amax = o->p1 = o->p50 = o->p99 = o->p999 = NAN;
        o->mean = o->rms = o->kurtosis = NAN;
        return;
    }
    o->min = mn;
    o->max = mx;
    o->amax = fabsf(mn) > fabsf(mx) ? fabsf(mn) : fabsf(mx);
    o->mean = sum / (double)nf;
    o->rms = sqrt(sumsq / (double)nf);
    double m2 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        double d = (double)x[i] - o->mean, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    m2 /= (double)nf;
    m4 /= (double)nf;
    o->kurtosis = m2 > 0 ? m4 / (m2 * m2) : 0;

    size_t stride = n <= STATS_EXACT_MAX ? 1 : (n + STATS_EXACT_MAX - 1) / STATS_EXACT_MAX;
    float *copy = xmalloc((n / stride + 1) * sizeof(float));
    size_t m = 0;
    for (size_t i = 0; i < n; i += stride)
        if (isfinite(x[i])) copy[m++] = x[i];
    o->n_quantile = m;
    // Several selections on one buffer: each only needs the values, which selection permutes.
    o->p1 = m ? stats_quantile_inplace(copy, m, 0.01) : NAN;
    o->p50 = m ? stats_quantile_inplace(copy, m, 0.50) : NAN;
    o->p99 = m ? stats_quantile_inplace(copy, m, 0.99) : NAN;
    o->p999 = m ? stats_quantile_inplace(copy, m, 0.999) : NAN;
    free(copy);
}

double stats_frac_above(const float *x, size_t n, float thr) {
    size_t finite = 0, above = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        finite++;
        above += x[i] > thr;
    }
    return finite ? (double)above / (double)finite : 0;
}

double stats_mean_abs_row_cosine(const float *a, const float *b, int rows, int cols) {
    if (rows <= 0) return 0;
    double total = 0;
    for (int r = 0; r < rows; r++) {
        const float *x = a + (size_t)r * cols, *y = b + (size_t)r * cols;
        double xy = 0, xx = 0, yy = 0;
        for (int c = 0; c < cols; c++) {
            xy += (double)x[c] * y[c];
            xx += (double)x[c] * x[c];
            yy += (double)y[c] * y[c];
        }
        if (xx > 0 && yy > 0) total += fabs(xy) / sqrt(xx * yy);
    }
    return total / rows;
}
