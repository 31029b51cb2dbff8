// registry.c — one descriptor per activation: name, form, learnable parameters, hyperparameters.
#include "actlab.h"

#include <string.h>

#define NO_PARAMS 0, {0}, {0}
#define POLYCOM_PARAMS 4, {1.0f / 3, 1.0f / 3, 1.0f / 3, 0.0f}, {"w_cubic", "w_square", "w_linear", "bias"}
#define NO_HYPER 0, {{0}}
// m: the paper proves the scalar form monotone for 0 < m < 10 and ablates 2, 3, 4.
#define POWLU_HYPER 1, {{"m", 3.0f, 0.01f, 10.0f, "PowLU exponent scale (paper: 3; monotone for 0 < m < 10)"}}

static const act_desc DESCS[ACT_COUNT] = {
    {ACT_RELU, "relu", "max(x, 0)", 0, 0, NO_PARAMS, NO_HYPER},
    {ACT_RELU2, "relu2", "max(x, 0)^2", 0, 0, NO_PARAMS, NO_HYPER},
    {ACT_GELU, "gelu", "GELU, tanh approximation", 0, 0, NO_PARAMS, NO_HYPER},
    {ACT_GELU_ERF, "gelu_erf", "GELU, exact erf form", 0, 0, NO_PARAMS, NO_HYPER},
    {ACT_SILU, "silu", "x*sigmoid(x)", 0, 0, NO_PARAMS, NO_HYPER},
    {ACT_POWLU_SCALAR, "powlu_scalar", "PowLU scalar form x*f_m(x) (non-gated)", 0, 0, NO_PARAMS, POWLU_HYPER},
    {ACT_POLYRELU, "polyrelu", "PolyCom PolyReLU, order 3, 4 learnable scalars", 0, 0, POLYCOM_PARAMS, NO_HYPER},
    {ACT_POLYNORM, "polynorm", "PolyCom PolyNorm, order 3, 4 learnable scalars", 0, 1, POLYCOM_PARAMS, NO_HYPER},
    {ACT_SWIGLU, "swiglu", "gated: u * silu(z)", 1, 0, NO_PARAMS, NO_HYPER},
    {ACT_GEGLU, "geglu", "gated: u * gelu(z)", 1, 0, NO_PARAMS, NO_HYPER},
    {ACT_REGLU, "reglu", "gated: u * relu(z)", 1, 0, NO_PARAMS, NO_HYPER},
    {ACT_SWIGLU_CLIP, "swiglu_clip", "gated, gpt-oss clamped SwiGLU (limit L, alpha)", 1, 0, NO_PARAMS,
     2,
     {{"limit", 7.0f, 0.01f, 1e4f, "clamp limit L: z' = min(z, L), u' = clamp(u, -L, L)"},
      {"alpha", 1.702f, 0.02f, 100.0f, "sigmoid slope: z' * sigmoid(alpha * z')"}}},
    {ACT_POWLU, "powlu", "gated: u * f_m(z), PowLU (Ling Team 2026)", 1, 0, NO_PARAMS, POWLU_HYPER},
};

const act_desc *act_desc_of(act_kind kind) {
    if ((int)kind < 0 || kind >= ACT_COUNT) return NULL;
    return &DESCS[kind];
}

const act_desc *act_find(const char *name) {
    if (!name) return NULL;
    for (int k = 0; k < ACT_COUNT; k++)
        if (!strcmp(DESCS[k].name, name)) return &DESCS[k];
    return NULL;
}

int act_spec_init(act_spec *s, const char *name) {
    const act_desc *d = act_find(name);
    if (!d) return -1;
    memset(s, 0, sizeof *s);
    s->kind = d->kind;
    for (int h = 0; h < d->n_hyper; h++) s->hp[h] = d->hyper[h].def;
    return 0;
}

int act_spec_set(act_spec *s, const char *hyper_name, float value) {
    const act_desc *d = act_desc_of(s->kind);
    if (!d || !hyper_name) return -1;
    for (int h = 0; h < d->n_hyper; h++) {
        if (strcmp(d->hyper[h].name, hyper_name)) continue;
        if (!(value >= d->hyper[h].lo && value <= d->hyper[h].hi)) return -2;  // NaN fails too
        s->hp[h] = value;
        return 0;
    }
    return -1;
}

void act_params_init(act_kind kind, float *params) {
    const act_desc *d = act_desc_of(kind);
    if (!d) return;
    for (int i = 0; i < d->n_params; i++) params[i] = d->param_init[i];
}
