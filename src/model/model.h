// model.h — a Llama-style decoder with any libactlab activation in its FFN:
// embedding -> L x [RMSNorm -> causal MHA with RoPE -> residual -> RMSNorm -> FFN -> residual]
// -> RMSNorm -> LM head -> cross-entropy. Forward and hand-written backward on the CPU in f32.
// (Contract shared by the model and train layers.)
#ifndef ACTLAB_MODEL_H
#define ACTLAB_MODEL_H

#include "actlab.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int vocab_size;
    int d_model;
    int n_layers;
    int n_heads;
    int n_kv_heads;        // grouped-query attention; == n_heads for plain MHA
    int max_seq_len;
    int ffn_hidden;        // 0: derived, see model_ffn_hidden()
    int tied_embeddings;   // 1: the LM head reuses the token embedding
    float rope_theta;      // 10000
    float norm_eps;        // RMSNorm epsilon, 1e-5
    float init_std;        // 0.02
    act_spec act;          // the FFN activation and its hyperparameters
    // Mixture of experts (docs/moe.md): moe_experts 0 keeps the dense FFN and ignores the rest.
    int moe_experts;       // E routed experts (at most MOE_MAX_EXPERTS)
    int moe_top_k;         // routed experts per token
    int moe_shared;        // always-active shared experts (0: OLMoE style; >= 1: Ling/DeepSeek style)
    int moe_hidden;        // one expert's hidden size (0: model_ffn_hidden's equal-parameter rule)
    int moe_router;        // moe_router_kind
    int moe_renorm;        // 1: the k combine weights are divided by their sum
    float moe_aux_coef;    // load-balancing loss coefficient (OLMoE: 0.01)
    float moe_z_coef;      // router z-loss coefficient (OLMoE: 0.001)
    float moe_bias_rate;   // sigmoid router: the aux-loss-free bias step per optimiser step (DeepSeek-V3: 0.001)
} model_config;

// How the router scores experts: softmax over the E logits (OLMoE, Switch), or per-expert sigmoid
// with a selection-only bias that balancing moves (DeepSeek-V3's auxiliary-loss-free method).
typedef enum { MOE_SOFTMAX, MOE_SIGMOID } moe_router_kind;
extern const char *const moe_router_names[];  // "softmax", "sigmoid", NULL
#define MOE_MAX_EXPERTS 256

void model_config_default(model_config *c);  // the anchor configuration: V 8192, d 256, 4 layers, 4 heads, T 256, swiglu
// Gated: 8/3·d rounded up to a multiple of 64; non-gated: 3/2 of that (PolyCom's equal-parameter rule).
int model_ffn_hidden(const model_config *c);
// MoE: one expert's hidden size: moe_hidden, else the same rule (so a non-gated expert is 3/2 as wide).
int model_expert_hidden(const model_config *c);
// Where a model's parameters are (from the configuration alone; total == model_num_params of the
// model it builds): the token embedding (and an untied LM head), attention projections, the FFNs
// (with the activation's learnable scalars) and the RMSNorm gains.
// MoE: ffn counts every expert and the routers (and a sigmoid router's selection biases, which
// are not trained by the optimiser); ffn_active and active count what one token uses: the router,
// top_k routed experts and the shared experts. Dense: active == total.
typedef struct {
    size_t embeddings, attention, ffn, norms, total;
    size_t ffn_active, active;
} model_param_split;
void model_param_split_of(const model_config *c, model_param_split *s);
// Returns NULL when the configuration is valid, else a sentence saying what is wrong.
const char *model_config_check(const model_config *c);

// How a tensor starts: recorded when the layout adds it, so initialisation never reads names.
typedef enum {
    MODEL_INIT_NORMAL,    // normal(0, init_std): embeddings, q/k/v, gate and up projections, LM head
    MODEL_INIT_RESIDUAL,  // normal(0, init_std / sqrt(2·n_layers)): o_proj and down_proj
    MODEL_INIT_ONES,      // RMSNorm gains
    MODEL_INIT_ACT,       // the activation's own initial scalars (act_desc.param_init from act_param)
    MODEL_INIT_ZEROS,     // MoE: a sigmoid router's selection biases
} model_init;

// One named parameter tensor inside the flat parameter array (HF Llama names, see export).
typedef struct {
    char name[64];      // "model.layers.0.mlp.up_proj.weight"
    size_t offset;      // in floats, into model_params()
    size_t numel;
    int ndim;
    int shape[2];       // (out, in) for matrices, like torch.nn.Linear
    int decay;          // 1: AdamW weight decay applies (matrices, embeddings); 0: norms, act scalars
    model_init init;
    int act_param;      // MODEL_INIT_ACT: index of its first scalar among the activation's parameters
} model_tensor;

typedef struct model model;

model *model_create(const model_config *cfg, uint64_t seed);  // documented init, see model.c
void model_free(model *m);
const model_config *model_cfg(const model *m);

size_t model_num_params(const model *m);
float *model_params(model *m);   // flat, every tensor
float *model_grads(model *m);    // same layout as params
int model_num_tensors(const model *m);
const model_tensor *model_tensor_at(const model *m, int i);
int model_tensor_find(const model *m, const char *name);  // index of the named tensor, -1 if absent
// Matmul FLOPs per token of one training step (forward + backward) at sequence length T:
// 6·(projection and LM-head parameters) + 6·n_layers·d_model·(T+1) for causal attention.
// MoE: the projections one token uses (router, top_k experts, shared experts).
double model_flops_per_token(const model *m, int T);

// Wall time per part of model_forward / model_backward, summed since creation or the last reset
// (always on: two clock reads per layer call). Fills up to max entries; returns how many.
typedef struct {
    const char *name;  // "attention core", "activation", "ffn matmuls", ...
    double forward_s, backward_s;
} model_timing;
int model_timings(const model *m, model_timing *out, int max);
void model_timings_reset(model *m);

// tokens, targets: (B,T) int32. Returns the mean cross-entropy (targets may be NULL: then only the
// logits are computed and 0 is returned). Activations are kept for model_backward.
float model_forward(model *m, const int32_t *tokens, const int32_t *targets, int B, int T);
// model_forward for a training step (targets required): the same loss, and the loss's gradient
// is computed in the same pass over the logits and left in their place, so the logits themselves
// are gone (model_logits_row gives NULL). Saves a pass over the (N,V) logits and their exps; the
// gradients differ from model_forward's + model_backward's by rounding only.
float model_forward_train(model *m, const int32_t *tokens, const int32_t *targets, int B, int T);
// Accumulates (+=) d(mean loss)/d(params) into model_grads() for the last forward.
void model_backward(model *m);
void model_zero_grad(model *m);
// Data parallelism: model_backward differentiates (summed loss) / n rather than the mean over this
// batch's targets, n being the target count of the whole batch that ranks split (0: the mean). The
// gradients of one rank's rows are then the very numbers a single process computes for them, fp8
// underflow and saturation included.
void model_set_loss_count(model *m, int n);
// Row `row` (b·T + t) of the last forward's logits (V values); NULL after the backward (which
// reuses them), after model_forward_train, or for a row outside the batch.
const float *model_logits_row(const model *m, int row);
// (valid until model_backward, which reuses that buffer for the logits' gradient; NULL after it)

// ---- Low precision (emulated): what FP8/bf16 training does to every matmul input ----------------
// fp32: nothing is quantised. bf16: every projection's inputs (activations, weights, output
// gradients) rounded to bf16. fp8: activations and weights E4M3, gradients E5M2, each with a scale
// from the recipe; the LM head stays bf16 (as in DeepSeek-V3 and Transformer Engine practice) and
// the attention core (QKᵀ, PV) stays f32 in every precision. Master weights, gradients and the
// optimiser state are always f32.
// Block-scaled (mxfp8, mxfp4, nvfp4: NVIDIA's NVFP4 pre-training recipe as Transformer Engine runs
// it, docs/lowp.md): activations and output gradients in 1×B blocks, weights in B×B blocks (one
// quantised weight for the forward and the transposed backward), the weight-gradient GEMM's two
// operands re-quantised in B×1 blocks along the tokens, B = 16 (nvfp4) or 32 (MX); gradients
// rounded stochastically in the 4-bit formats; the LM head bf16.
typedef enum { PREC_FP32, PREC_BF16, PREC_FP8, PREC_MXFP8, PREC_MXFP4, PREC_NVFP4 } precision_kind;
typedef enum {
    FP8_DELAYED,  // per tensor, scale from the amax history of earlier steps (Transformer Engine)
    FP8_CURRENT,  // per tensor, scale from this tensor's own amax
    FP8_BLOCK,    // 1x128 tiles for activations and gradients, 128x128 blocks for weights (DeepSeek-V3)
} fp8_scaling_kind;
typedef struct {
    precision_kind precision;
    fp8_scaling_kind scaling;
    int amax_history;   // delayed: history length (Transformer Engine's default 1024)
    float margin;       // scales back off by 2^margin (default 0)
    int keep_act_bf16;  // fp8: the FFN down-projection input (the activation output) stays bf16
    int rht;            // mxfp4/nvfp4: 16×16 random Hadamard transform on the wgrad GEMM's inputs (1)
    int bf16_layers;    // block formats: the first and the last N transformer layers stay bf16 (0)
    uint64_t seed;      // block formats: stochastic rounding and Hadamard signs (the run's seed)
} model_precision;
void model_precision_default(model_precision *p);  // fp32; delayed, 1024, margin 0, rht 1
int precision_is_block(precision_kind k);          // mxfp8, mxfp4, nvfp4
int precision_block_side(precision_kind k);        // their block side B: 32 (MX), 16 (nvfp4); else 0
// The names, indexed by the enums and NULL-terminated (for parsers and config tables).
extern const char *const precision_names[];        // "fp32", "bf16", "fp8", "mxfp8", "mxfp4", "nvfp4"
extern const char *const fp8_scaling_names[];      // "delayed", "current", "block"
const char *precision_name(precision_kind k);
const char *fp8_scaling_name(fp8_scaling_kind k);
// Sets the precision of later forward/backward passes (resets the scaling state).
void model_set_precision(model *m, const model_precision *p);
// Per quantised tensor, since the last reset: "L0.ffn_down.x" (x, w or dy of a projection).
typedef struct {
    const char *name;
    const char *fmt;         // "e4m3", "e5m2", "bf16", "mxfp8", "mxfp4", "nvfp4"
    float amax;              // max |x| seen (before scaling; block formats: on recording passes)
    float scale;             // the scale of the last quantisation (block: the smallest tile scale;
                             // nvfp4: the tensor encode scale; mxfp*: 1)
    uint64_t n, n_sat, n_ftz;
    // Block formats: the tensor as its GEMMs' rows see it (blk), and as the weight-gradient GEMM
    // sees it (wg: B×1 blocks along the tokens, after the Hadamard transform; x and dy only).
    // Outlier-dominated blocks, zeros, saturations, relative error: docs/lowp.md. Zero elsewhere.
    num_bstats blk, wg;
} model_lowp_stat;
int model_lowp_stats(const model *m, model_lowp_stat *out, int max);  // 0 in fp32
void model_lowp_stats_reset(model *m);
void model_lowp_step_end(model *m);              // after each optimiser step (delayed scaling)
// Data parallelism: every rank replaces the step's per-tensor amax by the maximum over ranks before
// model_lowp_step_end, so the delayed-scaling histories do not depend on the rank count.
int model_lowp_count(const model *m);                          // tensors (0 in fp32)
void model_lowp_step_amax_get(const model *m, float *out);     // out: (model_lowp_count)
void model_lowp_step_amax_set(model *m, const float *in);      // in: (model_lowp_count)
void model_lowp_set_recording(model *m, int on); // off: evaluation passes leave scales and counts alone
// The scaling state (for checkpoints): size in floats, save, load (0, or -1 if n does not fit).
size_t model_lowp_state_size(const model *m);
void model_lowp_state_save(const model *m, float *out);
int model_lowp_state_load(model *m, const float *in, size_t n);

// Telemetry views of the last forward/backward, per layer l (rows = B*T, cols = FFN hidden):
const float *model_ffn_act_out(const model *m, int l);    // the down-projection input (forward)
// The activation's input: the gate pre-activation z = W_gate·x (gated), else the up output (forward)
const float *model_ffn_act_in(const model *m, int l);
const float *model_ffn_grad_up(const model *m, int l);    // dL/d(up-projection output) (backward)
const float *model_ffn_grad_gate(const model *m, int l);  // dL/d(gate-projection output); NULL if non-gated

// ---- Mixture of experts (docs/moe.md) ------------------------------------------------------------
// A view of layer l's MoE FFN after the last forward (and backward, for the gradients).
typedef struct {
    int E, k, hidden, shared_hidden;  // routed experts, per token, one expert's hidden, shared width (0: none)
    size_t rows;                      // tokens of the last forward
    const int *expert_rows;           // (E+1): expert e holds grouped rows [expert_rows[e], expert_rows[e+1])
    const float *act_out;             // (rows·k, hidden) routed down-projection inputs, grouped by expert
    const float *shared_act_out;      // (rows, shared_hidden) shared experts' down-projection input; NULL if none
    double lb_loss, z_loss;           // this forward's auxiliary losses, before their coefficients
} model_moe_view;
// 0 and *v filled; -1 when the model is dense, l is out of range or no forward ran.
int model_moe_view_of(const model *m, int l, model_moe_view *v);
// The auxiliary losses of the last forward, weighted by their coefficients and summed over layers:
// what model_backward differentiates besides the cross-entropy (when no loss count is set).
double model_moe_aux_loss(const model *m);
// The aux-loss-free balancing (sigmoid router, moe_bias_rate > 0): model_backward counts the
// tokens each expert received; after the optimiser step each selection bias moves by
// bias_rate · sign(mean load − its load). apply 0 (a skipped step) only clears the counts.
// Data parallelism: every rank sums the counts over ranks (get/set, moe_load_count floats) first.
int model_moe_load_count(const model *m);                 // n_layers · E, 0 for dense models
void model_moe_loads_get(const model *m, float *out);
void model_moe_loads_set(model *m, const float *in);
void model_moe_step_end(model *m, int apply);

#endif
