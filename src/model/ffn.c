// ffn.c — the feed-forward block: gated  y = W_down · act(z = W_gate·x, u = W_up·x)
//                                  non-gated y = W_down · act(u = W_up·x)
// The activation (and its learnable scalars, PolyCom's four) is libactlab's act_forward/backward.
// Under low precision (q non-NULL) each matmul reads its inputs quantised: x and act(...) here,
// the weights through w (the model passes quantised copies), the output gradients in the backward.
// The activation itself always runs in f32 on the f32 matmul outputs.
#include "layers.h"

#include "lowp.h"
#include "util/timer.h"

// The tensor as a matmul sees it: quantised into buf, or itself in f32.
static const float *q_in(const ffn_lowp *q, int id, float *buf, const float *x, int rows, int cols) {
    if (!q) return x;
    lowp_quantize(q->lp, id, buf, x, rows, cols);
    return buf;
}

// xn: (N,C) -> z, u, a: (N,h), y: (N,C)
void ffn_forward(float *y, float *z, float *u, float *a, const float *xn, const ffn_weights *w,
                 const act_spec *spec, int N, int C, int h, const ffn_lowp *q, double *act_time) {
    const act_desc *desc = act_desc_of(spec->kind);
    const int bf16 = q && q->bf16;
    const float *xin = q_in(q, q ? q->id_x : 0, q ? q->xq : NULL, xn, N, C);
    linear_forward(u, xin, w->up, N, C, h, bf16);
    if (desc->gated) linear_forward(z, xin, w->gate, N, C, h, bf16);
    double t0 = now_seconds();
    act_forward(spec, ACT_F32, (size_t)N, (size_t)h, desc->gated ? z : u, desc->gated ? u : NULL, w->act, a);
    if (act_time) *act_time += now_seconds() - t0;
    const float *ain = q_in(q, q ? q->id_down_x : 0, q ? q->aq : NULL, a, N, h);
    linear_forward(y, ain, w->down, N, h, C, bf16);
}

// dy: (N,C) -> dxn: (N,C); dz, du: (N,h) (f32, before quantisation); da: (N,h) scratch;
// weight gradients +=
void ffn_backward(float *dxn, float *dz, float *du, float *da, ffn_grads *g, const float *dy,
                  const float *xn, const float *z, const float *u, const float *a,
                  const ffn_weights *w, const act_spec *spec, int N, int C, int h, const ffn_lowp *q,
                  double *act_time) {
    const act_desc *desc = act_desc_of(spec->kind);
    const int bf16 = q && q->bf16;
    const float *xin = q ? q->xq : xn, *ain = q ? q->aq : a;
    float *s = q ? q->scratch : NULL;
    linear_backward(da, g->down, q_in(q, q ? q->id_down_dy : 0, s, dy, N, C), ain, w->down, N, h, C, 0, bf16);
    double t0 = now_seconds();
    if (desc->gated) act_backward(spec, ACT_F32, (size_t)N, (size_t)h, z, u, w->act, da, dz, du, g->act);
    else act_backward(spec, ACT_F32, (size_t)N, (size_t)h, u, NULL, w->act, da, du, NULL, g->act);
    if (act_time) *act_time += now_seconds() - t0;
    if (desc->gated) linear_backward(dxn, g->gate, q_in(q, q ? q->id_gate_dy : 0, s, dz, N, h), xin, w->gate, N, C, h, 0, bf16);
    linear_backward(dxn, g->up, q_in(q, q ? q->id_up_dy : 0, s, du, N, h), xin, w->up, N, C, h, desc->gated, bf16);
}
