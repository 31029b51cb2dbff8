// ffn.c — the feed-forward block: gated  y = W_down · act(z = W_gate·x, u = W_up·x)
//                                  non-gated y = W_down · act(u = W_up·x)
// The activation (and its learnable scalars, PolyCom's four) is libactlab's act_forward/backward.
// Under low precision (q non-NULL) each matmul reads its inputs quantised: x and act(...) here,
// the weights through w (the model passes quantised copies), the output gradients in the backward.
// The activation itself always runs in f32 on the f32 matmul outputs.
#include "layers.h"

#include "lowp.h"
#include "util/timer.h"

// How the projection reading tensors (x, w, dy) runs (dy < 0: the forward, no gradient yet).
static linear_prec prec(const ffn_lowp *q, int id_x, int id_w, int id_dy) {
    return lowp_linear(q ? q->lp : NULL, id_x, id_w, id_dy);  // {LIN_F32} for q NULL
}

// The backward's: the same, plus the weight-gradient GEMM's own operands from x: (N,in) and
// dy: (N,out) in f32 (block formats).
static linear_prec prec_bwd(const ffn_lowp *q, int id_x, int id_w, int id_dy, const float *x, const float *dy, int N,
                            int in, int out) {
    linear_prec p = prec(q, id_x, id_w, id_dy);
    if (q) p.wg = lowp_wgrad(q->lp, id_x, id_dy, x, dy, N, in, out);
    return p;
}

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
    const float *xin = q_in(q, q ? q->id_x : 0, q ? q->xq : NULL, xn, N, C);
    linear_forward(u, xin, w->up, N, C, h, prec(q, q ? q->id_x : 0, q ? q->id_up_w : 0, -1));
    if (desc->gated) linear_forward(z, xin, w->gate, N, C, h, prec(q, q ? q->id_x : 0, q ? q->id_gate_w : 0, -1));
    double t0 = now_seconds();
    act_forward(spec, ACT_F32, (size_t)N, (size_t)h, desc->gated ? z : u, desc->gated ? u : NULL, w->act, a);
    if (act_time) *act_time += now_seconds() - t0;
    const float *ain = q_in(q, q ? q->id_down_x : 0, q ? q->aq : NULL, a, N, h);
    linear_forward(y, ain, w->down, N, h, C, prec(q, q ? q->id_down_x : 0, q ? q->id_down_w : 0, -1));
}

// dy: (N,C) -> dxn: (N,C); dz, du: (N,h) (f32, before quantisation); da: (N,h) scratch;
// weight gradients +=
void ffn_backward(float *dxn, float *dz, float *du, float *da, ffn_grads *g, const float *dy,
                  const float *xn, const float *z, const float *u, const float *a,
                  const ffn_weights *w, const act_spec *spec, int N, int C, int h, const ffn_lowp *q,
                  double *act_time) {
    const act_desc *desc = act_desc_of(spec->kind);
    const float *xin = q ? q->xq : xn, *ain = q ? q->aq : a;
    float *s = q ? q->scratch : NULL;
    // each output gradient is quantised before its precision is read: that fixes its scale
    const float *dyq = q_in(q, q ? q->id_down_dy : 0, s, dy, N, C);
    linear_backward(da, g->down, dyq, ain, w->down, N, h, C, 0,
                    prec_bwd(q, q ? q->id_down_x : 0, q ? q->id_down_w : 0, q ? q->id_down_dy : 0, a, dy, N, h, C));
    double t0 = now_seconds();
    if (desc->gated) act_backward(spec, ACT_F32, (size_t)N, (size_t)h, z, u, w->act, da, dz, du, g->act);
    else act_backward(spec, ACT_F32, (size_t)N, (size_t)h, u, NULL, w->act, da, du, NULL, g->act);
    if (act_time) *act_time += now_seconds() - t0;
    if (desc->gated) {
        const float *dzq = q_in(q, q ? q->id_gate_dy : 0, s, dz, N, h);
        linear_backward(dxn, g->gate, dzq, xin, w->gate, N, C, h, 0,
                        prec_bwd(q, q ? q->id_x : 0, q ? q->id_gate_w : 0, q ? q->id_gate_dy : 0, xn, dz, N, C, h));
    }
    const float *duq = q_in(q, q ? q->id_up_dy : 0, s, du, N, h);
    linear_backward(dxn, g->up, duq, xin, w->up, N, C, h, desc->gated,
                    prec_bwd(q, q ? q->id_x : 0, q ? q->id_up_w : 0, q ? q->id_up_dy : 0, xn, du, N, C, h));
}
