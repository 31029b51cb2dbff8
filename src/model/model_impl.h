// model_impl.h — the model's private state (internal to src/model): model.c owns the layout,
// workspace and forward/backward; lowp.c the low-precision side (quantised weights and inputs).
#ifndef ACTLAB_MODEL_IMPL_H
#define ACTLAB_MODEL_IMPL_H

#include "model.h"

#include "layers.h"
#include "lowp.h"

#define ABSENT ((size_t)-1)

// Profile sections (wall time, forward and backward separately; see model_timings).
enum { SEC_EMBED, SEC_NORM, SEC_ATTN_MM, SEC_ATTN, SEC_FFN_MM, SEC_ACT, SEC_RESID, SEC_HEAD, SEC_CE, SEC_CAST,
       SEC_COUNT };

typedef struct {  // one FFN's tensors: offsets into the flat parameter (and gradient) array
    size_t gate, up, down, act;  // gate and act ABSENT when the activation has none
} ffn_offsets;

typedef struct {  // an MoE FFN's tensors
    size_t router, bias;   // bias: the sigmoid router's selection biases (ABSENT for softmax)
    ffn_offsets *experts;  // (E)
    ffn_offsets shared;    // the shared experts as one FFN (up ABSENT when there are none)
} moe_offsets;

typedef struct {  // offsets into the flat parameter (and gradient) array
    size_t ln1, qkv, o, ln2;
    ffn_offsets ffn;  // the dense FFN (all ABSENT in an MoE model)
    moe_offsets moe;  // MoE models only
} layer_offsets;

typedef struct {  // activations of one layer kept for the backward; rows N = B·T
    float *xn1, *rstd1;  // (N,d), (N)   input_layernorm output and 1/rms
    float *qkv;          // (N,(H+2Hkv)·D) after RoPE
    float *att;          // (N,d)        attention output (o_proj input)
    float *lse;          // (B,H,T)      log-sum-exp per score row
    float *mid;          // (N,d)        residual stream after attention
    float *xn2, *rstd2;  // (N,d), (N)   post_attention_layernorm
    float *z, *u, *a;    // (N,h)        gate output (gated only), up output, activation output
    float *dz, *du;      // (N,h)        their gradients (kept for telemetry)
    // low precision only: the projections' inputs as the matmuls saw them (kept for the backward)
    float *xq1, *attq, *xq2;  // (N,d)
    float *aq;                // (N,h)
    moe_acts moe;             // MoE models: the routed FFN's state (z..du above stay NULL)
} layer_acts;

struct model {
    model_config cfg;
    const act_desc *act;
    int head_dim, qkv_dim, hidden;
    size_t n_params;
    float *params, *grads;
    int n_tensors, cap_tensors;
    model_tensor *tensors;
    size_t off_embed, off_norm, off_head;
    layer_offsets *lo;
    float *rope_cos, *rope_sin;  // (max_seq_len, head_dim/2)
    // workspace for the last forward
    size_t cap_rows;  // rows the workspace holds
    int B, T, has_targets, backward_done, n_valid, loss_count;
    int loss_grad_ready;  // the forward was model_forward_train's: the logits hold their gradient
    float *ws;
    int32_t *tokens, *targets;
    float **res;      // (n_layers+1) x (N,d): the residual stream entering each layer, then the final one
    layer_acts *la;
    float *xnf, *rstdf, *logits, *lse_ce;
    int ld_logits;    // the logits' row stride (V padded: layers.h, crossentropy)
    float *dres, *dxn, *dqkv, *datt, *da;  // backward scratch
    lowp *lp;                  // NULL in fp32
    model_precision prec;
    float *wq;                 // low precision: the parameters as the matmuls see them (quantised matrices)
    float *xqf, *dq;           // low precision: quantised LM-head input (N,d); a quantised gradient (N,max(d,h))
    double prof[SEC_COUNT][2];             // seconds per section, [0] forward, [1] backward
    // MoE (moe.E == 0: dense)
    moe_spec moe;
    moe_scratch moe_sc;        // backward scratch (workspace)
    ffn_weights *moe_w;        // (E+1) per-call views: the experts, then the shared experts
    ffn_grads *moe_g;          // (E+1)
    ffn_lowp *moe_q;           // (E+1) low precision per call: the experts, then the shared experts
    float *moe_loads;          // (n_layers·E) tokens per expert since the last model_moe_step_end
};

// What a tensor is for: how it starts and whether weight decay applies.
typedef struct {
    model_init init;
    int decay;
} tensor_role;
static const tensor_role MATRIX = {MODEL_INIT_NORMAL, 1}, RESIDUAL_OUT = {MODEL_INIT_RESIDUAL, 1},
                         NORM_GAIN = {MODEL_INIT_ONES, 0}, ACT_SCALARS = {MODEL_INIT_ACT, 0},
                         ZERO_BUFFER = {MODEL_INIT_ZEROS, 0};

// model.c: appends a tensor of (rows, cols) (cols 0: a vector) named printf-style; returns its offset.
size_t model_add_tensor(model *m, tensor_role role, int rows, int cols, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
// model.c: one FFN of hidden size h named "<prefix>.gate_proj.weight", ... in HF order.
ffn_offsets model_add_ffn(model *m, const char *prefix, int h);
// One FFN's weights (or gradients) in the flat array P (or G).
ffn_weights model_ffn_view(const ffn_offsets *o, const float *P);
ffn_grads model_ffn_grad_view(const ffn_offsets *o, float *G);

// The workspace's bump allocator: n floats from base at *used (or, base NULL, only counting).
static inline float *model_ws_take(float *base, size_t *used, size_t n) {
    float *p = base ? base + *used : NULL;
    *used += (n + 15) / 16 * 16;  // keep every array 64-byte aligned
    return p;
}

// model_moe.c: the MoE side of the layout, workspace, forward and backward of layer l.
void model_moe_init(model *m);                   // after the config is set: m->moe and the views
void model_moe_add_tensors(model *m, int l);     // layer l's router and experts
void model_moe_layout(model *m, float *base, size_t *used, size_t N);  // every layer's MoE arrays and scratch
void model_moe_forward(model *m, int l, const float *P, double *act_time);  // la[l].xn2 -> res[l+1]
void model_moe_backward(model *m, int l, const float *P, float *G, double *act_time);  // dres -> dxn
void model_moe_free(model *m);

// model.c: drops the workspace (it is re-laid out, with or without the quantised copies, on the
// next forward).
void model_free_workspace(model *m);
// lowp.c: the tensor x: (rows, cols) as a matmul sees it: quantised into buf, or x itself in fp32.
const float *model_q_act(model *m, int id, float *buf, const float *x, int rows, int cols);
// lowp.c: layer l's FFN quantisation ids and buffers.
ffn_lowp model_ffn_q(model *m, int l);
// lowp.c: an MoE layer's, per unit (m->moe_q, see moe_forward); NULL in fp32.
const ffn_lowp *model_moe_q(model *m, int l);
// lowp.c: m->wq = the parameters with every projection matrix quantised; returns m->wq.
const float *model_quantize_weights(model *m);
// lowp.c: the embedding lookup into res[0] from the parameters P as the forward reads them (a tied
// table is the LM head's weight: its bf16 codes where a native GEMM reads them).
void model_embed(model *m, const float *P);

#endif
