// lowp_impl.h — the private state of lowp (internal to lowp.c and lowp_block.c): one record per
// quantised tensor and the recipe they share.
#ifndef ACTLAB_MODEL_LOWP_IMPL_H
#define ACTLAB_MODEL_LOWP_IMPL_H

#include "lowp.h"

// Element formats; FMT_MXFP8 and later are block-scaled (lowp_block.c).
enum { FMT_BF16, FMT_E4M3, FMT_E5M2, FMT_MXFP8, FMT_MXFP4, FMT_NVFP4 };
enum { ROLE_X, ROLE_W, ROLE_DY };

typedef struct {
    char name[32];
    int fmt, role, used;
    int codes;         // read by native GEMMs: quantised into bf16 codes, row stride 2·cols (layers.h)
    num_delayed dl;    // delayed scaling (FP8_DELAYED only)
    float step_amax;   // amax over this optimiser step's quantisations
    float last_scale;  // telemetry
    float scale;       // of the last quantisation, recorded or not: the GEMM divides by it (1: bf16)
    num_qstats acc;    // since the last stats reset
    num_bstats blk, wg;  // block formats, since the last stats reset: rows' and wgrad operand's blocks
    unsigned calls;      // stochastic roundings of this tensor in this optimiser step (seeds)
} lp_tensor;

struct lowp {
    model_precision p;
    int n_layers, n, recording;
    int experts;    // routed experts (0: dense FFN)
    int units;      // FFNs per layer with their own tensors: 1, or the experts and then the shared ones
    int per_layer;  // tensors per layer: the attention sites, then LP_FFN_COUNT per unit
    int native;  // bf16 and per-tensor FP8 GEMMs run natively on bf16 codes (else emulated in f32)
    lp_tensor *t;
    float *hist;  // n × amax_history
    // block formats
    uint64_t step;         // optimiser steps so far (checkpointed: it seeds stochastic rounding)
    float *wg_buf[2];      // the wgrad GEMM's operands, grow-only, wg_cap floats each
    size_t wg_cap;
};

static inline int fmt_is_block(int fmt) { return fmt >= FMT_MXFP8; }

// lowp_block.c: tensor t (id) of a block format, x: (rows, cols) -> out (codes where native, else
// dequantised values); sets t->scale and records statistics unless recording is off.
void lowp_block_quantize(lowp *q, int id, float *out, const float *x, int rows, int cols);
// lowp_block.c: the block recipe's checkpoint state (its own layout, lowp.c dispatches).
size_t lowp_block_state_size(const lowp *q);
void lowp_block_state_save(const lowp *q, float *out);
int lowp_block_state_load(lowp *q, const float *in, size_t n);

#endif
