// refmodel.c — see refmodel.h.
#include "refmodel.h"

#include "../act/refimpl.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ref_rmsnorm(double *y, const double *x, const double *g, int N, int C, double eps) {
    for (int i = 0; i < N; i++) {
        double ss = 0;
        for (int c = 0; c < C; c++) ss += x[i * C + c] * x[i * C + c];
        double r = 1.0 / sqrt(ss / C + eps);
        for (int c = 0; c < C; c++) y[i * C + c] = x[i * C + c] * r * g[c];
    }
}

void ref_rope(double *x, int B, int T, int n_heads, int D, int ld, double theta) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < n_heads; h++) {
                double *v = x + ((size_t)b * T + t) * ld + (size_t)h * D;
                for (int i = 0; i < D / 2; i++) {
                    double ang = t * pow(theta, -2.0 * i / D), c = cos(ang), s = sin(ang);
                    double a = v[i], e = v[i + D / 2];
                    v[i] = a * c - e * s;
                    v[i + D / 2] = e * c + a * s;
                }
            }
}

void ref_attention(double *out, const double *qkv, int B, int T, int H, int Hkv, int D) {
    int ld = (H + 2 * Hkv) * D;
    double *p = xmalloc(sizeof(double) * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int kvh = h / (H / Hkv);
            for (int i = 0; i < T; i++) {
                const double *q = qkv + ((size_t)b * T + i) * ld + h * D;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j <= i; j++) {
                    const double *k = qkv + ((size_t)b * T + j) * ld + (H + kvh) * D;
                    double s = 0;
                    for (int c = 0; c < D; c++) s += q[c] * k[c];
                    p[j] = s / sqrt((double)D);
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= i; j++) sum += (p[j] = exp(p[j] - mx));
                double *o = out + ((size_t)b * T + i) * H * D + h * D;
                for (int c = 0; c < D; c++) o[c] = 0;
                for (int j = 0; j <= i; j++) {
                    const double *v = qkv + ((size_t)b * T + j) * ld + (H + Hkv + kvh) * D;
                    for (int c = 0; c < D; c++) o[c] += p[j] / sum * v[c];
                }
            }
        }
    free(p);
}

double ref_crossentropy(const double *logits, const int32_t *targets, int N, int V) {
    double total = 0;
    int n = 0;
    for (int i = 0; i < N; i++) {
        if (targets[i] < 0) continue;
        const double *l = logits + (size_t)i * V;
        double mx = l[0], sum = 0;
        for (int j = 1; j < V; j++) mx = l[j] > mx ? l[j] : mx;
        for (int j = 0; j < V; j++) sum += exp(l[j] - mx);
        total += mx + log(sum) - l[targets[i]];
        n++;
    }
    return n ? total / n : 0.0;
}

void ref_linear(double *y, const double *x, const double *w, int N, int in, int out) {
    for (int i = 0; i < N; i++)
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int c = 0; c < in; c++) s += x[(size_t)i * in + c] * w[(size_t)o * in + c];
            y[(size_t)i * out + o] = s;
        }
}

static const double *tensor(const model *m, const double *params, const char *fmt, int layer) {
    char name[64];
    snprintf(name, sizeof name, fmt, layer);
    int i = model_tensor_find(m, name);
    if (i < 0) {
        fprintf(stderr, "refmodel: tensor %s is missing\n", name);
        abort();
    }
    return params + model_tensor_at(m, i)->offset;
}

double ref_model_loss(const model *m, const double *params, const int32_t *tokens, const int32_t *targets,
                      int B, int T) {
    const model_config *c = model_cfg(m);
    int N = B * T, d = c->d_model, H = c->n_heads, Hkv = c->n_kv_heads, D = d / H, V = c->vocab_size;
    int h = model_ffn_hidden(c), kvd = Hkv * D, ld = d + 2 * kvd;
    int gated = act_desc_of(c->act.kind)->gated;
    double *x = xmalloc(sizeof(double) * N * d), *xn = xmalloc(sizeof(double) * N * d);
    double *qkv = xmalloc(sizeof(double) * N * ld), *tmp = xmalloc(sizeof(double) * N * (ld > d ? ld : d));
    double *z = xmalloc(sizeof(double) * N * h), *u = xmalloc(sizeof(double) * N * h), *a = xmalloc(sizeof(double) * N * h);
    double *logits = xmalloc(sizeof(double) * N * V), aux = 0;
    const double *emb = tensor(m, params, "model.embed_tokens.weight", 0);
    for (int i = 0; i < N; i++) memcpy(x + i * d, emb + (size_t)tokens[i] * d, sizeof(double) * d);
    for (int l = 0; l < c->n_layers; l++) {
        ref_rmsnorm(xn, x, tensor(m, params, "model.layers.%d.input_layernorm.weight", l), N, d, c->norm_eps);
        const char *proj[3] = {"model.layers.%d.self_attn.q_proj.weight", "model.layers.%d.self_attn.k_proj.weight",
                               "model.layers.%d.self_attn.v_proj.weight"};
        int width[3] = {d, kvd, kvd}, col = 0;
        for (int p = 0; p < 3; p++) {
            ref_linear(tmp, xn, tensor(m, params, proj[p], l), N, d, width[p]);
            for (int i = 0; i < N; i++) memcpy(qkv + (size_t)i * ld + col, tmp + (size_t)i * width[p], sizeof(double) * width[p]);
            col += width[p];
        }
        ref_rope(qkv, B, T, H, D, ld, c->rope_theta);
        ref_rope(qkv + d, B, T, Hkv, D, ld, c->rope_theta);
        ref_attention(xn, qkv, B, T, H, Hkv, D);
        ref_linear(tmp, xn, tensor(m, params, "model.layers.%d.self_attn.o_proj.weight", l), N, d, d);
        for (int i = 0; i < N * d; i++) x[i] += tmp[i];
        ref_rmsnorm(xn, x, tensor(m, params, "model.layers.%d.post_attention_layernorm.weight", l), N, d, c->norm_eps);
        if (c->moe_experts) {
            aux += ref_moe_ffn(tmp, m, params, xn, l, B, T);
            for (int i = 0; i < N * d; i++) x[i] += tmp[i];
            continue;
        }
        ref_linear(u, xn, tensor(m, params, "model.layers.%d.mlp.up_proj.weight", l), N, d, h);
        double act[ACT_MAX_PARAMS] = {0};  // PolyCom: weight (3 scalars) then bias (1)
        int n_act = act_desc_of(c->act.kind)->n_params;
        if (n_act) memcpy(act, tensor(m, params, "model.layers.%d.mlp.act.weight", l), sizeof(double) * (n_act == 4 ? 3 : n_act));
        if (n_act == 4) act[3] = tensor(m, params, "model.layers.%d.mlp.act.bias", l)[0];
        if (gated) {
            ref_linear(z, xn, tensor(m, params, "model.layers.%d.mlp.gate_proj.weight", l), N, d, h);
            ref_forward(&c->act, act, N, h, z, u, a);
        } else {
            ref_forward(&c->act, act, N, h, u, NULL, a);
        }
        ref_linear(tmp, a, tensor(m, params, "model.layers.%d.mlp.down_proj.weight", l), N, h, d);
        for (int i = 0; i < N * d; i++) x[i] += tmp[i];
    }
    ref_rmsnorm(xn, x, tensor(m, params, "model.norm.weight", 0), N, d, c->norm_eps);
    const double *head = c->tied_embeddings ? emb : tensor(m, params, "lm_head.weight", 0);
    ref_linear(logits, xn, head, N, d, V);
    double loss = ref_crossentropy(logits, targets, N, V) + aux;
    free(x), free(xn), free(qkv), free(tmp), free(z), free(u), free(a), free(logits);
    return loss;
}
