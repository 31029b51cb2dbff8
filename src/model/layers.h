// layers.h — the model's layers, each a *_forward / *_backward pair (internal to src/model).
//
// Conventions: N = B·T rows (tokens), row-major f32 arrays, matrices stored (out, in) like
// torch.nn.Linear. A backward that writes a parameter gradient ACCUMULATES (+=) into it, so
// gradient accumulation over micro-batches needs no copies. Every routine is deterministic and
// independent of the OpenMP thread count: parallel loops split rows (or columns of a parameter
// gradient) and each output element is reduced by one thread in a fixed order.
#ifndef ACTLAB_MODEL_LAYERS_H
#define ACTLAB_MODEL_LAYERS_H

#include "actlab.h"

#include <stddef.h>
#include <stdint.h>

// Elements of work below which a loop stays on one thread: waking the OpenMP team costs a few
// microseconds (much more on a loaded machine), about what 8K elements of a cheap loop take.
#define PAR_MIN 8192

// ---- linear.c: y = x·Wᵀ through the GEMM layer (src/gemm) ---------------------------------
// How a projection's GEMMs read their inputs (lowp_linear fills it; {LIN_F32} for fp32):
//   LIN_F32   f32 GEMMs (fp32, and the exact emulation of bf16/FP8: inputs are Q(x·s)/s)
//   LIN_BF16  every input (x, w, dy) holds bf16 values: bf16 GEMMs, f32 accumulation
//   LIN_FP8   every input holds FP8 codes Q(t·s_t) (or bf16 values, s_t = 1): bf16 GEMMs of the
//             codes, f32 accumulation, the output scaled by 1/(s_a·s_b) (gemm_fp8_tensor)
//   For LIN_BF16 and LIN_FP8 the inputs are bf16 codes, stored in place of the f32 tensor: row r
//   of a (rows, cols) input is the first cols uint16 of its f32 row, so the GEMM reads the codes
//   with row stride 2·cols and nothing is converted between the quantisation and the product.
//   Block formats (mxfp8/mxfp4/nvfp4) are LIN_FP8 too: their block scales are pre-multiplied into
//             the values exactly (element × block scale is a bf16 value), only NVFP4's per-tensor
//             scale is left for the output (lowp_block.c).
typedef enum { LIN_F32, LIN_BF16, LIN_FP8 } linear_kind;
// The weight-gradient GEMM's own operands: block recipes re-quantise dy and x along the tokens
// (the reduction of dW = dyᵀ·x), optionally after a Hadamard transform. dy NULL: the wgrad reads
// the dy and x of the other products.
typedef struct {
    const float *dy, *x;  // (N,out), (N,in)
    float sdy, sx;        // LIN_FP8: their scales
} linear_wgrad;
typedef struct {
    linear_kind kind;
    float sx, sw, sdy;  // LIN_FP8: the scales of x, w and dy
    linear_wgrad wg;
    int ldy;            // the f32 row stride of y and dy when it is not out (0: out); codes: 2·ldy
} linear_prec;
// x: (N,in), w: (out,in) -> y: (N,out)
void linear_forward(float *y, const float *x, const float *w, int N, int in, int out, linear_prec p);
// dy: (N,out) -> dx: (N,in) (overwritten, or += when accumulate_dx; skipped when dx is NULL),
// dw: (out,in) +=
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx, linear_prec p);
// OpenBLAS's own thread count. The model keeps it at 1 and threads its products with OpenMP
// (attention.c's per-head products; the projections' GEMM layer tiles likewise).
void blas_set_threads(int n);

// ---- embedding.c ----------------------------------------------------------------------------
// tokens: (N), emb: (V,C) -> x: (N,C)
void embedding_forward(float *x, const int32_t *tokens, const float *emb, int N, int C);
// The same from a table of bf16 codes of row stride ld (a tied embedding under native bf16).
void embedding_forward_bf16(float *x, const int32_t *tokens, const uint16_t *emb, size_t ld, int N, int C);
// dx: (N,C) -> demb: (V,C) +=
void embedding_backward(float *demb, const float *dx, const int32_t *tokens, int N, int C);

// ---- rmsnorm.c: y = x / sqrt(mean(x²) + eps) · g -------------------------------------------
// x: (N,C), g: (C) -> y: (N,C), rstd: (N)
void rmsnorm_forward(float *y, float *rstd, const float *x, const float *g, int N, int C, float eps);
// dy: (N,C) -> dx: (N,C) +=, dg: (C) +=    (dx accumulates: it is the residual stream's gradient)
void rmsnorm_backward(float *dx, float *dg, const float *dy, const float *x, const float *g,
                      const float *rstd, int N, int C);

// ---- rope.c: rotary embedding, rotate-half pairs (i, i + D/2) within each head ---------------
// cos_t, sin_t: (max_T, D/2), angle t·theta^(-2i/D)
void rope_table(float *cos_t, float *sin_t, int max_T, int D, float theta);
// x: (B,T) rows of stride ld, each holding n_heads consecutive heads of D values from column 0;
// rotated in place by the position t of the row.
void rope_forward(float *x, int B, int T, int n_heads, int D, int ld, const float *cos_t, const float *sin_t);
// dx: same layout, in place: the transpose (inverse) rotation.
void rope_backward(float *dx, int B, int T, int n_heads, int D, int ld, const float *cos_t, const float *sin_t);
// One head's row at position t: y = R(t)·x (sign +1) or R(t)ᵀ·x (sign −1), c and s the table rows
// of t (D/2 each); y may alias x. rope_forward/backward's arithmetic, element for element.
// Inline: the attention core calls it per row as it packs (six times per row and head per step),
// where a call of its own took ~12% of the core's time at head size 32.
static inline void rope_rotate(float *y, const float *x, int D, const float *c, const float *s, float sign) {
    int half = D / 2;
    // y may be x (unpacking rotates in place), which GCC's alias check sends to a scalar loop; each
    // element is read before it is written either way, so the vector loop is asserted.
#pragma omp simd
    for (int i = 0; i < half; i++) {
        float si = sign * s[i], ai = x[i], bi = x[i + half];
        y[i] = ai * c[i] - bi * si;
        y[i + half] = bi * c[i] + ai * si;
    }
}

// ---- attention.c: causal softmax attention, grouped-query heads -----------------------------
// qkv: (B,T,(H+2·Hkv)·D) rows [q heads | k heads | v heads], query head h reads kv head
// h / (H/Hkv). -> out: (B,T,H·D), lse: (B,H,T) the log-sum-exp of each score row (kept instead
// of the (T,T) probabilities: the backward recomputes them, so memory stays O(T) per head).
// With rope tables (cos_t, sin_t as rope_table's; NULL for none) q and k are rotated as they are
// packed, as rope_forward would have rotated them in qkv beforehand (same bits), which saves a
// pass over q and k in each direction.
void attention_forward(float *out, float *lse, const float *qkv, int B, int T, int H, int Hkv, int D,
                       const float *cos_t, const float *sin_t);
// dout: (B,T,H·D) -> dqkv: (B,T,(H+2·Hkv)·D) (overwritten), the gradient with respect to the
// unrotated qkv when the tables are given (rope_backward applied as dq and dk are unpacked).
void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *out,
                        const float *lse, int B, int T, int H, int Hkv, int D, const float *cos_t,
                        const float *sin_t);

// ---- ffn.c: the feed-forward block around a libactlab activation ------------------------------
typedef struct {
    const float *gate;   // (h,C); NULL when the activation is not gated
    const float *up;     // (h,C)
    const float *down;   // (C,h)
    const float *act;    // the activation's learnable scalars (NULL when it has none)
} ffn_weights;
typedef struct {
    float *gate, *up, *down, *act;  // same shapes as ffn_weights, +=
} ffn_grads;
// Low precision (lowp.h): the FFN's quantised tensors and where their quantised copies live.
// NULL everywhere below means f32 (nothing quantised).
struct lowp;
typedef struct {
    struct lowp *lp;
    int id_x, id_down_x, id_gate_dy, id_up_dy, id_down_dy;  // lowp tensor ids
    int id_gate_w, id_up_w, id_down_w;
    float *xq;       // (N,C) the quantised FFN input, kept for the backward
    float *aq;       // (N,h) the quantised down-projection input, kept for the backward
    float *scratch;  // (N,max(C,h)) a quantised output gradient
} ffn_lowp;
// xn: (N,C) -> z: (N,h) gate pre-activation (gated only), u: (N,h) up output, a: (N,h) activation
// output (the down-projection input), y: (N,C)
// act_time (may be NULL): seconds spent in the activation are added to it.
void ffn_forward(float *y, float *z, float *u, float *a, const float *xn, const ffn_weights *w,
                 const act_spec *spec, int N, int C, int h, const ffn_lowp *q, double *act_time);
// dy: (N,C) -> dxn: (N,C) (overwritten); dz, du: (N,h) gradients at the gate / up outputs
// (dz untouched when not gated); da: (N,h) scratch.
void ffn_backward(float *dxn, float *dz, float *du, float *da, ffn_grads *g, const float *dy,
                  const float *xn, const float *z, const float *u, const float *a,
                  const ffn_weights *w, const act_spec *spec, int N, int C, int h, const ffn_lowp *q,
                  double *act_time);

// ---- moe.c, moe_router.c: the mixture-of-experts FFN (docs/moe.md) --------------------------------
// y = Σ_{e ∈ top-k(x)} w_e(x) · FFN_e(x) + FFN_shared(x). Tokens are grouped per expert (a
// counting sort, stable in token order) so each expert runs ffn_forward/backward once on its
// contiguous rows: one GEMM per projection. Grouped row r belongs to expert e when
// off[e] <= r < off[e+1]; the combine adds each token's k outputs in its own fixed order, so the
// result does not depend on the thread count.
typedef struct {
    int E, k, h;        // routed experts, experts per token, one expert's hidden size
    int hs;             // the shared experts' hidden size together (0: none)
    int router, renorm; // moe_router_kind; 1: the k weights are divided by their sum
    float aux_coef, z_coef;
} moe_spec;
typedef struct {
    const float *router;         // (E,C)
    const float *bias;           // (E) sigmoid router: selection bias (NULL: none)
    const ffn_weights *experts;  // (E)
    const ffn_weights *shared;   // NULL when hs == 0
} moe_weights;
typedef struct {
    float *router;         // (E,C) +=
    ffn_grads *experts;    // (E)
    ffn_grads *shared;     // NULL when hs == 0
} moe_grads;
typedef struct {  // one layer's forward state (the model's workspace), N tokens
    float *logits;         // (N,E) router logits
    int *sel;              // (N,k) chosen experts, best first
    float *w;              // (N,k) their combine weights
    int *row;              // (N,k) grouped row of each choice
    int *tok;              // (N·k) token of each grouped row
    int *off;              // (E+1) first grouped row of each expert
    float *xg;             // (N·k,C) the FFN input, grouped
    float *z, *u, *a, *ye; // (N·k,h) gate output (gated only), up output, activation output; (N·k,C) expert output
    float *dz, *du;        // (N·k,h) their gradients (telemetry)
    float *zs, *us, *as;   // (N,hs) the shared experts' (hs > 0)
    float *dzs, *dus;      // (N,hs)
    float *xq, *aq;        // low precision: (N·k,C), (N·k,h) the quantised grouped inputs, kept for the backward
    float *xqs, *aqs;      // low precision: (N,C), (N,hs) the shared experts'
    double lb, zl;         // the load-balancing and z losses of this forward, before coefficients
} moe_acts;
typedef struct {  // backward scratch
    float *dye, *dxg;      // (N·k,C)
    float *da;             // (N·max(k·h, hs))
    float *dg;             // (N,k)
    float *dr;             // (N,E)
} moe_scratch;

// moe_router.c. logits: (N,E), bias: (E) or NULL -> sel, w: (N,k). Top-k by the logit (softmax)
// or by sigmoid(logit) + bias (sigmoid); ties go to the lower expert index.
void moe_route(int *sel, float *w, const float *logits, const float *bias, const moe_spec *s, int N);
// sel: (N,k) -> off: (E+1), tok: (N·k), row: (N,k): the stable counting sort by expert.
void moe_group(int *off, int *tok, int *row, const int *sel, int N, int k, int E);
// The auxiliary losses of B sequences of T tokens: lb = mean over sequences of the Switch/OLMoE
// load-balancing loss E·Σ_e f_e·P_e (f_e: the sequence's tokens routed to e over T, P_e: its mean
// router probability; k at perfect balance), zl = mean over tokens of logsumexp(logits)².
void moe_aux_losses(double *lb, double *zl, const float *logits, const int *sel, const moe_spec *s, int B, int T);
// dg: (N,k) gradient of the combine weights -> dr: (N,E) gradient of the logits, with the
// auxiliary losses' gradients: aux_scale multiplies each sequence's lb, z_scale each token's lse².
void moe_router_backward(float *dr, const float *dg, const float *logits, const int *sel, const moe_spec *s,
                         int B, int T, float aux_scale, float z_scale);

// moe.c. xn: (N,C), N = B·T -> y: (N,C) (overwritten), a filled. act_time as in ffn_forward.
// q: NULL (f32), or low precision per unit, the E experts then the shared ones: their tensor ids
// and scratch (moe.c points xq and aq at the unit's rows of a->xq/aq, or at a->xqs/aqs).
void moe_forward(float *y, moe_acts *a, const float *xn, const moe_weights *w, const moe_spec *s,
                 const act_spec *act, int B, int T, int C, const ffn_lowp *q, double *act_time);
// dy: (N,C) -> dxn: (N,C) (overwritten), parameter gradients +=. The auxiliary losses enter with
// aux_scale / z_scale (moe_router_backward). q as in the forward.
void moe_backward(float *dxn, moe_grads *g, const moe_scratch *sc, const float *dy, const float *xn,
                  moe_acts *a, const moe_weights *w, const moe_spec *s, const act_spec *act, int B, int T,
                  int C, float aux_scale, float z_scale, const ffn_lowp *q, double *act_time);

// ---- crossentropy.c ---------------------------------------------------------------------------
// The logits are (N,V) with row stride ld >= V: the model pads V so that the LM head's weight
// gradient, which reads them down the columns, does not hit the same cache sets row after row
// (a stride of 8192 floats made that GEMM 25-35% slower; docs/model.md).
// logits: (N,V) of stride ld, targets: (N) (< 0: ignored) -> lse: (N); returns the summed loss over
// valid rows (in double, rows added in order) and their count in *n_valid.
double crossentropy_forward(float *lse, const float *logits, const int32_t *targets, int N, int V, int ld,
                            int *n_valid);
// The loss's gradient scale, the one rule for both passes: 1/count when the caller fixes the
// count (count > 0: tokens per optimiser step under accumulation), else 1/n_valid; 0 when none.
float crossentropy_scale(int count, int n_valid);
// What crossentropy_backward leaves: f32 gradients, or (the LM head's input under low precision)
// each row rounded to bf16 as soon as it is computed, while it is still in cache, instead of in a
// second pass over the whole (N,V) array: bf16 values in f32 (the emulated product), or bf16 codes
// in the first half of each row (the native one: code row i at (uint16_t *)(dlogits + i·ld)).
typedef enum { CE_F32, CE_BF16_QDQ, CE_BF16_CODES } ce_out;
// dlogits = (softmax(logits) − onehot(target)) · scale, 0 on ignored rows, same stride ld, then
// rounded as `out` says; dlogits may alias logits. st (bf16 only) += the rounding's counts.
void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int32_t *targets,
                           int N, int V, int ld, float scale, ce_out out, num_qstats *st);
// Both at once, for a training step (one pass over the logits instead of two, one exp per logit
// instead of two): returns crossentropy_forward's sum and fills lse and n_valid as it does, and
// leaves in logits what crossentropy_backward would, with scale crossentropy_scale(count,
// n_valid). The gradient differs from the backward's in rounding only (e^(l−max)/Σ for e^(l−lse)).
double crossentropy_fused(float *logits, float *lse, const int32_t *targets, int N, int V, int ld, int count,
                          ce_out out, num_qstats *st, int *n_valid);

#endif
