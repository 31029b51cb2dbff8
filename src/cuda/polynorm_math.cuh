// polynorm_math.cuh — PolyNorm's row math as __host__ __device__ code, shared by the kernels of
// polynorm.cu and the host check (host_eval.cu). All in double, like the CPU reference. (No
// `#pragma unroll` here: the host compiler would warn; nvcc unrolls these constant-trip loops.)
//   y = w0·N(x³) + w1·N(x²) + w2·N(x) + b,   N(v) = v / sqrt(mean(v²) + ε),  ε = 1e-6.
#ifndef ACTLAB_CUDA_POLYNORM_MATH_CUH
#define ACTLAB_CUDA_POLYNORM_MATH_CUH

#include "common.cuh"

#include <math.h>

namespace actcu {

constexpr double kPnEps = 1e-6;

HD double pn_rstd(double sum, double d) { return 1.0 / sqrt(sum / d + kPnEps); }

// Forward sums of one row: Σx², Σx⁴, Σx⁶.
template <int N> HD void pn_add_moments(const float (&v)[N], double *acc) {
    for (int k = 0; k < N; k++) {
        double x = v[k], x2 = x * x, x4 = x2 * x2;
        acc[0] += x2;
        acc[1] += x4;
        acc[2] += x4 * x2;
    }
}

// Backward sums: the three moments, then S_p = Σ g·x^p for p = 0..3.
template <int N> HD void pn_add_bwd_sums(const float (&v)[N], const float (&g)[N], double *acc) {
    pn_add_moments<N>(v, acc);
    for (int k = 0; k < N; k++) {
        double x = v[k], gd = g[k], gx = gd * x, gx2 = gx * x;
        acc[3] += gd;
        acc[4] += gx;
        acc[5] += gx2;
        acc[6] += gx2 * x;
    }
}

// y = ((c3·v + c2)·v + c1)·v + b, c_p = w_p·rstd_p (w cubic-first, then the bias).
struct PnForward {
    double c3, c2, c1, b;
    HD PnForward(const double *m, double d, const float *w)
        : c3(w[0] * pn_rstd(m[2], d)), c2(w[1] * pn_rstd(m[1], d)), c1(w[2] * pn_rstd(m[0], d)), b(w[3]) {}
    HD float operator()(float v) const {
        double t = v;
        return (float)(((c3 * t + c2) * t + c1) * t + b);
    }
};

// With g = dy, S_p = Σ_row g·x^p (ACTIVATIONS.md):
//   dx = Σ_p w_p·( p·x^(p−1)·rstd_p·g − (p/d)·x^(2p−1)·rstd_p³·S_p ),
//   dparams += (rstd_3·S_3, rstd_2·S_2, rstd_1·S_1, S_0).
struct PnBackward {
    double g1, g2, g3, k1, k2, k3, dp[4];
    HD PnBackward(const double *acc, double d, const float *w) {
        const double w0 = w[0], w1 = w[1], w2 = w[2];
        const double r1 = pn_rstd(acc[0], d), r2 = pn_rstd(acc[1], d), r3 = pn_rstd(acc[2], d);
        const double S0 = acc[3], S1 = acc[4], S2 = acc[5], S3 = acc[6];
        g1 = w2 * r1, g2 = 2.0 * w1 * r2, g3 = 3.0 * w0 * r3;
        k1 = w2 * r1 * r1 * r1 * S1 / d;
        k2 = 2.0 * w1 * r2 * r2 * r2 * S2 / d;
        k3 = 3.0 * w0 * r3 * r3 * r3 * S3 / d;
        dp[0] = r3 * S3, dp[1] = r2 * S2, dp[2] = r1 * S1, dp[3] = S0;
    }
    HD float operator()(float v, float g) const {
        double t = v, gd = g, t2 = t * t;  // Horner forms: fewest FP64 operations
        double direct = ((g3 * t + g2) * t + g1) * gd;
        double coupled = t * ((k3 * t2 + k2) * t2 + k1);
        return (float)(direct - coupled);
    }
};

}  // namespace actcu

#endif
