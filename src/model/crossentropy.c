// crossentropy.c — softmax cross-entropy over the vocabulary, stable (max-shifted) log-sum-exp.
#include "layers.h"

#include "act/vmath.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>

static float row_max(const float *l, int V) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; j++) mx = l[j] > mx ? l[j] : mx;
    return mx;
}

// Σ e^(l − mx) over a row (l − max ≤ 0), and with keep (a constant) each e^(l − mx) written to e
// (which may be l).
// In CE_LANES explicit partial sums added up in a fixed order at the end: written as an omp simd
// reduction, GCC kept the partial sums on the stack, and the store-to-load chain through them took
// half the loss's time. The order is also the same in every build, vectorised or not.
enum { CE_LANES = 16 };

AM_INLINE float row_exp_sum(const float *l, float *e, int V, float mx, int keep) {
    float part[CE_LANES] = {0};
    int j = 0;
    for (; j + CE_LANES <= V; j += CE_LANES) {
#pragma omp simd
        for (int k = 0; k < CE_LANES; k++) {
            float x = am_expf_nonpos(l[j + k] - mx);
            if (keep) e[j + k] = x;
            part[k] += x;
        }
    }
    for (int k = 0; j + k < V; k++) {
        float x = am_expf_nonpos(l[j + k] - mx);
        if (keep) e[j + k] = x;
        part[k] += x;
    }
    return am_lanes_sumf(part, CE_LANES);
}

static int count_valid(const int32_t *targets, int N) {
    int valid = 0;
    for (int i = 0; i < N; i++) valid += targets[i] >= 0;
    return valid;
}

float crossentropy_scale(int count, int n_valid) {
    int n = count > 0 ? count : n_valid;
    return n ? 1.0f / (float)n : 0.0f;
}

// Σ over valid rows of row_loss, in row order in double: the same bits for any thread count.
static double sum_losses(const float *row_loss, const int32_t *targets, int N) {
    double total = 0.0;
    for (int i = 0; i < N; i++)
        if (targets[i] >= 0) total += row_loss[i];
    return total;
}

// logits: (N,V) of stride ld, targets: (N) -> lse: (N); returns Σ over valid rows of (lse − logit[target])
double crossentropy_forward(float *lse, const float *logits, const int32_t *targets, int N, int V, int ld,
                            int *n_valid) {
    float *row_loss = xmalloc(sizeof(float) * (size_t)N);
#pragma omp parallel for schedule(static) if ((size_t)N * V >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * ld;
        float mx = row_max(l, V);
        lse[i] = mx + logf(row_exp_sum(l, NULL, V, mx, 0));
        row_loss[i] = targets[i] >= 0 ? lse[i] - l[targets[i]] : 0.0f;
    }
    double total = sum_losses(row_loss, targets, N);
    *n_valid = count_valid(targets, N);
    free(row_loss);
    return total;
}

// Columns per piece of a row in the backward: computed into an L1 buffer and rounded from there.
enum { CE_PIECE = 1024 };

// Row piece [j0, j0 + n) of dlogits: d (n) from the logits l (n), the row's log-sum-exp li and
// target t (the target's column gets the one-hot's −scale). With fused, l holds e^(l − max)
// instead (crossentropy_fused) and li is scale / Σ e: a product where the backward takes an exp.
AM_INLINE void grad_piece(float *d, const float *l, float li, int32_t t, int j0, int n, float scale, int fused) {
    if (t < 0) {
        for (int j = 0; j < n; j++) d[j] = 0.0f;
        return;
    }
    if (fused) {
#pragma omp simd
        for (int j = 0; j < n; j++) d[j] = l[j] * li;
    } else {
#pragma omp simd
        for (int j = 0; j < n; j++) d[j] = am_expf_nonpos(l[j] - li) * scale;  // lse ≥ max ≥ l: l − lse ≤ 0
    }
    if (t >= j0 && t < j0 + n) d[t - j0] -= scale;
}

// One row of dlogits written over d (stride as the logits') from l (= d, or the logits) as out says;
// li, scale, fused: grad_piece's. buf: CE_PIECE floats (L1); rs += the rounding's counts.
AM_INLINE void grad_row(float *d, const float *l, float li, int32_t t, int V, float scale, int fused, ce_out out,
                        float *buf, num_qstats *rs) {
    for (int j0 = 0; j0 < V; j0 += CE_PIECE) {
        int n = V - j0 < CE_PIECE ? V - j0 : CE_PIECE;
        if (out == CE_F32) grad_piece(d + j0, l + j0, li, t, j0, n, scale, fused);
        else if (out == CE_BF16_QDQ) {
            grad_piece(d + j0, l + j0, li, t, j0, n, scale, fused);
            num_bf16_qdq(d + j0, d + j0, (size_t)n, rs);
        } else {
            // the codes of piece j0 cover floats [j0/2, (j0+n)/2): read already, into buf or before
            grad_piece(buf, l + j0, li, t, j0, n, scale, fused);
            num_bf16_encode((uint16_t *)d + j0, (size_t)n, buf, (size_t)n, 1, n, rs);
        }
    }
}

// The gradient passes' shared state: what each row reads and writes (dlogits may be logits).
typedef struct {
    float *dlogits, *lse, *row_loss;  // row_loss: the fused pass's per-row losses
    const float *logits;
    const int32_t *targets;
    int V, ld;
    float scale;
    ce_out out;
} ce_rows;

typedef void ce_row_fn(const ce_rows *r, int i, float *buf, num_qstats *rs);

// fn on every row in parallel, and st += the rounding's counts over all of them. The counts are
// sums and the amax a max, so the rows' order (and the thread count) cannot change them: they
// equal one pass over the whole array.
static void each_row(const ce_rows *r, int N, ce_row_fn *fn, num_qstats *st) {
    uint64_t n_sat = 0, n_ftz = 0;
    float amax = 0.0f;
#pragma omp parallel for schedule(static) reduction(+ : n_sat, n_ftz) reduction(max : amax) \
    if ((size_t)N * r->V >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        float buf[CE_PIECE];
        num_qstats rs;
        num_qstats_clear(&rs);
        fn(r, i, buf, &rs);
        n_sat += rs.n_sat, n_ftz += rs.n_ftz;
        amax = rs.amax > amax ? rs.amax : amax;
    }
    if (st && r->out != CE_F32) num_qstats_merge(st, &(num_qstats){(uint64_t)N * (uint64_t)r->V, n_sat, n_ftz, amax});
}

static void backward_row(const ce_rows *r, int i, float *buf, num_qstats *rs) {
    size_t o = (size_t)i * r->ld;
    grad_row(r->dlogits + o, r->logits + o, r->lse[i], r->targets[i], r->V, r->scale, 0, r->out, buf, rs);
}

// dlogits: (N,V) of stride ld = (softmax − onehot) · scale, rounded as `out` says; may alias logits.
// With CE_BF16_CODES the gradient never exists in memory in f32: each piece is computed into an L1
// buffer and only its codes, half its size, are written (in place, on logits already read).
// CE_BF16_QDQ writes each piece in f32 and rounds it while it is in L1.
void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int32_t *targets,
                           int N, int V, int ld, float scale, ce_out out, num_qstats *st) {
    ce_rows r = {dlogits, (float *)lse, NULL, logits, targets, V, ld, scale, out};
    each_row(&r, N, backward_row, st);
}

// The loss and the gradient of row i from the logits, which the gradient overwrites.
static void fused_row(const ce_rows *r, int i, float *buf, num_qstats *rs) {
    float *l = r->dlogits + (size_t)i * r->ld;
    int32_t t = r->targets[i];
    float mx = row_max(l, r->V), lt = t >= 0 ? l[t] : 0.0f;
    float sum = row_exp_sum(l, l, r->V, mx, 1);  // the same sum as crossentropy_forward's
    r->lse[i] = mx + logf(sum);
    r->row_loss[i] = t >= 0 ? r->lse[i] - lt : 0.0f;
    grad_row(l, l, r->scale / sum, t, r->V, r->scale, 1, r->out, buf, rs);
}

// The forward and the backward in one pass over the logits, for a training step: each row is read
// from memory once (not twice) and its exps are taken once (not twice), the gradient written while
// the row is still in cache. logits: (N,V) of stride ld, overwritten by dlogits as
// crossentropy_backward leaves them, with crossentropy_scale(count, valid targets).
double crossentropy_fused(float *logits, float *lse, const int32_t *targets, int N, int V, int ld, int count,
                          ce_out out, num_qstats *st, int *n_valid) {
    *n_valid = count_valid(targets, N);
    ce_rows r = {logits, lse, xmalloc(sizeof(float) * (size_t)N), logits, targets, V, ld,
                 crossentropy_scale(count, *n_valid), out};
    each_row(&r, N, fused_row, st);
    double total = sum_losses(r.row_loss, targets, N);
    free(r.row_loss);
    return total;
}
