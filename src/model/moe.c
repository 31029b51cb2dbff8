// moe.c — the mixture-of-experts FFN (layers.h): route, group the tokens by expert, one
// ffn_forward/backward per expert on its contiguous rows (so every projection is one GEMM, forward,
// dgrad and wgrad alike), combine. Dropless: every token reaches all k of its experts, however
// uneven the load. The shared experts see every token as one FFN of their summed width, as
// DeepSeek-V2/V3 implement them.
//
// Determinism: routing is per token; grouping is a stable counting sort; each expert's rows go
// through the thread-count-independent GEMM layer; the combine and the scatter of the input
// gradient add each token's k terms in the token's own order. Nothing depends on the thread count.
//
// Low precision: every expert's projections are quantised like the dense FFN's, each expert with
// its own tensors (and scales); the router stays f32, as in practice.
#include "layers.h"

#include <string.h>

static const linear_prec F32 = {.kind = LIN_F32, .sx = 1, .sw = 1, .sdy = 1};

// p + off, or NULL for an absent array (arithmetic on a null pointer is undefined).
static float *at(float *p, size_t off) { return p ? p + off : NULL; }

// x: (N,C) -> xg: (N·k,C), row r = x[tok[r]]
static void gather(float *xg, const float *x, const int *tok, size_t rows, int C) {
#pragma omp parallel for schedule(static) if (rows * (size_t)C >= PAR_MIN)
    for (size_t r = 0; r < rows; r++) memcpy(xg + r * C, x + (size_t)tok[r] * C, sizeof(float) * (size_t)C);
}

// y[t] (+)= Σ_j w[t,j] · ye[row[t,j]]: ye: (N·k,C), w, row: (N,k) -> y: (N,C)
static void combine(float *y, const float *ye, const float *w, const int *row, int N, int k, int C, int accumulate) {
#pragma omp parallel for schedule(static) if ((size_t)N * k * C >= PAR_MIN)
    for (int t = 0; t < N; t++) {
        float *yt = y + (size_t)t * C;
        if (!accumulate) memset(yt, 0, sizeof(float) * (size_t)C);
        for (int j = 0; j < k; j++) {
            const float *src = ye + (size_t)row[(size_t)t * k + j] * C;
            float wj = w[(size_t)t * k + j];
            for (int c = 0; c < C; c++) yt[c] += wj * src[c];
        }
    }
}

// The expert e's rows of a grouped array of width n.
#define SLICE(p, e, n) at((p), (size_t)a->off[e] * (size_t)(n))

// Unit u's low precision (NULL in f32): its quantised inputs live in its rows of the grouped
// buffers (a routed expert) or in the shared experts' own.
static const ffn_lowp *unit_q(ffn_lowp *buf, const ffn_lowp *q, const moe_acts *a, const moe_spec *s, int u, int C) {
    if (!q) return NULL;
    *buf = q[u];
    if (u < s->E) buf->xq = SLICE(a->xq, u, C), buf->aq = SLICE(a->aq, u, s->h);
    else buf->xq = a->xqs, buf->aq = a->aqs;
    return buf;
}

void moe_forward(float *y, moe_acts *a, const float *xn, const moe_weights *w, const moe_spec *s,
                 const act_spec *act, int B, int T, int C, const ffn_lowp *q, double *act_time) {
    int N = B * T, k = s->k, h = s->h;
    ffn_lowp qu;
    linear_forward(a->logits, xn, w->router, N, C, s->E, F32);  // the router stays f32, as in practice
    moe_route(a->sel, a->w, a->logits, w->bias, s, N);
    moe_group(a->off, a->tok, a->row, a->sel, N, k, s->E);
    moe_aux_losses(&a->lb, &a->zl, a->logits, a->sel, s, B, T);
    gather(a->xg, xn, a->tok, (size_t)N * k, C);
    for (int e = 0; e < s->E; e++) {
        int n = a->off[e + 1] - a->off[e];
        if (n == 0) continue;
        ffn_forward(SLICE(a->ye, e, C), SLICE(a->z, e, h), SLICE(a->u, e, h), SLICE(a->a, e, h), SLICE(a->xg, e, C),
                    &w->experts[e], act, n, C, h, unit_q(&qu, q, a, s, e, C), act_time);
    }
    if (s->hs) ffn_forward(y, a->zs, a->us, a->as, xn, w->shared, act, N, C, s->hs, unit_q(&qu, q, a, s, s->E, C), act_time);
    combine(y, a->ye, a->w, a->row, N, k, C, s->hs > 0);
}

// dy: (N,C) -> dg: (N,k) = dy·ye (the combine weights' gradient), dye: (N·k,C) = w·dy
static void combine_backward(float *dg, float *dye, const float *dy, const float *ye, const float *w, const int *row,
                             int N, int k, int C) {
#pragma omp parallel for schedule(static) if ((size_t)N * k * C >= PAR_MIN)
    for (int t = 0; t < N; t++) {
        const float *dyt = dy + (size_t)t * C;
        for (int j = 0; j < k; j++) {
            size_t r = (size_t)row[(size_t)t * k + j];
            const float *src = ye + r * C;
            float *dst = dye + r * C, wj = w[(size_t)t * k + j];
            double dot = 0;
            for (int c = 0; c < C; c++) {
                dot += (double)dyt[c] * src[c];
                dst[c] = wj * dyt[c];
            }
            dg[(size_t)t * k + j] = (float)dot;
        }
    }
}

// dxg: (N·k,C) -> dx: (N,C) (+)= Σ_j dxg[row[t,j]]
static void scatter_add(float *dx, const float *dxg, const int *row, int N, int k, int C, int accumulate) {
#pragma omp parallel for schedule(static) if ((size_t)N * k * C >= PAR_MIN)
    for (int t = 0; t < N; t++) {
        float *dst = dx + (size_t)t * C;
        if (!accumulate) memset(dst, 0, sizeof(float) * (size_t)C);
        for (int j = 0; j < k; j++) {
            const float *src = dxg + (size_t)row[(size_t)t * k + j] * C;
            for (int c = 0; c < C; c++) dst[c] += src[c];
        }
    }
}

void moe_backward(float *dxn, moe_grads *g, const moe_scratch *sc, const float *dy, const float *xn,
                  moe_acts *a, const moe_weights *w, const moe_spec *s, const act_spec *act, int B, int T,
                  int C, float aux_scale, float z_scale, const ffn_lowp *q, double *act_time) {
    int N = B * T, k = s->k, h = s->h;
    ffn_lowp qu;
    combine_backward(sc->dg, sc->dye, dy, a->ye, a->w, a->row, N, k, C);
    for (int e = 0; e < s->E; e++) {
        int n = a->off[e + 1] - a->off[e];
        if (n == 0) continue;
        ffn_backward(SLICE(sc->dxg, e, C), SLICE(a->dz, e, h), SLICE(a->du, e, h), sc->da, &g->experts[e],
                     SLICE(sc->dye, e, C), SLICE(a->xg, e, C), SLICE(a->z, e, h), SLICE(a->u, e, h),
                     SLICE(a->a, e, h), &w->experts[e], act, n, C, h, unit_q(&qu, q, a, s, e, C), act_time);
    }
    if (s->hs)
        ffn_backward(dxn, a->dzs, a->dus, sc->da, g->shared, dy, xn, a->zs, a->us, a->as, w->shared, act, N, C, s->hs,
                     unit_q(&qu, q, a, s, s->E, C), act_time);
    scatter_add(dxn, sc->dxg, a->row, N, k, C, s->hs > 0);
    moe_router_backward(sc->dr, sc->dg, a->logits, a->sel, s, B, T, aux_scale, z_scale);
    linear_backward(dxn, g->router, sc->dr, xn, w->router, N, C, s->E, 1, F32);
}
