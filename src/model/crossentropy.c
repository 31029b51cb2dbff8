// crossentropy.c — softmax cross-entropy over the vocabulary, stable (max-shifted) log-sum-exp.
#include "layers.h"

#include "act/vmath.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>

// logits: (N,V) of stride ld, targets: (N) -> lse: (N); returns Σ over valid rows of (lse − logit[target])
double crossentropy_forward(float *lse, const float *logits, const int32_t *targets, int N, int V, int ld,
                            int *n_valid) {
    float *row_loss = xmalloc(sizeof(float) * (size_t)N);
#pragma omp parallel for schedule(static) if ((size_t)N * V >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * ld;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int j = 0; j < V; j++) mx = l[j] > mx ? l[j] : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j < V; j++) sum += am_expf_nonpos(l[j] - mx);  // l − max ≤ 0
        lse[i] = mx + logf(sum);
        row_loss[i] = targets[i] >= 0 ? lse[i] - l[targets[i]] : 0.0f;
    }
    // Summed in row order in double: the same bits for any thread count.
    double total = 0.0;
    int valid = 0;
    for (int i = 0; i < N; i++)
        if (targets[i] >= 0) {
            total += row_loss[i];
            valid++;
        }
    free(row_loss);
    *n_valid = valid;
    return total;
}

// Columns per piece of a row in the backward: computed into an L1 buffer and rounded from there.
enum { CE_PIECE = 1024 };

// Row piece [j0, j0 + n) of dlogits: d (n) from the logits l (n), the row's log-sum-exp li and
// target t (the target's column gets the one-hot's −scale).
static void grad_piece(float *d, const float *l, float li, int32_t t, int j0, int n, float scale) {
    if (t < 0) {
        for (int j = 0; j < n; j++) d[j] = 0.0f;
        return;
    }
#pragma omp simd
    for (int j = 0; j < n; j++) d[j] = am_expf_nonpos(l[j] - li) * scale;  // lse ≥ max ≥ l: l − lse ≤ 0
    if (t >= j0 && t < j0 + n) d[t - j0] -= scale;
}

// dlogits: (N,V) of stride ld = (softmax − onehot) · scale, rounded as `out` says; may alias logits.
// With CE_BF16_CODES the gradient never exists in memory in f32: each piece is computed into an L1
// buffer and only its codes, half its size, are written (in place, on logits already read).
// CE_BF16_QDQ writes each piece in f32 and rounds it while it is in L1.
void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int32_t *targets,
                           int N, int V, int ld, float scale, ce_out out, num_qstats *st) {
    uint64_t n_sat = 0, n_ftz = 0;
    float amax = 0.0f;
    // the counts are sums and the amax a max, so the rows' order (and the thread count) cannot
    // change them: they equal one pass over the whole array
#pragma omp parallel for schedule(static) reduction(+ : n_sat, n_ftz) reduction(max : amax) \
    if ((size_t)N * V >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        float buf[CE_PIECE];
        num_qstats rs;
        num_qstats_clear(&rs);
        const float *l = logits + (size_t)i * ld;
        float *d = dlogits + (size_t)i * ld;
        for (int j0 = 0; j0 < V; j0 += CE_PIECE) {
            int n = V - j0 < CE_PIECE ? V - j0 : CE_PIECE;
            if (out == CE_F32) grad_piece(d + j0, l + j0, lse[i], targets[i], j0, n, scale);
            else if (out == CE_BF16_QDQ) {
                grad_piece(d + j0, l + j0, lse[i], targets[i], j0, n, scale);
                num_bf16_qdq(d + j0, d + j0, (size_t)n, &rs);
            } else {
                grad_piece(buf, l + j0, lse[i], targets[i], j0, n, scale);
                num_bf16_encode((uint16_t *)d + j0, (size_t)n, buf, (size_t)n, 1, n, &rs);
            }
        }
        n_sat += rs.n_sat, n_ftz += rs.n_ftz;
        amax = rs.amax > amax ? rs.amax : amax;
    }
    if (st && out != CE_F32) num_qstats_merge(st, &(num_qstats){(uint64_t)N * (uint64_t)V, n_sat, n_ftz, amax});
}
