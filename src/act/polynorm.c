// polynorm.c — PolyNorm (PolyCom, order 3) over one row (one token's FFN hidden vector):
//   y = w0·N(x³) + w1·N(x²) + w2·N(x) + b,   N(v) = v / sqrt(mean(v²) + ε),  ε = 1e-6.
// Backward, with g = dy, v_p = x^p, S_p = Σ g·v_p (ACTIVATIONS.md):
//   dx = Σ_p w_p·( p·x^(p−1)·rstd_p·g − (p/d)·x^(2p−1)·rstd_p³·S_p ),  dw_p += rstd_p·S_p,  db += Σ g.
//
// Two paths, chosen per row from that row's own sums (never by thread count or position):
//  - f32, every realistic row: the sums run in f32 vector lanes flushed to double every FLUSH
//    elements (f32 rounding then reaches 16 terms per lane, not d/32); the row constants are folded
//    in double and rounded once; the per-element pass is f32 with fmaf. Taken when the sums are
//    finite, mean(x⁶) ≤ 1e24 and ‖dy‖·max|w| ≤ 1e20: every f32 product and row constant then stays
//    far from overflow, and rstd_3 ≥ 1e-12 keeps the constants normal where they matter.
//  - double (|x| beyond ~1e4·d^(1/6), enormous gradients, NaN or inf anywhere in the row): the
//    statistics and the products x^p·rstd_p in double, since Σx⁶ overflows f32 once |x| > 2.6e6 and
//    x³ once |x| > 7e12, while the normalised values stay small.
// Both passes of a row read it from L1; before, the double path alone cost 1.9× the memory floor
// forward and 2.7× forward+backward.
#include "kernels.h"
#include "lanes.h"

#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define POLYNORM_EPS 1e-6
#define F32_MEAN_X6_MAX 1e24
#define F32_GRAD_MAX 1e20
#define FLUSH 256  // elements per f32 partial sum: 16 terms in each of VW lanes
#define LANES 8    // double path: independent partial sums, so the order never changes

// VW elements from i of an f32 or bf16 row, as f32 (a bf16 is the high half of its f32).
AM_INLINE vf vload(const void *p, size_t i, act_dtype dt) {
    vf v;
    if (dt == ACT_F32) {
        memcpy(&v, (const float *)p + i, sizeof v);
    } else {
        vh h;
        memcpy(&h, (const uint16_t *)p + i, sizeof h);
        v = (vf)(__builtin_convertvector(h, vu) << 16);
    }
    return v;
}

// a·b + c rounded once in every lane (GCC folds the loop into one vfmadd).
AM_INLINE vf vfma(vf a, vf b, vf c) {
    vf r;
    for (int l = 0; l < VW; l++) r[l] = AM_FMAF(a[l], b[l], c[l]);
    return r;
}

// Row sums: 0..2 Σx², Σx⁴, Σx⁶; with dy also 3..7 Σg, Σg·x, Σg·x², Σg·x³, Σg² (the last only
// bounds |g| for the path test). One vector accumulator per sum, in named locals: GCC kept an
// indexed array of them in memory (a store-forward per add), and with 3 or 8 independent chains
// the loop is bound by throughput, not by the adds' latency.
#define NSUM 8

AM_INLINE void flush(vd *acc, vf *a, int k) {
    acc[k] += __builtin_convertvector(*a, vd);
    *a = (vf){0};
}

// out[k] = the row's sum k (k < nsum), always added in the same order; dy is read only if nsum = 8.
// The tail is zero-padded: a zero adds exactly nothing to any sum.
AM_INLINE void row_sums(const void *restrict x, const void *restrict dy, size_t d, int nsum, double *out,
                        act_dtype dt) {
    vd acc[NSUM] = {{0}};
    vf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (size_t i = 0; i < d; i += VW) {
        vf v, g = {0};
        if (d - i >= VW) {
            v = vload(x, i, dt);
            if (nsum > 3) g = vload(dy, i, dt);
        } else {
            float tx[VW] = {0}, tg[VW] = {0};
            for (size_t j = i; j < d; j++) {
                tx[j - i] = act_ld(x, j, dt);
                if (nsum > 3) tg[j - i] = act_ld(dy, j, dt);
            }
            v = vload(tx, 0, ACT_F32), g = vload(tg, 0, ACT_F32);
        }
        vf v2 = v * v, v3 = v2 * v;
        a0 += v2;
        a1 = vfma(v2, v2, a1);
        a2 = vfma(v3, v3, a2);
        if (nsum > 3) {
            vf gv = g * v;
            a3 += g;
            a4 += gv;
            a5 = vfma(gv, v, a5);
            a6 = vfma(gv, v2, a6);
            a7 = vfma(g, g, a7);
        }
        if ((i + VW) % FLUSH == 0 || i + VW >= d) {
            flush(acc, &a0, 0), flush(acc, &a1, 1), flush(acc, &a2, 2);
            if (nsum > 3) flush(acc, &a3, 3), flush(acc, &a4, 4), flush(acc, &a5, 5), flush(acc, &a6, 6), flush(acc, &a7, 7);
        }
    }
    for (int k = 0; k < nsum; k++) {
        double t = 0;
        for (int l = 0; l < VW; l++) t += acc[k][l];
        out[k] = t;
    }
}

static double rstd_of(double sum, size_t d) { return 1.0 / sqrt(sum / (double)d + POLYNORM_EPS); }

// The f32 path's condition (the header says why); false for NaN.
static int f32_row_ok(const double *sums, int nsum, size_t d, const float *w) {
    for (int k = 0; k < nsum; k++)
        if (!isfinite(sums[k])) return 0;
    if (!(sums[2] / (double)d <= F32_MEAN_X6_MAX)) return 0;
    if (nsum > 3) {
        double wmax = fmax(fmax(fabs(w[0]), fabs(w[1])), fmax(fabs(w[2]), fabs(w[3])));
        if (!(sqrt(sums[7]) * fmax(wmax, 1.0) <= F32_GRAD_MAX)) return 0;
    }
    return 1;
}

// The double path (the header says when).
typedef struct {
    double rstd[4];  // rstd[p] for p = 1, 2, 3
} row_stats;

static row_stats polynorm_stats(const float *x, size_t d) {
    double a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= d; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double v = x[i + l], v2 = v * v;
            a1[l] += v2;
            a2[l] += v2 * v2;
            a3[l] += v2 * v2 * v2;
        }
    for (int l = 0; i < d; i++, l++) {
        double v = x[i], v2 = v * v;
        a1[l] += v2;
        a2[l] += v2 * v2;
        a3[l] += v2 * v2 * v2;
    }
    double s1 = 0, s2 = 0, s3 = 0;
    for (int l = 0; l < LANES; l++) {
        s1 += a1[l];
        s2 += a2[l];
        s3 += a3[l];
    }
    row_stats st;
    st.rstd[0] = 0;
    st.rstd[1] = 1.0 / sqrt(s1 / (double)d + POLYNORM_EPS);
    st.rstd[2] = 1.0 / sqrt(s2 / (double)d + POLYNORM_EPS);
    st.rstd[3] = 1.0 / sqrt(s3 / (double)d + POLYNORM_EPS);
    return st;
}

static void forward_wide(const float *restrict x, float *restrict y, size_t d, const float *w) {
    row_stats st = polynorm_stats(x, d);
    const double c3 = w[0] * st.rstd[3], c2 = w[1] * st.rstd[2], c1 = w[2] * st.rstd[1], b = w[3];
#pragma omp simd
    for (size_t i = 0; i < d; i++) {
        double v = x[i];
        y[i] = (float)(((c3 * v + c2) * v + c1) * v + b);
    }
}

static void backward_wide(const float *restrict x, const float *restrict dy, float *restrict dx, size_t d,
                          const float *w, double *dparams) {
    row_stats st = polynorm_stats(x, d);
    double a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0}, a0[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= d; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double v = x[i + l], g = dy[i + l];
            a0[l] += g;
            a1[l] += g * v;
            a2[l] += g * v * v;
            a3[l] += g * v * v * v;
        }
    for (int l = 0; i < d; i++, l++) {
        double v = x[i], g = dy[i];
        a0[l] += g;
        a1[l] += g * v;
        a2[l] += g * v * v;
        a3[l] += g * v * v * v;
    }
    double S0 = 0, S1 = 0, S2 = 0, S3 = 0;
    for (int l = 0; l < LANES; l++) {
        S0 += a0[l];
        S1 += a1[l];
        S2 += a2[l];
        S3 += a3[l];
    }
    const double r1 = st.rstd[1], r2 = st.rstd[2], r3 = st.rstd[3], dd = (double)d;
    // Per-element terms, with the row constants folded once.
    const double g1 = w[2] * r1, g2 = 2.0 * w[1] * r2, g3 = 3.0 * w[0] * r3;
    // (rstd·S) first: for huge inputs rstd³ alone underflows double while rstd·S is O(1).
    const double k1 = w[2] * (r1 * S1) * r1 * r1 / dd;
    const double k2 = 2.0 * w[1] * (r2 * S2) * r2 * r2 / dd;
    const double k3 = 3.0 * w[0] * (r3 * S3) * r3 * r3 / dd;
#pragma omp simd
    for (size_t j = 0; j < d; j++) {
        double v = x[j], g = dy[j], v2 = v * v;
        double direct = (g3 * v2 + g2 * v + g1) * g;
        double coupled = k1 * v + k2 * v2 * v + k3 * v2 * v2 * v;
        dx[j] = (float)(direct - coupled);
    }
    dparams[0] += r3 * S3;
    dparams[1] += r2 * S2;
    dparams[2] += r1 * S1;
    dparams[3] += S0;
}

// A bf16 row on the double path is widened first (such rows are rare; this path was never fast).
static float *widen(const void *p, size_t d) {
    float *b = xmalloc(d * sizeof(float));
    num_bf16_to_f32_array(p, b, d);
    return b;
}

void polynorm_row_forward(const void *restrict x, void *restrict y, size_t d, const float *w, act_dtype dt) {
    double s[3];
    row_sums(x, NULL, d, 3, s, dt);
    if (!f32_row_ok(s, 3, d, w)) {
        if (dt == ACT_F32) {
            forward_wide(x, y, d, w);
        } else {
            float *bx = widen(x, d), *by = xmalloc(d * sizeof(float));
            forward_wide(bx, by, d, w);
            num_f32_to_bf16_array(by, y, d);
            free(bx), free(by);
        }
        return;
    }
    const float c3 = (float)(w[0] * rstd_of(s[2], d)), c2 = (float)(w[1] * rstd_of(s[1], d));
    const float c1 = (float)(w[2] * rstd_of(s[0], d)), b = w[3];
#pragma omp simd
    for (size_t i = 0; i < d; i++) {
        float v = act_ld(x, i, dt);
        act_st(y, i, AM_FMAF(AM_FMAF(AM_FMAF(c3, v, c2), v, c1), v, b), dt);
    }
}

void polynorm_row_backward(const void *restrict x, const void *restrict dy, void *restrict dx, size_t d,
                           const float *w, double *dparams, act_dtype dt) {
    double s[NSUM];
    row_sums(x, dy, d, NSUM, s, dt);
    if (!f32_row_ok(s, NSUM, d, w)) {
        if (dt == ACT_F32) {
            backward_wide(x, dy, dx, d, w, dparams);
        } else {
            float *bx = widen(x, d), *bdy = widen(dy, d), *bdx = xmalloc(d * sizeof(float));
            backward_wide(bx, bdy, bdx, d, w, dparams);
            num_f32_to_bf16_array(bdx, dx, d);
            free(bx), free(bdy), free(bdx);
        }
        return;
    }
    const double r1 = rstd_of(s[0], d), r2 = rstd_of(s[1], d), r3 = rstd_of(s[2], d), dd = (double)d;
    const double S0 = s[3], S1 = s[4], S2 = s[5], S3 = s[6];
    const float g1 = (float)(w[2] * r1), g2 = (float)(2.0 * w[1] * r2), g3 = (float)(3.0 * w[0] * r3);
    const float k1 = (float)(w[2] * (r1 * S1) * r1 * r1 / dd);
    const float k2 = (float)(2.0 * w[1] * (r2 * S2) * r2 * r2 / dd);
    const float k3 = (float)(3.0 * w[0] * (r3 * S3) * r3 * r3 / dd);
#pragma omp simd
    for (size_t j = 0; j < d; j++) {
        float v = act_ld(x, j, dt), v2 = v * v;
        float direct = AM_FMAF(AM_FMAF(g3, v, g2), v, g1);  // ·g below
        float coupled = v * AM_FMAF(AM_FMAF(k3, v2, k2), v2, k1);
        act_st(dx, j, AM_FMAF(direct, act_ld(dy, j, dt), -coupled), dt);
    }
    dparams[0] += r3 * S3;
    dparams[1] += r2 * S2;
    dparams[2] += r1 * S1;
    dparams[3] += S0;
}
