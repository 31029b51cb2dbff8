// rmsnorm.c — RMSNorm with a learnable gain: y = x · rstd · g, rstd = 1/sqrt(mean(x²) + eps).
#include "layers.h"

#include <math.h>

// x: (N,C), g: (C) -> y: (N,C), rstd: (N)
void rmsnorm_forward(float *y, float *rstd, const float *x, const float *g, int N, int C, float eps) {
#pragma omp parallel for schedule(static) if ((size_t)N * C >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *xi = x + (size_t)i * C;
        float *yi = y + (size_t)i * C;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int c = 0; c < C; c++) ss += xi[c] * xi[c];
        float r = 1.0f / sqrtf(ss / (float)C + eps);
        rstd[i] = r;
        for (int c = 0; c < C; c++) yi[c] = xi[c] * r * g[c];
    }
}

// dy: (N,C) -> dx: (N,C) +=, dg: (C) +=
// With n = x·rstd:  dx = rstd · (g⊙dy − n · mean(g⊙dy⊙n)),  dg = Σ_rows dy⊙n.
void rmsnorm_backward(float *dx, float *dg, const float *dy, const float *x, const float *g,
                      const float *rstd, int N, int C) {
#pragma omp parallel if ((size_t)N * C >= PAR_MIN)
    {
#pragma omp for schedule(static)
        for (int i = 0; i < N; i++) {
            const float *xi = x + (size_t)i * C, *dyi = dy + (size_t)i * C;
            float *dxi = dx + (size_t)i * C;
            float r = rstd[i], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int c = 0; c < C; c++) dot += g[c] * dyi[c] * xi[c];
            float k = dot * r * r / (float)C;  // mean(g⊙dy⊙n) / rstd
            for (int c = 0; c < C; c++) dxi[c] += r * (g[c] * dyi[c] - xi[c] * k);
        }
        // dg: threads split the columns (one cache line each), rows summed in order in double.
        enum { CB = 16 };
        int nblk = (C + CB - 1) / CB;
#pragma omp for schedule(static)
        for (int blk = 0; blk < nblk; blk++) {
            int c0 = blk * CB, w = C - c0 < CB ? C - c0 : CB;
            double acc[CB] = {0};
            for (int i = 0; i < N; i++) {
                const float *xi = x + (size_t)i * C + c0, *dyi = dy + (size_t)i * C + c0;
                double r = rstd[i];
                for (int c = 0; c < w; c++) acc[c] += (double)dyi[c] * xi[c] * r;
            }
            for (int c = 0; c < w; c++) dg[c0 + c] += (float)acc[c];
        }
    }
}
