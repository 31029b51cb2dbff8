// config.c — the model configuration: defaults, derived sizes, validation.
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void model_config_default(model_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 8192;
    c->d_model = 256;
    c->n_layers = 4;
    c->n_heads = 4;
    c->n_kv_heads = 4;
    c->max_seq_len = 256;
    c->ffn_hidden = 0;
    c->tied_embeddings = 0;  // the PyTorch anchor has a separate head (7.3M parameters)
    c->rope_theta = 10000.0f;
    c->norm_eps = 1e-5f;
    c->init_std = 0.02f;
    act_spec_init(&c->act, "swiglu");
    // MoE off; the rest are OLMoE's settings (top-8 of 64 there), ready for --moe-experts E.
    c->moe_experts = 0;
    c->moe_top_k = 2;
    c->moe_shared = 0;
    c->moe_hidden = 0;
    c->moe_router = MOE_SOFTMAX;
    c->moe_renorm = 0;
    c->moe_aux_coef = 0.01f;
    c->moe_z_coef = 0.001f;
    c->moe_bias_rate = 0.001f;
}

const char *const moe_router_names[] = {"softmax", "sigmoid", NULL};

// Gated: 8/3·d rounded up to a multiple of 64 (d 2048 -> 5504). Non-gated: 3/2 of the gated size
// (-> 8256), so that two matrices hold as many parameters as the gated FFN's three.
int model_ffn_hidden(const model_config *c) {
    if (c->ffn_hidden > 0) return c->ffn_hidden;
    long gated = (8L * c->d_model + 3 * 64 - 1) / (3 * 64) * 64;
    const act_desc *d = act_desc_of(c->act.kind);
    return (int)(d && !d->gated ? gated * 3 / 2 : gated);
}

int model_expert_hidden(const model_config *c) {
    if (c->moe_hidden > 0) return c->moe_hidden;
    model_config dense = *c;
    dense.ffn_hidden = 0;
    return model_ffn_hidden(&dense);
}

// One FFN of hidden size h with its activation scalars.
static size_t ffn_params(const act_desc *a, size_t d, size_t h) { return (a->gated ? 3 : 2) * d * h + (size_t)a->n_params; }

void model_param_split_of(const model_config *c, model_param_split *s) {
    size_t d = (size_t)c->d_model, h = (size_t)model_ffn_hidden(c), L = (size_t)c->n_layers;
    size_t hd = d / (size_t)c->n_heads;
    const act_desc *a = act_desc_of(c->act.kind);
    s->embeddings = (size_t)c->vocab_size * d * (c->tied_embeddings ? 1 : 2);
    s->attention = L * (d * hd * (size_t)(c->n_heads + 2 * c->n_kv_heads) + (size_t)c->n_heads * hd * d);
    s->ffn = s->ffn_active = L * ffn_params(a, d, h);
    if (c->moe_experts > 0) {
        size_t E = (size_t)c->moe_experts, he = (size_t)model_expert_hidden(c), S = (size_t)c->moe_shared;
        size_t router = E * d, bias = c->moe_router == MOE_SIGMOID ? E : 0;
        size_t shared = S ? ffn_params(a, d, S * he) : 0, expert = ffn_params(a, d, he);
        s->ffn = L * (router + bias + E * expert + shared);
        s->ffn_active = L * (router + (size_t)c->moe_top_k * expert + shared);
    }
    s->norms = (2 * L + 1) * d;
    s->total = s->embeddings + s->attention + s->ffn + s->norms;
    s->active = s->total - s->ffn + s->ffn_active;
}

// The MoE keys, checked only when moe_experts > 0.
static const char *moe_check(const model_config *c, char *msg, size_t len) {
#define BAD(...) return (snprintf(msg, len, __VA_ARGS__), msg)
    if (c->moe_experts < 0 || c->moe_experts > MOE_MAX_EXPERTS)
        BAD("moe_experts must be 0 (dense FFN) or in [1, %d], got %d", MOE_MAX_EXPERTS, c->moe_experts);
    if (c->moe_experts == 0) return NULL;
    if (c->moe_top_k < 1 || c->moe_top_k > c->moe_experts)
        BAD("moe_top_k must be in [1, moe_experts = %d], got %d", c->moe_experts, c->moe_top_k);
    if (c->moe_shared < 0 || c->moe_shared > 64) BAD("moe_shared must be in [0, 64], got %d", c->moe_shared);
    if (c->moe_hidden < 0 || c->moe_hidden > (1 << 20))
        BAD("moe_hidden must be 0 (derived) or in [1, 1048576], got %d", c->moe_hidden);
    if (c->moe_router != MOE_SOFTMAX && c->moe_router != MOE_SIGMOID)
        BAD("moe_router must be softmax or sigmoid, got %d", c->moe_router);
    if (c->moe_renorm != 0 && c->moe_renorm != 1) BAD("moe_renorm must be 0 or 1, got %d", c->moe_renorm);
    if (!(c->moe_aux_coef >= 0) || !isfinite(c->moe_aux_coef))
        BAD("moe_aux_coef must be finite and >= 0, got %g", c->moe_aux_coef);
    if (!(c->moe_z_coef >= 0) || !isfinite(c->moe_z_coef)) BAD("moe_z_coef must be finite and >= 0, got %g", c->moe_z_coef);
    if (!(c->moe_bias_rate >= 0) || !isfinite(c->moe_bias_rate))
        BAD("moe_bias_rate must be finite and >= 0, got %g", c->moe_bias_rate);
    return NULL;
#undef BAD
}

const char *model_config_check(const model_config *c) {
    static _Thread_local char msg[256];
#define BAD(...) return (snprintf(msg, sizeof msg, __VA_ARGS__), msg)
    if (c->vocab_size < 2 || c->vocab_size > 65536)
        BAD("vocab_size must be in [2, 65536] (token shards store uint16 ids), got %d", c->vocab_size);
    if (c->d_model <= 0 || c->d_model > 65536) BAD("d_model must be in [1, 65536], got %d", c->d_model);
    if (c->n_layers <= 0 || c->n_layers > 1024) BAD("n_layers must be in [1, 1024], got %d", c->n_layers);
    if (c->n_heads <= 0) BAD("n_heads must be positive, got %d", c->n_heads);
    if (c->d_model % c->n_heads != 0)
        BAD("d_model (%d) must be a multiple of n_heads (%d)", c->d_model, c->n_heads);
    if ((c->d_model / c->n_heads) % 2 != 0)
        BAD("the head size d_model/n_heads = %d must be even for RoPE's rotate-half pairs", c->d_model / c->n_heads);
    if (c->n_kv_heads <= 0) BAD("n_kv_heads must be positive, got %d", c->n_kv_heads);
    if (c->n_heads % c->n_kv_heads != 0)
        BAD("n_heads (%d) must be a multiple of n_kv_heads (%d) for grouped-query attention", c->n_heads, c->n_kv_heads);
    if (c->max_seq_len <= 0 || c->max_seq_len > (1 << 20))
        BAD("max_seq_len must be in [1, 1048576], got %d", c->max_seq_len);
    if (c->ffn_hidden < 0 || c->ffn_hidden > (1 << 20))
        BAD("ffn_hidden must be 0 (derived) or in [1, 1048576], got %d", c->ffn_hidden);
    if (c->tied_embeddings != 0 && c->tied_embeddings != 1)
        BAD("tied_embeddings must be 0 or 1, got %d", c->tied_embeddings);
    if (!(c->rope_theta > 1.0f) || !isfinite(c->rope_theta)) BAD("rope_theta must be finite and > 1, got %g", c->rope_theta);
    if (!(c->norm_eps > 0.0f) || !isfinite(c->norm_eps)) BAD("norm_eps must be finite and > 0, got %g", c->norm_eps);
    if (!(c->init_std > 0.0f) || !isfinite(c->init_std)) BAD("init_std must be finite and > 0, got %g", c->init_std);
    const act_desc *d = act_desc_of(c->act.kind);
    if (!d) BAD("unknown activation kind %d", (int)c->act.kind);
    for (int i = 0; i < d->n_hyper; i++) {
        float v = c->act.hp[i];
        if (!(v >= d->hyper[i].lo && v <= d->hyper[i].hi))
            BAD("activation %s: %s = %g is outside [%g, %g]", d->name, d->hyper[i].name, v, d->hyper[i].lo, d->hyper[i].hi);
    }
    return moe_check(c, msg, sizeof msg);
#undef BAD
}
