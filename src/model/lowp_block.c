// lowp_block.c — the block-scaled training recipe (--precision mxfp8|mxfp4|nvfp4): which block
// shape and rounding each tensor gets, the weight-gradient GEMM's re-quantised operands with the
// random Hadamard transform, the seeds of stochastic rounding, telemetry and checkpoint state.
// The formats themselves are libactlab's (num_block_qdq / num_block_codes, num_rht16).
//
// Placement (NVIDIA, "Pretraining Large Language Models with NVFP4", 2025, as Transformer Engine
// implements it; the MX formats take the same placement with their 32-element blocks):
//   x  (N,in)   1×B along the reduction (in) for the forward, nearest-even
//   W  (out,in) B×B two-dimensional blocks, nearest-even: the forward (reduction over in) and the
//               dgrad (reduction over out) read one quantised W, so Q(W)ᵀ = Q(Wᵀ)
//   dy (N,out)  1×B along out for the dgrad; stochastic rounding in the 4-bit formats
//   wgrad dW = dyᵀ·x reduces over the N tokens, so both of its operands are quantised again from
//               their f32 values in B×1 blocks along the tokens (x nearest, dy stochastic), after
//               the 16×16 random Hadamard transform along the tokens when enabled (4-bit formats).
//
// The GEMM on the codes: every quantised value is element × block scale, a product exact in bf16
// (an E2M1 or E4M3 element times an E4M3 or power-of-two scale has at most 6 significant bits), so
// the block scales are pre-multiplied exactly (num_block_codes) and each product is ONE bf16 GEMM
// with f32 accumulation, whose output is scaled by NVFP4's two tensor decode scales (1 for MX):
// the LIN_FP8 path of linear.c, at bf16 speed. Only values below 2^-126 (f32 subnormals, blocks
// of amax ≲ 2^-120) could differ where a GEMM flushes subnormals.
#include "model_impl.h"

#include "lowp_impl.h"
#include "util/check.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

enum { SEED_ROW = 0, SEED_WGRAD = 1 };

int precision_block_side(precision_kind k) {
    return k == PREC_NVFP4 ? NUM_NVFP4_BLOCK : k == PREC_MXFP8 || k == PREC_MXFP4 ? NUM_MX_BLOCK : 0;
}

static num_block_format block_fmt(int fmt) {
    return fmt == FMT_MXFP8 ? NUM_MXFP8_E4M3 : fmt == FMT_MXFP4 ? NUM_MXFP4 : NUM_NVFP4;
}

// Gradients round stochastically in the 4-bit formats (the NVFP4 recipe); MXFP8 rounds everything
// to nearest, as Transformer Engine's MXFP8 recipe does.
static int stochastic(const lp_tensor *t) { return t->role == ROLE_DY && t->fmt != FMT_MXFP8; }

uint64_t lowp_sr_seed(uint64_t run_seed, uint64_t step, int id, unsigned call, int wgrad) {
    uint64_t key[5] = {run_seed, step, (uint64_t)id, call, (uint64_t)wgrad};
    return fnv1a64(FNV1A64_OFFSET, key, sizeof key);
}

uint64_t lowp_rht_seed(uint64_t run_seed) {
    static const char salt[] = "actlab rht signs";
    return fnv1a64(fnv1a64(FNV1A64_OFFSET, salt, sizeof salt), &run_seed, sizeof run_seed);
}

// The spec of tensor id: its block shape (rows, wgrad operands along the tokens) and rounding.
static num_block_spec spec_of(lowp *q, int id, int wgrad) {
    lp_tensor *t = &q->t[id];
    int b = precision_block_side(q->p.precision);
    num_block_spec s = {block_fmt(t->fmt), 1, b, NUM_ROUND_NEAREST, 0};
    if (wgrad) s.br = b, s.bc = 1;
    else if (t->role == ROLE_W) s.br = b;
    if (stochastic(t)) {
        s.rnd = NUM_ROUND_STOCHASTIC;
        s.seed = lowp_sr_seed(q->p.seed, q->step, id, t->calls++, wgrad ? SEED_WGRAD : SEED_ROW);
    }
    return s;
}

// x: (rows, cols) -> out: codes (native GEMMs: as bf16 in the first half of each row, layers.h)
// or dequantised values (emulation); returns the scale the GEMM divides by (NVFP4's tensor encode
// scale for codes, else 1); st +=.
static float quantize_into(const lowp *q, float *out, const float *x, int rows, int cols, const num_block_spec *s,
                           num_bstats *st) {
    float s_enc = 1.0f;
    int rc = q->native ? num_block_codes(out, x, rows, cols, s, &s_enc, st)
                       : num_block_qdq(out, x, rows, cols, s, NULL, NULL, st);
    if (rc) die(NULL, "block quantisation of a (%d, %d) tensor failed (out of memory?)", rows, cols);
    // every code (element × block scale) is a bf16 value, so this packing is exact
    if (q->native) num_bf16_encode((uint16_t *)out, 2 * (size_t)cols, out, (size_t)cols, rows, cols, NULL);
    return q->native ? s_enc : 1.0f;
}

void lowp_block_quantize(lowp *q, int id, float *out, const float *x, int rows, int cols) {
    lp_tensor *t = &q->t[id];
    num_block_spec s = spec_of(q, id, 0);
    num_bstats st;
    num_bstats_clear(&st);
    size_t n = (size_t)rows * (size_t)cols;
    float amax = q->recording ? num_amax(x, n) : 0;  // before x is overwritten (out may alias it)
    // Statistics only when they are recorded: they cost a division per element.
    t->scale = quantize_into(q, out, x, rows, cols, &s, q->recording ? &st : NULL);
    if (!q->recording) return;
    t->last_scale = t->scale;
    if (amax > t->step_amax) t->step_amax = amax;
    num_qstats add = {st.n, st.n_sat, st.n_zero, amax};
    num_qstats_merge(&t->acc, &add);
    num_bstats_merge(&t->blk, &st);
}

// Two grow-only buffers of n floats for the wgrad operands.
static void wg_reserve(lowp *q, size_t n) {
    if (n <= q->wg_cap) return;
    for (int i = 0; i < 2; i++) {
        free(q->wg_buf[i]);
        q->wg_buf[i] = xaligned(sizeof(float) * n);
    }
    q->wg_cap = n;
}

// One wgrad operand: v: (N, cols) f32 -> buf, Hadamard-transformed along the tokens when rht, then
// quantised in the tensor's format along the tokens (a kept-bf16 tensor: rounded to bf16, scale 1).
static float wg_operand(lowp *q, int id, float *buf, const float *v, int N, int cols, int rht) {
    lp_tensor *t = &q->t[id];
    const float *src = v;
    if (rht) {
        num_rht16(buf, v, N, cols, 0, lowp_rht_seed(q->p.seed), 0);
        src = buf;
    }
    if (!fmt_is_block(t->fmt)) {
        if (q->native) num_bf16_encode((uint16_t *)buf, 2 * (size_t)cols, src, (size_t)cols, N, cols, NULL);
        else num_bf16_qdq(buf, src, (size_t)N * (size_t)cols, NULL);
        return 1.0f;
    }
    num_block_spec s = spec_of(q, id, 1);
    num_bstats st;
    num_bstats_clear(&st);
    float scale = quantize_into(q, buf, src, N, cols, &s, q->recording ? &st : NULL);
    if (q->recording) num_bstats_merge(&t->wg, &st);
    return scale;
}

linear_wgrad lowp_wgrad(lowp *q, int id_x, int id_dy, const float *x, const float *dy, int N, int in, int out) {
    linear_wgrad wg = {NULL, NULL, 1, 1};
    if (!q || !precision_is_block(q->p.precision)) return wg;
    if (!fmt_is_block(q->t[id_x].fmt) && !fmt_is_block(q->t[id_dy].fmt)) return wg;
    // The transform needs whole groups of 16 tokens; it is orthogonal, so applying it to both
    // operands leaves dyᵀ·x unchanged and only spreads outliers before the quantisation.
    int rht = q->p.rht && q->p.precision != PREC_MXFP8 && N % NUM_RHT_SIZE == 0;
    wg_reserve(q, (size_t)N * (size_t)(in > out ? in : out));
    wg.sdy = wg_operand(q, id_dy, q->wg_buf[0], dy, N, out, rht);
    wg.sx = wg_operand(q, id_x, q->wg_buf[1], x, N, in, rht);
    wg.dy = q->wg_buf[0], wg.x = q->wg_buf[1];
    return wg;
}

linear_wgrad lowp_site_wgrad(lowp *q, int l, int x, int dy, const float *xf, const float *dyf, int N, int in, int out) {
    if (!q) return lowp_wgrad(NULL, 0, 0, NULL, NULL, 0, 0, 0);
    return lowp_wgrad(q, lowp_id(q, l, x), lowp_id(q, l, dy), xf, dyf, N, in, out);
}

// ---- checkpoint state -------------------------------------------------------------------------
// Floats (each exact: small integers): a layout version, the recipe (precision, rht, bf16_layers),
// then the optimiser step that seeds stochastic rounding, in two 20-bit halves. The recipe is
// stored so that resuming with another one is refused instead of silently changing the numerics.
enum { BLOCK_STATE_VERSION = 1, BLOCK_STATE_FLOATS = 6 };
#define HALF_BITS 20

size_t lowp_block_state_size(const lowp *q) {
    (void)q;
    return BLOCK_STATE_FLOATS;
}

void lowp_block_state_save(const lowp *q, float *out) {
    out[0] = BLOCK_STATE_VERSION;
    out[1] = (float)q->p.precision;
    out[2] = (float)q->p.rht;
    out[3] = (float)q->p.bf16_layers;
    out[4] = (float)(q->step & ((1u << HALF_BITS) - 1));
    out[5] = (float)(q->step >> HALF_BITS);
}

int lowp_block_state_load(lowp *q, const float *in, size_t n) {
    if (n != BLOCK_STATE_FLOATS || in[0] != BLOCK_STATE_VERSION) return -1;
    if (in[1] != (float)q->p.precision || in[2] != (float)q->p.rht || in[3] != (float)q->p.bf16_layers) return -1;
    if (!(in[4] >= 0 && in[4] < (float)(1u << HALF_BITS)) || !(in[5] >= 0 && in[5] < 0x1p24f)) return -1;
    q->step = ((uint64_t)in[5] << HALF_BITS) | (uint64_t)in[4];
    return 0;
}
