// refmoe.c — the mixture-of-experts FFN of the double-precision reference (refmodel.h), written
// straight from docs/moe.md one token at a time: score every expert, sort, run the chosen experts
// on that token alone, add. Nothing here groups tokens or shares code with src/model.
#include "refmodel.h"

#include "../act/refimpl.h"
#include "util/check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double *named(const model *m, const double *params, const char *fmt, ...) {
    char name[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int i = model_tensor_find(m, name);
    if (i < 0) {
        fprintf(stderr, "refmoe: tensor %s is missing\n", name);
        abort();
    }
    return params + model_tensor_at(m, i)->offset;
}

// One FFN named prefix (hidden h) on one token x (d) -> y (d) +=  weight · FFN(x).
static void ref_expert(double *y, double weight, const model *m, const double *params, const char *prefix,
                       const double *x, int h) {
    const model_config *c = model_cfg(m);
    const act_desc *ad = act_desc_of(c->act.kind);
    int d = c->d_model;
    double *z = xmalloc(sizeof(double) * h), *u = xmalloc(sizeof(double) * h), *a = xmalloc(sizeof(double) * h);
    double *out = xmalloc(sizeof(double) * d), act[ACT_MAX_PARAMS] = {0};
    if (ad->n_params) memcpy(act, named(m, params, "%s.act.weight", prefix), sizeof(double) * (ad->n_params == 4 ? 3 : ad->n_params));
    if (ad->n_params == 4) act[3] = named(m, params, "%s.act.bias", prefix)[0];
    ref_linear(u, x, named(m, params, "%s.up_proj.weight", prefix), 1, d, h);
    if (ad->gated) {
        ref_linear(z, x, named(m, params, "%s.gate_proj.weight", prefix), 1, d, h);
        ref_forward(&c->act, act, 1, h, z, u, a);
    } else {
        ref_forward(&c->act, act, 1, h, u, NULL, a);
    }
    ref_linear(out, a, named(m, params, "%s.down_proj.weight", prefix), 1, h, d);
    for (int i = 0; i < d; i++) y[i] += weight * out[i];
    free(z), free(u), free(a), free(out);
}

double ref_moe_ffn(double *y, const model *m, const double *params, const double *xn, int l, int B, int T) {
    const model_config *c = model_cfg(m);
    int d = c->d_model, E = c->moe_experts, k = c->moe_top_k, sig = c->moe_router == MOE_SIGMOID;
    int h = model_expert_hidden(c);
    const double *router = named(m, params, "model.layers.%d.mlp.gate.weight", l);
    const double *bias = sig ? named(m, params, "model.layers.%d.mlp.gate.e_score_correction_bias", l) : NULL;
    double *r = xmalloc(sizeof(double) * E), *q = xmalloc(sizeof(double) * E), *key = xmalloc(sizeof(double) * E);
    double *P = xmalloc(sizeof(double) * E), *f = xmalloc(sizeof(double) * E);
    int *order = xmalloc(sizeof(int) * E);
    double lb = 0, z2 = 0;
    char prefix[64];
    for (int b = 0; b < B; b++) {
        for (int e = 0; e < E; e++) P[e] = f[e] = 0;
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            const double *x = xn + (size_t)i * d;
            double *yi = y + (size_t)i * d;
            ref_linear(r, x, router, 1, d, E);
            double mx = r[0], sum = 0;
            for (int e = 1; e < E; e++) mx = fmax(mx, r[e]);
            for (int e = 0; e < E; e++) sum += exp(r[e] - mx);
            double lse = mx + log(sum);
            z2 += lse * lse;
            for (int e = 0; e < E; e++) {
                q[e] = sig ? 1 / (1 + exp(-r[e])) : exp(r[e] - lse);
                key[e] = sig ? q[e] + bias[e] : r[e];
                order[e] = e;
            }
            // insertion sort by key, descending; equal keys keep the lower index first
            for (int a = 1; a < E; a++)
                for (int j = a; j > 0 && key[order[j]] > key[order[j - 1]]; j--) {
                    int tmp = order[j];
                    order[j] = order[j - 1], order[j - 1] = tmp;
                }
            double chosen = 0, qsum = 0;
            for (int j = 0; j < k; j++) chosen += q[order[j]];
            for (int e = 0; e < E; e++) qsum += q[e];
            for (int e = 0; e < d; e++) yi[e] = 0;
            if (c->moe_shared) {
                snprintf(prefix, sizeof prefix, "model.layers.%d.mlp.shared_expert", l);
                ref_expert(yi, 1.0, m, params, prefix, x, c->moe_shared * h);
            }
            for (int j = 0; j < k; j++) {
                snprintf(prefix, sizeof prefix, "model.layers.%d.mlp.experts.%d", l, order[j]);
                ref_expert(yi, c->moe_renorm ? q[order[j]] / chosen : q[order[j]], m, params, prefix, x, h);
                f[order[j]] += 1.0 / T;
            }
            for (int e = 0; e < E; e++) P[e] += (sig ? q[e] / qsum : q[e]) / T;
        }
        for (int e = 0; e < E; e++) lb += E * f[e] * P[e] / B;
    }
    free(r), free(q), free(key), free(P), free(f), free(order);
    return c->moe_aux_coef * lb + c->moe_z_coef * z2 / ((double)B * T);
}
