// rmsnorm.c — RMSNorm with a learnable gain: y = x · rstd · g, rstd = 1/sqrt(mean(x²) + eps).
#include "layers.h"

#include "util/check.h"

#include <math.h>
#include <stdlib.h>

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

// Rows per partial sum of dg. Fixed, so the sum's order (and its bits) does not depend on the
// thread count: chunk partials in row order, then the partials in chunk order.
enum { DG_ROWS = 256 };

// dy: (N,C) -> dx: (N,C) +=, dg: (C) +=
// With n = x·rstd:  dx = rstd · (g⊙dy − n · mean(g⊙dy⊙n)),  dg = Σ_rows dy⊙n.
// One pass over the rows: dg's terms are added while a row is in L1 for dx (a separate column-wise
// pass re-read both arrays with a stride that thrashed L1).
void rmsnorm_backward(float *dx, float *dg, const float *dy, const float *x, const float *g,
                      const float *rstd, int N, int C) {
    int chunks = (N + DG_ROWS - 1) / DG_ROWS;
    double *part = xmalloc(sizeof(double) * (size_t)chunks * C);
#pragma omp parallel if ((size_t)N * C >= PAR_MIN)
    {
#pragma omp for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            double *acc = part + (size_t)ch * C;
            for (int c = 0; c < C; c++) acc[c] = 0.0;
            int i1 = (ch + 1) * DG_ROWS < N ? (ch + 1) * DG_ROWS : N;
            for (int i = ch * DG_ROWS; i < i1; i++) {
                const float *xi = x + (size_t)i * C, *dyi = dy + (size_t)i * C;
                float *dxi = dx + (size_t)i * C;
                float r = rstd[i], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                for (int c = 0; c < C; c++) dot += g[c] * dyi[c] * xi[c];
                float k = dot * r * r / (float)C;  // mean(g⊙dy⊙n) / rstd
                double rd = r;
#pragma omp simd
                for (int c = 0; c < C; c++) {
                    dxi[c] += r * (g[c] * dyi[c] - xi[c] * k);
                    acc[c] += (double)dyi[c] * xi[c] * rd;
                }
            }
        }
#pragma omp for schedule(static)
        for (int c = 0; c < C; c++) {
            double sum = 0.0;
            for (int ch = 0; ch < chunks; ch++) sum += part[(size_t)ch * C + c];
            dg[c] += (float)sum;
        }
    }
    free(part);
}
