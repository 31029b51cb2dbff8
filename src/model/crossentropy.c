// crossentropy.c — softmax cross-entropy over the vocabulary, stable (max-shifted) log-sum-exp.
#include "layers.h"

#include "act/vmath.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>

// logits: (N,V), targets: (N) -> lse: (N); returns Σ over valid rows of (lse − logit[target])
double crossentropy_forward(float *lse, const float *logits, const int32_t *targets, int N, int V, int *n_valid) {
    float *row_loss = xmalloc(sizeof(float) * (size_t)N);
#pragma omp parallel for schedule(static) if ((size_t)N * V >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * V;
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

// dlogits: (N,V) = (softmax − onehot) · scale; may alias logits
void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int32_t *targets,
                           int N, int V, float scale) {
#pragma omp parallel for schedule(static) if ((size_t)N * V >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * V;
        float *d = dlogits + (size_t)i * V, li = lse[i];
        if (targets[i] < 0) {
            for (int j = 0; j < V; j++) d[j] = 0.0f;
            continue;
        }
#pragma omp simd
        for (int j = 0; j < V; j++) d[j] = am_expf_nonpos(l[j] - li) * scale;  // lse ≥ max ≥ l: l − lse ≤ 0
        d[targets[i]] -= scale;
    }
}
