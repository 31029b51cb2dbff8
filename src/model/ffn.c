// ffn.c — the feed-forward block: gated  y = W_down · act(z = W_gate·x, u = W_up·x)
//                                  non-gated y = W_down · act(u = W_up·x)
// The activation (and its learnable scalars, PolyCom's four) is libactlab's act_forward/backward.
#include "layers.h"

#include "util/timer.h"

// xn: (N,C) -> z, u, a: (N,h), y: (N,C)
void ffn_forward(float *y, float *z, float *u, float *a, const float *xn, const ffn_weights *w,
                 const act_spec *spec, int N, int C, int h, double *act_time) {
    const act_desc *desc = act_desc_of(spec->kind);
    linear_forward(u, xn, w->up, N, C, h);
    if (desc->gated) linear_forward(z, xn, w->gate, N, C, h);
    double t0 = now_seconds();
    act_forward(spec, ACT_F32, (size_t)N, (size_t)h, desc->gated ? z : u, desc->gated ? u : NULL, w->act, a);
    if (act_time) *act_time += now_seconds() - t0;
    linear_forward(y, a, w->down, N, h, C);
}

// dy: (N,C) -> dxn: (N,C); dz, du: (N,h); da: (N,h) scratch; weight gradients +=
void ffn_backward(float *dxn, float *dz, float *du, float *da, ffn_grads *g, const float *dy,
                  const float *xn, const float *z, const float *u, const float *a,
                  const ffn_weights *w, const act_spec *spec, int N, int C, int h, double *act_time) {
    const act_desc *desc = act_desc_of(spec->kind);
    linear_backward(da, g->down, dy, a, w->down, N, h, C, 0);
    double t0 = now_seconds();
    if (desc->gated) act_backward(spec, ACT_F32, (size_t)N, (size_t)h, z, u, w->act, da, dz, du, g->act);
    else act_backward(spec, ACT_F32, (size_t)N, (size_t)h, u, NULL, w->act, da, du, NULL, g->act);
    if (act_time) *act_time += now_seconds() - t0;
    if (desc->gated) linear_backward(dxn, g->gate, dz, xn, w->gate, N, C, h, 0);
    linear_backward(dxn, g->up, du, xn, w->up, N, C, h, desc->gated);
}
