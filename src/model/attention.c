// attention.c — causal multi-head attention with grouped-query heads, on the CPU.
//
// Memory: the (T,T) probability matrix is never stored. The forward keeps one log-sum-exp per
// score row; the backward recomputes the probabilities block by block from it (the recompute
// costs one extra Q·Kᵀ product, about 1/5 of the attention FLOPs, in exchange for O(T) rather
// than O(T²) memory per head: at T = 1024, B = 16, 4 heads that is 256 KiB of lse instead of
// 256 MiB of probabilities per layer).
//
// Work is split into blocks of RB query rows. A block only multiplies against the keys up to its
// last row, so the causal upper triangle is (almost) never computed. Each OpenMP thread owns
// whole heads and calls single-threaded sgemm on them (OpenBLAS's pool stays at one thread, see
// linear.c).
#include "layers.h"

#include "act/vmath.h"
#include "util/check.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RB = 64 };  // query rows per block: large enough for sgemm, small enough to skip most of the triangle

// Softmax of the causal prefix of one score row, in place: s[0..len) -> probabilities,
// s[len..n) -> 0. Returns the row's log-sum-exp.
static float causal_softmax_row(float *s, int len, int n) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < len; j++) mx = s[j] > mx ? s[j] : mx;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < len; j++) {
        s[j] = am_expf(s[j] - mx);
        sum += s[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < len; j++) s[j] *= inv;
    for (int j = len; j < n; j++) s[j] = 0.0f;
    return mx + logf(sum);
}

// qkv: (B,T,(H+2Hkv)·D) -> out: (B,T,H·D), lse: (B,H,T)
void attention_forward(float *out, float *lse, const float *qkv, int B, int T, int H, int Hkv, int D) {
    int ld = (H + 2 * Hkv) * D, od = H * D, grp = H / Hkv;
    float scale = 1.0f / sqrtf((float)D);
    blas_set_threads(1);
#pragma omp parallel if ((size_t)B * H * T * T * D >= 64 * PAR_MIN)
    {
        float *S = xmalloc(sizeof(float) * RB * (size_t)T);  // (RB, T) scores of one row block
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            int b = bh / H, h = bh % H, kvh = h / grp;
            const float *q = qkv + (size_t)b * T * ld + (size_t)h * D;
            const float *k = qkv + (size_t)b * T * ld + (size_t)(H + kvh) * D;
            const float *v = qkv + (size_t)b * T * ld + (size_t)(H + Hkv + kvh) * D;
            float *o = out + (size_t)b * T * od + (size_t)h * D;
            float *L = lse + (size_t)bh * T;
            for (int i0 = 0; i0 < T; i0 += RB) {
                int m = T - i0 < RB ? T - i0 : RB, n = i0 + m;  // rows i0..n-1 see keys 0..n-1
                // S (m,n) = scale · Q[i0:n] · K[0:n]ᵀ
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, D, scale, q + (size_t)i0 * ld, ld,
                            k, ld, 0.0f, S, n);
                for (int r = 0; r < m; r++) L[i0 + r] = causal_softmax_row(S + (size_t)r * n, i0 + r + 1, n);
                // O[i0:n] (m,D) = P · V[0:n]
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, D, n, 1.0f, S, n, v, ld, 0.0f,
                            o + (size_t)i0 * od, od);
            }
        }
        free(S);
    }
}

// dout: (B,T,H·D) -> dqkv: (B,T,(H+2Hkv)·D)
// With P the probabilities, dO the output gradient and Dᵢ = dOᵢ·Oᵢ:
//   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q.
// A block works on the transposes Pᵀ, dSᵀ (keys × queries): probabilities then come from
// Sᵀ = K·Qᵀ elementwise (each query's lse is known), and four of the five products are plain or
// B-transposed, which OpenBLAS runs through its small-matrix kernels; only dQ needs Aᵀ.
// Threads split (batch, kv head) pairs, so the query heads sharing a kv head add their dK, dV
// contributions in a fixed order on one thread.
void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *out,
                        const float *lse, int B, int T, int H, int Hkv, int D) {
    int ld = (H + 2 * Hkv) * D, od = H * D, grp = H / Hkv;
    float scale = 1.0f / sqrtf((float)D);
    blas_set_threads(1);
#pragma omp parallel if ((size_t)B * H * T * T * D >= 64 * PAR_MIN)
    {
        float *Pt = xmalloc(sizeof(float) * RB * (size_t)T);   // (n, RB) probabilities, transposed
        float *dSt = xmalloc(sizeof(float) * RB * (size_t)T);  // (n, RB) dPᵀ, then dSᵀ in place
        float Drow[RB], Lr[RB];
#pragma omp for schedule(static)
        for (int bk = 0; bk < B * Hkv; bk++) {
            int b = bk / Hkv, kvh = bk % Hkv;
            size_t base = (size_t)b * T * ld;
            const float *k = qkv + base + (size_t)(H + kvh) * D, *v = qkv + base + (size_t)(H + Hkv + kvh) * D;
            float *dk = dqkv + base + (size_t)(H + kvh) * D, *dv = dqkv + base + (size_t)(H + Hkv + kvh) * D;
            for (int t = 0; t < T; t++) {
                memset(dk + (size_t)t * ld, 0, sizeof(float) * D);
                memset(dv + (size_t)t * ld, 0, sizeof(float) * D);
            }
            for (int h = kvh * grp; h < (kvh + 1) * grp; h++) {
                const float *q = qkv + base + (size_t)h * D;
                float *dq = dqkv + base + (size_t)h * D;
                const float *o = out + (size_t)b * T * od + (size_t)h * D;
                const float *dO = dout + (size_t)b * T * od + (size_t)h * D;
                const float *L = lse + ((size_t)b * H + h) * T;
                for (int i0 = 0; i0 < T; i0 += RB) {
                    int m = T - i0 < RB ? T - i0 : RB, n = i0 + m;  // queries i0..n-1, keys 0..n-1
                    const float *qr = q + (size_t)i0 * ld, *dOr = dO + (size_t)i0 * od;
                    for (int r = 0; r < m; r++) {
                        const float *orow = o + (size_t)(i0 + r) * od, *grow = dOr + (size_t)r * od;
                        float dd = 0.0f;
#pragma omp simd reduction(+ : dd)
                        for (int c = 0; c < D; c++) dd += orow[c] * grow[c];
                        Drow[r] = dd;
                        Lr[r] = L[i0 + r];
                    }
                    // Sᵀ (n,m) = scale · K[0:n] · Q[i0:n]ᵀ, then Pᵀ = exp(Sᵀ − lse), 0 where key j > query i
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, D, scale, k, ld, qr, ld, 0.0f, Pt, m);
                    for (int j = 0; j < n; j++) {
                        float *p = Pt + (size_t)j * m;
                        int r0 = j - i0 > 0 ? j - i0 : 0;
                        for (int r = 0; r < r0; r++) p[r] = 0.0f;
#pragma omp simd
                        for (int r = r0; r < m; r++) p[r] = am_expf(p[r] - Lr[r]);
                    }
                    // dV[0:n] += Pᵀ · dO[i0:n]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, D, m, 1.0f, Pt, m, dOr, od, 1.0f, dv, ld);
                    // dPᵀ (n,m) = V[0:n] · dO[i0:n]ᵀ, then dSᵀ = Pᵀ ⊙ (dPᵀ − D)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, D, 1.0f, v, ld, dOr, od, 0.0f, dSt, m);
                    for (int j = 0; j < n; j++) {
                        float *ds = dSt + (size_t)j * m;
                        const float *p = Pt + (size_t)j * m;
#pragma omp simd
                        for (int r = 0; r < m; r++) ds[r] = p[r] * (ds[r] - Drow[r]);
                    }
                    // dQ[i0:n] = scale · dS · K[0:n]
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, D, n, scale, dSt, m, k, ld, 0.0f,
                                dq + (size_t)i0 * ld, ld);
                    // dK[0:n] += scale · dSᵀ · Q[i0:n]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, D, m, scale, dSt, m, qr, ld, 1.0f, dk, ld);
                }
            }
        }
        free(Pt);
        free(dSt);
    }
}
