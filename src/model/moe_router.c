// moe_router.c — the MoE router: which k experts a token goes to, with what weights, and the two
// auxiliary losses that keep routing healthy (layers.h, docs/moe.md).
//
// Scores: softmax p = softmax(r) over the E logits r (OLMoE, Switch), top-k by r, weights p of the
// chosen (optionally divided by their sum); or sigmoid s = σ(r) per expert (DeepSeek-V3), top-k by
// s + b with b a selection-only bias (it never enters a weight, so it has no gradient: balancing
// moves it, model_moe_step_end), weights s of the chosen (optionally renormalised).
//
// Losses (both differentiated here, both reported before their coefficients):
//   load balancing, per sequence of T tokens: E·Σ_e f_e·P_e with f_e = (tokens choosing e)/T and
//     P_e = mean over the sequence of q_e, q the router's distribution (softmax p, or the sigmoid
//     scores normalised to sum 1, as DeepSeek-V3's sequence-wise loss). It is OLMoE's
//     load_balancing_loss (k at perfect balance) taken per sequence rather than per batch: the batch
//     form would change with how rows are split over micro-batches and ranks, the sequence form
//     does not. f is a count, so only P carries gradient.
//   z-loss: logsumexp(r)² per token (ST-MoE), keeping the logits small.
#include "layers.h"

#include "model.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// r: (E) -> q: (E) softmax probabilities, or sigmoid scores.
static void scores(double *q, const float *r, int E, int router) {
    if (router == MOE_SIGMOID) {
        for (int e = 0; e < E; e++) q[e] = 1.0 / (1.0 + exp(-(double)r[e]));
        return;
    }
    double mx = r[0], sum = 0;
    for (int e = 1; e < E; e++) mx = r[e] > mx ? r[e] : mx;
    for (int e = 0; e < E; e++) sum += (q[e] = exp((double)r[e] - mx));
    for (int e = 0; e < E; e++) q[e] /= sum;
}

// One token: r (E) -> sel, w (k).
static void route_token(int *sel, float *w, const float *r, const float *bias, const moe_spec *s) {
    double q[MOE_MAX_EXPERTS], key[MOE_MAX_EXPERTS];
    unsigned char taken[MOE_MAX_EXPERTS] = {0};
    int E = s->E, k = s->k;
    scores(q, r, E, s->router);
    for (int e = 0; e < E; e++) key[e] = s->router == MOE_SIGMOID ? q[e] + (bias ? bias[e] : 0.0) : r[e];
    double sum = 0;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int e = 0; e < E; e++)  // strict >: a tie keeps the lower index
            if (!taken[e] && (best < 0 || key[e] > key[best])) best = e;
        taken[best] = 1;
        sel[j] = best;
        sum += q[best];
    }
    for (int j = 0; j < k; j++) w[j] = (float)(s->renorm ? q[sel[j]] / sum : q[sel[j]]);
}

// logits: (N,E) -> sel, w: (N,k)
void moe_route(int *sel, float *w, const float *logits, const float *bias, const moe_spec *s, int N) {
#pragma omp parallel for schedule(static) if ((size_t)N * s->E >= PAR_MIN)
    for (int t = 0; t < N; t++)
        route_token(sel + (size_t)t * s->k, w + (size_t)t * s->k, logits + (size_t)t * s->E, bias, s);
}

// sel: (N,k) -> off: (E+1), tok: (N·k), row: (N,k)
void moe_group(int *off, int *tok, int *row, const int *sel, int N, int k, int E) {
    int cur[MOE_MAX_EXPERTS];
    memset(off, 0, sizeof(int) * (size_t)(E + 1));
    for (size_t i = 0; i < (size_t)N * k; i++) off[sel[i] + 1]++;
    for (int e = 0; e < E; e++) off[e + 1] += off[e];
    memcpy(cur, off, sizeof(int) * (size_t)E);
    for (int t = 0; t < N; t++)
        for (int j = 0; j < k; j++) {
            int r = cur[sel[(size_t)t * k + j]]++;
            tok[r] = t;
            row[(size_t)t * k + j] = r;
        }
}

// The router's distribution for the balancing loss: softmax p, or the sigmoid scores over their sum.
static void balance_dist(double *q, const float *r, int E, int router) {
    scores(q, r, E, router);
    if (router != MOE_SIGMOID) return;
    double sum = 0;
    for (int e = 0; e < E; e++) sum += q[e];
    for (int e = 0; e < E; e++) q[e] /= sum;
}

static double logsumexp(const float *r, int E) {
    double mx = r[0], sum = 0;
    for (int e = 1; e < E; e++) mx = r[e] > mx ? r[e] : mx;
    for (int e = 0; e < E; e++) sum += exp((double)r[e] - mx);
    return mx + log(sum);
}

// sel of sequence b (T tokens): counts (E) of tokens choosing each expert.
static void seq_counts(int *counts, const int *sel, int b, int T, int k, int E) {
    memset(counts, 0, sizeof(int) * (size_t)E);
    for (size_t i = (size_t)b * T * k; i < (size_t)(b + 1) * T * k; i++) counts[sel[i]]++;
}

void moe_aux_losses(double *lb, double *zl, const float *logits, const int *sel, const moe_spec *s, int B, int T) {
    int E = s->E;
    double *per = xcalloc((size_t)2 * B, sizeof(double));  // per sequence: lb, Σ lse²
#pragma omp parallel for schedule(static) if ((size_t)B * T * E >= PAR_MIN)
    for (int b = 0; b < B; b++) {
        int counts[MOE_MAX_EXPERTS];
        double P[MOE_MAX_EXPERTS] = {0}, q[MOE_MAX_EXPERTS], z2 = 0;
        seq_counts(counts, sel, b, T, s->k, E);
        for (int t = b * T; t < (b + 1) * T; t++) {
            const float *r = logits + (size_t)t * E;
            balance_dist(q, r, E, s->router);
            for (int e = 0; e < E; e++) P[e] += q[e];
            double lse = logsumexp(r, E);
            z2 += lse * lse;
        }
        double l = 0;
        for (int e = 0; e < E; e++) l += ((double)counts[e] / T) * (P[e] / T);
        per[2 * b] = E * l;
        per[2 * b + 1] = z2;
    }
    *lb = *zl = 0;
    for (int b = 0; b < B; b++) *lb += per[2 * b], *zl += per[2 * b + 1];
    *lb /= B;
    *zl /= (double)B * T;
    free(per);
}

// One token of sequence whose counts are given: dg (k) -> dr (E).
static void router_backward_token(float *dr, const float *dg, const float *r, const int *sel, const int *counts,
                                  const moe_spec *s, int T, float aux_scale, float z_scale) {
    int E = s->E, k = s->k, sig = s->router == MOE_SIGMOID;
    double q[MOE_MAX_EXPERTS], dq[MOE_MAX_EXPERTS] = {0};
    scores(q, r, E, s->router);
    // the combine weights w_j = q_sel(j) (/ S, S = Σ_j q_sel(j))
    if (s->renorm) {
        double S = 0, dot = 0;
        for (int j = 0; j < k; j++) S += q[sel[j]];
        for (int j = 0; j < k; j++) dot += dg[j] * (q[sel[j]] / S);
        for (int j = 0; j < k; j++) dq[sel[j]] = (dg[j] - dot) / S;
    } else {
        for (int j = 0; j < k; j++) dq[sel[j]] = dg[j];
    }
    // balancing: d(aux_scale · E·Σ_e f_e·P_e)/d q_t,e = aux_scale·E·counts_e/T²
    if (aux_scale > 0) {
        double c[MOE_MAX_EXPERTS], S = 0, dot = 0;
        for (int e = 0; e < E; e++) c[e] = (double)aux_scale * E * counts[e] / ((double)T * T);
        if (!sig) {
            for (int e = 0; e < E; e++) dq[e] += c[e];
        } else {  // through the normalisation s_e / Σ s
            for (int e = 0; e < E; e++) S += q[e];
            for (int e = 0; e < E; e++) dot += c[e] * q[e] / S;
            for (int e = 0; e < E; e++) dq[e] += (c[e] - dot) / S;
        }
    }
    if (sig) {
        for (int e = 0; e < E; e++) dr[e] = (float)(dq[e] * q[e] * (1 - q[e]));
    } else {
        double dot = 0;
        for (int e = 0; e < E; e++) dot += q[e] * dq[e];
        for (int e = 0; e < E; e++) dr[e] = (float)(q[e] * (dq[e] - dot));
    }
    if (z_scale > 0) {  // d lse² = 2·lse·softmax(r)
        double lse = logsumexp(r, E);
        for (int e = 0; e < E; e++) dr[e] += (float)(2.0 * z_scale * lse * exp((double)r[e] - lse));
    }
}

void moe_router_backward(float *dr, const float *dg, const float *logits, const int *sel, const moe_spec *s,
                         int B, int T, float aux_scale, float z_scale) {
    int E = s->E, k = s->k;
#pragma omp parallel for schedule(static) if ((size_t)B * T * E >= PAR_MIN)
    for (int b = 0; b < B; b++) {
        int counts[MOE_MAX_EXPERTS];
        seq_counts(counts, sel, b, T, k, E);
        for (int t = b * T; t < (b + 1) * T; t++)
            router_backward_token(dr + (size_t)t * E, dg + (size_t)t * k, logits + (size_t)t * E,
                                  sel + (size_t)t * k, counts, s, T, aux_scale, z_scale);
    }
}
