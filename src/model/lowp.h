// lowp.h — low-precision matmul inputs (internal to src/model): every quantised tensor of the
// model, its format, its scaling state and its statistics. Where the CPU multiplies bf16, bf16
// and per-tensor FP8 matmuls run natively on bf16 codes (bf16 GEMM, f32 accumulation, the FP8
// scales applied to the output); elsewhere, and for the FP8 block recipe, as f32 GEMMs of the
// dequantised inputs Q(x·s)/s, which is what the hardware computes from the same inputs (up to
// summation order).
#ifndef ACTLAB_MODEL_LOWP_H
#define ACTLAB_MODEL_LOWP_H

#include "layers.h"
#include "model.h"

// The quantised tensors of one layer (x: a matmul's activation input, w: its weight, dy: the
// gradient at its output), then the LM head's. Gate and up share their input (LP_FFN_X).
enum {
    LP_QKV_X, LP_QKV_W, LP_QKV_DY,
    LP_O_X, LP_O_W, LP_O_DY,
    LP_FFN_X, LP_GATE_W, LP_UP_W, LP_GATE_DY, LP_UP_DY,
    LP_DOWN_X, LP_DOWN_W, LP_DOWN_DY,
    LP_PER_LAYER
};
enum { LP_HEAD_X, LP_HEAD_W, LP_HEAD_DY, LP_HEAD_COUNT };
// An FFN's sites (LP_FFN_X .. LP_DOWN_DY); an MoE layer has them once per expert (and once for the
// shared experts together).
enum { LP_FFN_COUNT = LP_PER_LAYER - LP_FFN_X };

typedef struct lowp lowp;

// NULL for PREC_FP32 (nothing is quantised). gated: whether the gate tensors exist.
lowp *lowp_create(const model_precision *p, int n_layers, int gated);
// MoE layers: the FFN sites once per routed expert (named L<l>.e<e>.*) and, with shared experts,
// once more for them (L<l>.shared.*); the router is not quantised.
lowp *lowp_create_moe(const model_precision *p, int n_layers, int gated, int experts, int shared);
void lowp_free(lowp *q);
// Tensor id of (layer, LP_*) and of the head's LP_HEAD_*. For an FFN site, lowp_id is unit 0's.
// q NULL (fp32): 0, which nothing reads.
int lowp_id(const lowp *q, int layer, int which);
// An FFN site of unit u: routed expert u, or the shared experts at u = experts.
int lowp_ffn_id(const lowp *q, int layer, int unit, int which);
int lowp_head_id(const lowp *q, int which);

// x: (rows, cols) -> out: (rows, cols), the tensor as the matmul sees it (out may alias x): for
// an emulated product the f32 values Q(x·s)/s; for a native one (lowp_linear not LIN_F32) the bf16
// codes, Q(x) or Q(x·s), written in one pass into the first half of each of out's f32 rows (row
// stride 2·cols, layers.h), so the GEMM reads them with no conversion.
// Records the amax and counts unless recording is off.
void lowp_quantize(lowp *q, int id, float *out, const float *x, int rows, int cols);
// A bf16 tensor its producer rounds itself (the loss's gradient, crossentropy_backward): whether
// it is to be bf16 codes (a native product reads it) or bf16 values in f32, and the counts to record
// as lowp_quantize would have.
int lowp_is_codes(const lowp *q, int id);
void lowp_record_bf16(lowp *q, int id, const num_qstats *st);
void lowp_set_recording(lowp *q, int on);
// How the projection reading tensors id_x, id_w and id_dy (-1 in the forward) runs its GEMMs
// (layers.h): natively in bf16 (bf16 values, or FP8 codes with their scales) where this CPU
// multiplies bf16, else as f32 GEMMs of the dequantised values. {LIN_F32} for q NULL (fp32).
// Read it after quantising the tensors: the scales are those of their last quantisation.
linear_prec lowp_linear(const lowp *q, int id_x, int id_w, int id_dy);
// The same by site: layer l's LP_* tensors x, w, dy (-1 in the forward), or the LM head's
// LP_HEAD_* ones for l < 0. q may be NULL.
linear_prec lowp_site_linear(const lowp *q, int l, int x, int w, int dy);
// Block formats: the weight-gradient GEMM's operands for the projection whose input tensor id_x
// holds x: (N,in) and whose output gradient id_dy holds dy: (N,out), both f32 before any
// quantisation: each transformed along the tokens by the 16×16 random Hadamard transform (4-bit
// formats with rht, N a multiple of 16), then quantised in B×1 blocks (x to nearest, dy
// stochastically in 4-bit formats) into lowp's own buffers, valid until the next call.
// {NULL} (the wgrad reads the dgrad's dy and the forward's x) for q NULL, other precisions, or
// when both tensors are bf16 (kept layers).
linear_wgrad lowp_wgrad(lowp *q, int id_x, int id_dy, const float *x, const float *dy, int N, int in, int out);
// The same by site (layer l's LP_* tensors; q may be NULL).
linear_wgrad lowp_site_wgrad(lowp *q, int l, int x, int dy, const float *xf, const float *dyf, int N, int in, int out);
// The stochastic-rounding seed of tensor id's call-th rounding in optimiser step `step` (wgrad 1:
// its wgrad operand), from the run's seed: counter-based, so a resumed run draws the same numbers.
uint64_t lowp_sr_seed(uint64_t run_seed, uint64_t step, int id, unsigned call, int wgrad);
// The Hadamard transform's sign seed: one fixed sign vector for the whole run (as in the recipe).
uint64_t lowp_rht_seed(uint64_t run_seed);
// End of an optimiser step: delayed scaling pushes the step's amax into each history.
void lowp_step_end(lowp *q);
// This step's amax per tensor so far (n = the tensor count), read or replaced before lowp_step_end.
int lowp_count(const lowp *q);
void lowp_step_amax_get(const lowp *q, float *out);
void lowp_step_amax_set(lowp *q, const float *in);

int lowp_stats(const lowp *q, model_lowp_stat *out, int max);
void lowp_stats_reset(lowp *q);
size_t lowp_state_size(const lowp *q);
void lowp_state_save(const lowp *q, float *out);
int lowp_state_load(lowp *q, const float *in, size_t n);

#endif
