// model_moe.c — the model's MoE side (model_impl.h, model.h): where an MoE layer's tensors sit in
// the flat parameter array, its workspace, its forward/backward call, the auxiliary-loss-free bias
// update and the telemetry view. The layer itself is moe.c / moe_router.c.
//
// Tensor names follow the public MoE checkpoints: the router is mlp.gate.weight (E,d) and expert e
// is mlp.experts.<e>.{gate,up,down}_proj.weight (OLMoE, Qwen2-MoE); the shared experts form one FFN
// mlp.shared_expert.* (Qwen2-MoE's single shared expert, of the shared experts' summed width); a
// sigmoid router's selection biases are mlp.gate.e_score_correction_bias (DeepSeek-V3). PolyCom's
// learnable scalars are per expert: mlp.experts.<e>.act.weight / .bias.
#include "model_impl.h"

#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void model_moe_init(model *m) {
    const model_config *c = &m->cfg;
    memset(&m->moe, 0, sizeof m->moe);
    if (c->moe_experts <= 0) return;
    int he = model_expert_hidden(c);
    m->moe = (moe_spec){c->moe_experts, c->moe_top_k, he, c->moe_shared * he, c->moe_router, c->moe_renorm,
                        c->moe_aux_coef, c->moe_z_coef};
    m->moe_w = xcalloc((size_t)m->moe.E + 1, sizeof *m->moe_w);
    m->moe_g = xcalloc((size_t)m->moe.E + 1, sizeof *m->moe_g);
    m->moe_q = xcalloc((size_t)m->moe.E + 1, sizeof *m->moe_q);
    m->moe_loads = xcalloc((size_t)c->n_layers * (size_t)m->moe.E, sizeof(float));
}

void model_moe_add_tensors(model *m, int l) {
    moe_offsets *o = &m->lo[l].moe;
    int E = m->moe.E, d = m->cfg.d_model;
    char prefix[64];
    o->router = model_add_tensor(m, MATRIX, E, d, "model.layers.%d.mlp.gate.weight", l);
    o->bias = m->moe.router == MOE_SIGMOID
                  ? model_add_tensor(m, ZERO_BUFFER, E, 0, "model.layers.%d.mlp.gate.e_score_correction_bias", l)
                  : ABSENT;
    o->experts = xcalloc((size_t)E, sizeof *o->experts);
    for (int e = 0; e < E; e++) {
        snprintf(prefix, sizeof prefix, "model.layers.%d.mlp.experts.%d", l, e);
        o->experts[e] = model_add_ffn(m, prefix, m->moe.h);
    }
    o->shared = (ffn_offsets){ABSENT, ABSENT, ABSENT, ABSENT};
    if (m->moe.hs) {
        snprintf(prefix, sizeof prefix, "model.layers.%d.mlp.shared_expert", l);
        o->shared = model_add_ffn(m, prefix, m->moe.hs);
    }
}

void model_moe_free(model *m) {
    for (int l = 0; m->lo && m->moe.E && l < m->cfg.n_layers; l++) free(m->lo[l].moe.experts);
    free(m->moe_w);
    free(m->moe_g);
    free(m->moe_q);
    free(m->moe_loads);
}

// An int array of n in the float workspace (same size and alignment; only ever used as int).
static int *take_ints(float *base, size_t *used, size_t n) { return (int *)(void *)model_ws_take(base, used, n); }

void model_moe_layout(model *m, float *base, size_t *used, size_t N) {
    const moe_spec *s = &m->moe;
    size_t C = (size_t)m->cfg.d_model, E = (size_t)s->E, k = (size_t)s->k, h = (size_t)s->h, hs = (size_t)s->hs;
    int gated = m->act->gated;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        moe_acts *a = &m->la[l].moe;
        a->logits = model_ws_take(base, used, N * E);
        a->sel = take_ints(base, used, N * k);
        a->w = model_ws_take(base, used, N * k);
        a->row = take_ints(base, used, N * k);
        a->tok = take_ints(base, used, N * k);
        a->off = take_ints(base, used, E + 1);
        a->xg = model_ws_take(base, used, N * k * C);
        a->z = gated ? model_ws_take(base, used, N * k * h) : NULL;
        a->u = model_ws_take(base, used, N * k * h);
        a->a = model_ws_take(base, used, N * k * h);
        a->ye = model_ws_take(base, used, N * k * C);
        a->dz = gated ? model_ws_take(base, used, N * k * h) : NULL;
        a->du = model_ws_take(base, used, N * k * h);
        a->zs = hs && gated ? model_ws_take(base, used, N * hs) : NULL;
        a->us = hs ? model_ws_take(base, used, N * hs) : NULL;
        a->as = hs ? model_ws_take(base, used, N * hs) : NULL;
        a->dzs = hs && gated ? model_ws_take(base, used, N * hs) : NULL;
        a->dus = hs ? model_ws_take(base, used, N * hs) : NULL;
        int lp = m->lp != NULL;
        a->xq = lp ? model_ws_take(base, used, N * k * C) : NULL;
        a->aq = lp ? model_ws_take(base, used, N * k * h) : NULL;
        a->xqs = lp && hs ? model_ws_take(base, used, N * C) : NULL;
        a->aqs = lp && hs ? model_ws_take(base, used, N * hs) : NULL;
    }
    moe_scratch *sc = &m->moe_sc;
    sc->dye = model_ws_take(base, used, N * k * C);
    sc->dxg = model_ws_take(base, used, N * k * C);
    sc->da = model_ws_take(base, used, N * (k * h > hs ? k * h : hs));
    sc->dg = model_ws_take(base, used, N * k);
    sc->dr = model_ws_take(base, used, N * E);
}


// Layer l's weights from the parameter array P: the experts' views land in m->moe_w.
static moe_weights weights_of(model *m, int l, const float *P) {
    const moe_offsets *o = &m->lo[l].moe;
    for (int e = 0; e < m->moe.E; e++) m->moe_w[e] = model_ffn_view(&o->experts[e], P);
    if (m->moe.hs) m->moe_w[m->moe.E] = model_ffn_view(&o->shared, P);
    return (moe_weights){P + o->router, o->bias == ABSENT ? NULL : P + o->bias, m->moe_w,
                         m->moe.hs ? &m->moe_w[m->moe.E] : NULL};
}

void model_moe_forward(model *m, int l, const float *P, double *act_time) {
    layer_acts *a = &m->la[l];
    moe_weights w = weights_of(m, l, P);
    moe_forward(m->res[l + 1], &a->moe, a->xn2, &w, &m->moe, &m->cfg.act, m->B, m->T, m->cfg.d_model,
                model_moe_q(m, l), act_time);
}

void model_moe_backward(model *m, int l, const float *P, float *G, double *act_time) {
    layer_acts *a = &m->la[l];
    const moe_offsets *o = &m->lo[l].moe;
    moe_weights w = weights_of(m, l, P);
    for (int e = 0; e < m->moe.E; e++) m->moe_g[e] = model_ffn_grad_view(&o->experts[e], G);
    if (m->moe.hs) m->moe_g[m->moe.E] = model_ffn_grad_view(&o->shared, G);
    moe_grads g = {G + o->router, m->moe_g, m->moe.hs ? &m->moe_g[m->moe.E] : NULL};
    // Each micro-batch differentiates the mean of its losses over the whole batch's sequences and
    // tokens (model_set_loss_count: the token count of the batch that ranks split; all training
    // targets are valid), so ranks add up to what one process computes.
    int N = m->B * m->T;
    double tokens = m->loss_count > 0 ? (double)m->loss_count : (double)N;
    float aux_scale = (float)(m->moe.aux_coef * m->T / tokens), z_scale = (float)(m->moe.z_coef / tokens);
    moe_backward(m->dxn, &g, &m->moe_sc, m->dres, a->xn2, &a->moe, &w, &m->moe, &m->cfg.act, m->B, m->T,
                 m->cfg.d_model, aux_scale, z_scale, model_moe_q(m, l), act_time);
    float *load = m->moe_loads + (size_t)l * m->moe.E;
    for (int e = 0; e < m->moe.E; e++) load[e] += (float)(a->moe.off[e + 1] - a->moe.off[e]);
}

// ---- model.h ---------------------------------------------------------------------------------

int model_moe_view_of(const model *m, int l, model_moe_view *v) {
    if (!m->moe.E || !m->cap_rows || l < 0 || l >= m->cfg.n_layers) return -1;
    const moe_acts *a = &m->la[l].moe;
    *v = (model_moe_view){m->moe.E, m->moe.k, m->moe.h, m->moe.hs, (size_t)m->B * m->T, a->off, a->a,
                          m->moe.hs ? a->as : NULL, a->lb, a->zl};
    return 0;
}

double model_moe_aux_loss(const model *m) {
    double total = 0;
    for (int l = 0; m->moe.E && m->cap_rows && l < m->cfg.n_layers; l++)
        total += m->moe.aux_coef * m->la[l].moe.lb + m->moe.z_coef * m->la[l].moe.zl;
    return total;
}

int model_moe_load_count(const model *m) { return m->moe.E * m->cfg.n_layers; }
void model_moe_loads_get(const model *m, float *out) {
    memcpy(out, m->moe_loads, sizeof(float) * (size_t)model_moe_load_count(m));
}
void model_moe_loads_set(model *m, const float *in) {
    memcpy(m->moe_loads, in, sizeof(float) * (size_t)model_moe_load_count(m));
}

// DeepSeek-V3: b_e += γ·sign(mean load − load_e): an overloaded expert becomes less attractive.
void model_moe_step_end(model *m, int apply) {
    int E = m->moe.E;
    if (!E) return;
    float rate = m->cfg.moe_bias_rate;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        float *load = m->moe_loads + (size_t)l * E;
        size_t off = m->lo[l].moe.bias;
        if (apply && off != ABSENT && rate > 0) {
            double mean = 0;
            for (int e = 0; e < E; e++) mean += load[e];
            mean /= E;
            float *b = m->params + off;
            for (int e = 0; e < E; e++) b[e] += load[e] < mean ? rate : load[e] > mean ? -rate : 0.0f;
        }
        memset(load, 0, sizeof(float) * (size_t)E);
    }
}
