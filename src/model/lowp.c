// lowp.c — see lowp.h. The recipes themselves (rounding, scales, amax histories) are libactlab's
// (src/act/scaling.c); this file decides which tensor gets which format and recipe, keeps their
// state, and holds the model's low-precision side (quantised weights and matmul inputs, the
// model_lowp_* calls of model.h) on the private state of model_impl.h. The block-scaled formats'
// recipe is lowp_block.c.
#include "model_impl.h"

#include "lowp_impl.h"

#include "gemm/gemm.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 128  // DeepSeek-V3's tile: 1x128 for activations and gradients, 128x128 for weights

static const char *const SITE_NAMES[LP_PER_LAYER] = {
    "attn_qkv.x", "attn_qkv.w", "attn_qkv.dy", "attn_o.x", "attn_o.w", "attn_o.dy", "ffn_in.x",
    "ffn_gate.w", "ffn_up.w", "ffn_gate.dy", "ffn_up.dy", "ffn_down.x", "ffn_down.w", "ffn_down.dy"};
static const char *const HEAD_NAMES[LP_HEAD_COUNT] = {"lm_head.x", "lm_head.w", "lm_head.dy"};

static int role_of(const char *name) {
    const char *dot = strrchr(name, '.');
    return !strcmp(dot, ".w") ? ROLE_W : !strcmp(dot, ".dy") ? ROLE_DY : ROLE_X;
}

void model_precision_default(model_precision *p) {
    memset(p, 0, sizeof *p);
    p->precision = PREC_FP32;
    p->scaling = FP8_DELAYED;
    p->amax_history = 1024;
    p->margin = 0;
    p->rht = 1;
}

const char *const precision_names[] = {"fp32", "bf16", "fp8", "mxfp8", "mxfp4", "nvfp4", NULL};
const char *const fp8_scaling_names[] = {"delayed", "current", "block", NULL};

const char *precision_name(precision_kind k) { return k >= PREC_FP32 && k <= PREC_NVFP4 ? precision_names[k] : "?"; }
int precision_is_block(precision_kind k) { return k >= PREC_MXFP8 && k <= PREC_NVFP4; }

const char *fp8_scaling_name(fp8_scaling_kind k) {
    return k >= FP8_DELAYED && k <= FP8_BLOCK ? fp8_scaling_names[k] : "?";
}

// Layer l is one of the first or last bf16_layers (block formats keep them bf16, as the NVFP4 recipe
// keeps a few).
static int kept_bf16(const lowp *q, int l) {
    int k = precision_is_block(q->p.precision) ? q->p.bf16_layers : 0;
    return l < k || l >= q->n_layers - k;
}

static void init_tensor(lowp *q, lp_tensor *t, const char *name, int layer, int is_down_x, int used, float *hist) {
    int head = layer < 0;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->role = role_of(name);
    t->used = used;
    // MXFP8 uses E4M3 elements for every tensor (Transformer Engine's MXFP8 default): a block scale
    // leaves E5M2's extra range nothing to do.
    static const int BLOCK_FMT[] = {[PREC_MXFP8] = FMT_MXFP8, [PREC_MXFP4] = FMT_MXFP4, [PREC_NVFP4] = FMT_NVFP4};
    if (q->p.precision == PREC_BF16 || head || (is_down_x && q->p.keep_act_bf16) || (!head && kept_bf16(q, layer)))
        t->fmt = FMT_BF16;
    else if (precision_is_block(q->p.precision)) t->fmt = BLOCK_FMT[q->p.precision];
    else t->fmt = t->role == ROLE_DY ? FMT_E5M2 : FMT_E4M3;
    num_delayed_init(&t->dl, hist, q->p.amax_history);
    t->last_scale = t->scale = 1.0f;
}

// Native when every tensor of the projection is bf16 (LIN_BF16) or, with per-tensor FP8 scaling,
// FP8 codes or bf16 (LIN_FP8); the fp8 block recipe's scales vary along the wgrad's reduction (over
// tokens), which no GEMM-output scaling can apply, so it stays emulated (LIN_F32). The block
// formats are LIN_FP8: their block scales are inside the values (lowp_block.c).
static linear_kind kind_of(const lowp *q, int id_x, int id_w, int id_dy) {
    if (!q->native) return LIN_F32;
    const lp_tensor *x = &q->t[id_x], *w = &q->t[id_w], *dy = id_dy >= 0 ? &q->t[id_dy] : NULL;
    if (x->fmt == FMT_BF16 && w->fmt == FMT_BF16 && (!dy || dy->fmt == FMT_BF16)) return LIN_BF16;
    if (precision_is_block(q->p.precision) || q->p.scaling != FP8_BLOCK) return LIN_FP8;
    return LIN_F32;
}

// Which tensors a native GEMM reads: those are quantised straight into bf16 codes (lowp_quantize).
// A tensor belongs to the projections that read it (ffn_in.x to gate and up), and those agree.
static void set_codes(lowp *q) {
    static const int SITES[][3] = {{LP_QKV_X, LP_QKV_W, LP_QKV_DY}, {LP_O_X, LP_O_W, LP_O_DY},
                                   {LP_FFN_X, LP_GATE_W, LP_GATE_DY}, {LP_FFN_X, LP_UP_W, LP_UP_DY},
                                   {LP_DOWN_X, LP_DOWN_W, LP_DOWN_DY}};
    for (int l = 0; l <= q->n_layers; l++) {
        int head = l == q->n_layers, n = head ? 1 : (int)(sizeof SITES / sizeof SITES[0]);
        for (int u = 0; u < (head ? 1 : q->units); u++)
            for (int s = 0; s < n; s++) {
                int ids[3];
                for (int k = 0; k < 3; k++) ids[k] = head ? lowp_head_id(q, k) : lowp_ffn_id(q, l, u, SITES[s][k]);
                int codes = kind_of(q, ids[0], ids[1], ids[2]) != LIN_F32;
                for (int k = 0; k < 3; k++) q->t[ids[k]].codes = codes;
            }
    }
}

lowp *lowp_create(const model_precision *p, int n_layers, int gated) { return lowp_create_moe(p, n_layers, gated, 0, 0); }

// The LP_* site of a layer's j-th tensor (lowp_ffn_id's inverse), and its FFN unit in *unit.
static int site_of(int j, int *unit) {
    *unit = j < LP_FFN_X ? 0 : (j - LP_FFN_X) / LP_FFN_COUNT;
    return j < LP_FFN_X ? j : LP_FFN_X + (j - LP_FFN_X) % LP_FFN_COUNT;
}

// Tensor i's name: the head's, a layer's attention site, or an FFN site of unit u (the dense FFN,
// routed expert u, or the shared experts after the routed ones).
static void tensor_name(const lowp *q, int i, char *name, size_t cap) {
    int head_base = q->n_layers * q->per_layer;
    if (i >= head_base) {
        snprintf(name, cap, "%s", HEAD_NAMES[i - head_base]);
        return;
    }
    int l = i / q->per_layer, u, site = site_of(i % q->per_layer, &u);
    if (site < LP_FFN_X || !q->experts) snprintf(name, cap, "L%d.%s", l, SITE_NAMES[site]);
    else if (u < q->experts) snprintf(name, cap, "L%d.e%d.%s", l, u, SITE_NAMES[site]);
    else snprintf(name, cap, "L%d.shared.%s", l, SITE_NAMES[site]);
}

lowp *lowp_create_moe(const model_precision *p, int n_layers, int gated, int experts, int shared) {
    if (p->precision == PREC_FP32) return NULL;
    lowp *q = xcalloc(1, sizeof *q);
    q->p = *p;
    if (q->p.amax_history < 1) q->p.amax_history = 1;
    q->n_layers = n_layers;
    q->experts = experts;
    q->units = experts ? experts + (shared ? 1 : 0) : 1;
    q->per_layer = LP_FFN_X + q->units * LP_FFN_COUNT;
    q->n = n_layers * q->per_layer + LP_HEAD_COUNT;
    q->recording = 1;
    q->native = gemm_bf16_native();
    static int said;
    if (!q->native && !said) {
        said = 1;
        fprintf(stderr, "note: this CPU has no bf16 matmul instructions (or ACTLAB_GEMM_BF16=0): bf16 matmuls are "
                        "emulated exactly (Q(x*s)/s inputs, f32 GEMM), slower than fp32\n");
    }
    q->t = xcalloc((size_t)q->n, sizeof *q->t);
    q->hist = xcalloc((size_t)q->n * (size_t)q->p.amax_history, sizeof(float));
    char name[32];
    for (int i = 0; i < q->n; i++) {
        int l = i / q->per_layer, head = l >= n_layers, u, site = site_of(i % q->per_layer, &u);
        tensor_name(q, i, name, sizeof name);
        int used = head || gated || (site != LP_GATE_W && site != LP_GATE_DY);
        init_tensor(q, &q->t[i], name, head ? -1 : l, !head && site == LP_DOWN_X, used,
                    q->hist + (size_t)i * (size_t)q->p.amax_history);
    }
    set_codes(q);
    return q;
}

void lowp_free(lowp *q) {
    if (!q) return;
    free(q->t);
    free(q->hist);
    free(q->wg_buf[0]);
    free(q->wg_buf[1]);
    free(q);
}

int lowp_ffn_id(const lowp *q, int layer, int unit, int which) {
    if (!q) return 0;  // fp32: the callers pass the id along unread
    if (which < LP_FFN_X) return layer * q->per_layer + which;
    return layer * q->per_layer + LP_FFN_X + unit * LP_FFN_COUNT + (which - LP_FFN_X);
}
int lowp_id(const lowp *q, int layer, int which) { return lowp_ffn_id(q, layer, 0, which); }
int lowp_head_id(const lowp *q, int which) { return q ? q->n_layers * q->per_layer + which : 0; }

void lowp_set_recording(lowp *q, int on) { q->recording = on; }

linear_prec lowp_linear(const lowp *q, int id_x, int id_w, int id_dy) {
    linear_prec p = {LIN_F32, 1, 1, 1, {NULL, NULL, 1, 1}, 0};
    if (!q) return p;
    p.kind = kind_of(q, id_x, id_w, id_dy);
    // the quantisation wrote codes exactly where a native GEMM reads them (set_codes)
    int codes = q->t[id_x].codes && q->t[id_w].codes && (id_dy < 0 || q->t[id_dy].codes);
    if (codes != (p.kind != LIN_F32))
        die(NULL, "lowp: tensors %s/%s are stored as %s for a %s product", q->t[id_x].name, q->t[id_w].name,
            codes ? "bf16 codes" : "f32", p.kind == LIN_F32 ? "f32" : "bf16");
    if (p.kind == LIN_FP8) p.sx = q->t[id_x].scale, p.sw = q->t[id_w].scale, p.sdy = id_dy >= 0 ? q->t[id_dy].scale : 1;
    return p;
}

linear_prec lowp_site_linear(const lowp *q, int l, int x, int w, int dy) {
    if (!q) return lowp_linear(NULL, 0, 0, 0);
    int base = l < 0 ? lowp_head_id(q, 0) : lowp_id(q, l, 0);
    return lowp_linear(q, base + x, base + w, dy < 0 ? -1 : base + dy);
}

// The rounding of tensor t into out: bf16 codes (row stride 2·cols) where t->codes, else f32
// values (Q(x·s)/s). Returns the scale used (1 for bf16).
static float quantize_per_tensor(lowp *q, lp_tensor *t, float *out, const float *x, int rows, int cols,
                                 num_qstats *st) {
    size_t n = (size_t)rows * (size_t)cols;
    uint16_t *codes = (uint16_t *)out;
    if (t->fmt == FMT_BF16) {
        if (t->codes) num_bf16_encode(codes, 2 * (size_t)cols, x, (size_t)cols, rows, cols, st);
        else num_bf16_qdq(out, x, n, st);
        return 1.0f;
    }
    num_fp8_format f = t->fmt == FMT_E4M3 ? NUM_E4M3 : NUM_E5M2;
    float scale = 1.0f;
    switch (q->p.scaling) {
    case FP8_DELAYED:
    case FP8_CURRENT:
        scale = q->p.scaling == FP8_DELAYED ? t->dl.scale : num_fp8_scale(f, num_amax(x, n), q->p.margin, 1.0f);
        // natively the GEMM multiplies the codes and divides its output by the scales
        if (t->codes) num_fp8_encode(codes, 2 * (size_t)cols, x, (size_t)cols, rows, cols, f, scale, st);
        else num_fp8_qdq(out, x, n, f, scale, st);
        break;
    case FP8_BLOCK:
        num_fp8_qdq_blocks(out, x, rows, cols, t->role == ROLE_W ? BLOCK : 1, BLOCK, f, q->p.margin, st, &scale);
        break;
    }
    return scale;
}

// Tensor t was just rounded with this scale and these counts.
static void record(lowp *q, lp_tensor *t, float scale, const num_qstats *st) {
    t->scale = scale;
    if (!q->recording) return;
    t->last_scale = scale;
    if (st->amax > t->step_amax) t->step_amax = st->amax;
    num_qstats_merge(&t->acc, st);
}

void lowp_quantize(lowp *q, int id, float *out, const float *x, int rows, int cols) {
    lp_tensor *t = &q->t[id];
    if (fmt_is_block(t->fmt)) {
        lowp_block_quantize(q, id, out, x, rows, cols);
        return;
    }
    num_qstats st;
    num_qstats_clear(&st);
    float scale = quantize_per_tensor(q, t, out, x, rows, cols, &st);
    record(q, t, scale, &st);
}

int lowp_is_codes(const lowp *q, int id) { return q->t[id].codes; }

void lowp_record_bf16(lowp *q, int id, const num_qstats *st) {
    lp_tensor *t = &q->t[id];
    if (t->fmt != FMT_BF16) die(NULL, "lowp: tensor %s is not bf16, its producer cannot round it", t->name);
    record(q, t, 1.0f, st);
}

void lowp_step_end(lowp *q) {
    for (int i = 0; i < q->n; i++) {
        lp_tensor *t = &q->t[i];
        if ((t->fmt == FMT_E4M3 || t->fmt == FMT_E5M2) && q->p.scaling == FP8_DELAYED && t->used)
            num_delayed_push(&t->dl, t->step_amax, t->fmt == FMT_E4M3 ? NUM_E4M3 : NUM_E5M2, q->p.margin);
        t->step_amax = 0;
        t->calls = 0;
    }
    q->step++;
}

int lowp_count(const lowp *q) { return q->n; }

void lowp_step_amax_get(const lowp *q, float *out) {
    for (int i = 0; i < q->n; i++) out[i] = q->t[i].step_amax;
}

void lowp_step_amax_set(lowp *q, const float *in) {
    for (int i = 0; i < q->n; i++) q->t[i].step_amax = in[i];
}

int lowp_stats(const lowp *q, model_lowp_stat *out, int max) {
    static const char *const FMT_NAMES[] = {"bf16", "e4m3", "e5m2", "mxfp8", "mxfp4", "nvfp4"};
    int k = 0;
    for (int i = 0; i < q->n && k < max; i++) {
        const lp_tensor *t = &q->t[i];
        if (!t->used) continue;
        out[k++] = (model_lowp_stat){t->name, FMT_NAMES[t->fmt], t->acc.amax, t->last_scale,
                                     t->acc.n, t->acc.n_sat, t->acc.n_ftz, t->blk, t->wg};
    }
    return k;
}

void lowp_stats_reset(lowp *q) {
    for (int i = 0; i < q->n; i++) {
        num_qstats_clear(&q->t[i].acc);
        num_bstats_clear(&q->t[i].blk);
        num_bstats_clear(&q->t[i].wg);
    }
}

// bf16/fp8, per tensor: scale, ring position, then the history (the layout of every checkpoint
// before the block formats, unchanged, so those still load); block formats: lowp_block.c's
// versioned layout. Counters and statistics are not state (they restart with each metrics line).
size_t lowp_state_size(const lowp *q) {
    if (precision_is_block(q->p.precision)) return lowp_block_state_size(q);
    return (size_t)q->n * (2 + (size_t)q->p.amax_history);
}

void lowp_state_save(const lowp *q, float *out) {
    if (precision_is_block(q->p.precision)) {
        lowp_block_state_save(q, out);
        return;
    }
    for (int i = 0; i < q->n; i++) {
        const lp_tensor *t = &q->t[i];
        *out++ = t->dl.scale;
        *out++ = (float)t->dl.pos;
        memcpy(out, t->dl.hist, sizeof(float) * (size_t)t->dl.len);
        out += t->dl.len;
    }
}

int lowp_state_load(lowp *q, const float *in, size_t n) {
    if (precision_is_block(q->p.precision)) return lowp_block_state_load(q, in, n);
    if (n != lowp_state_size(q)) return -1;
    for (int i = 0; i < q->n; i++) {
        lp_tensor *t = &q->t[i];
        float scale = *in++, pos = *in++;
        if (!(pos >= 0 && pos < (float)t->dl.len) || !(scale > 0) || !isfinite(scale)) return -1;
        t->dl.scale = scale;
        t->dl.pos = (int)pos;
        memcpy(t->dl.hist, in, sizeof(float) * (size_t)t->dl.len);
        in += t->dl.len;
    }
    return 0;
}

// ---- the model's low-precision side (see model_impl.h) ---------------------------------------

// The tensor x: (rows, cols) as a matmul sees it: quantised into buf, or x itself in fp32.
const float *model_q_act(model *m, int id, float *buf, const float *x, int rows, int cols) {
    if (!m->lp) return x;
    lowp_quantize(m->lp, id, buf, x, rows, cols);
    return buf;
}

// FFN unit u of layer l (the dense FFN, an expert, the shared experts): tensor ids and buffers.
static ffn_lowp unit_q(model *m, int l, int u, float *xq, float *aq) {
    lowp *q = m->lp;
    return (ffn_lowp){q, lowp_ffn_id(q, l, u, LP_FFN_X), lowp_ffn_id(q, l, u, LP_DOWN_X),
                      lowp_ffn_id(q, l, u, LP_GATE_DY), lowp_ffn_id(q, l, u, LP_UP_DY),
                      lowp_ffn_id(q, l, u, LP_DOWN_DY), lowp_ffn_id(q, l, u, LP_GATE_W),
                      lowp_ffn_id(q, l, u, LP_UP_W), lowp_ffn_id(q, l, u, LP_DOWN_W), xq, aq, m->dq};
}

ffn_lowp model_ffn_q(model *m, int l) { return unit_q(m, l, 0, m->la[l].xq2, m->la[l].aq); }

const ffn_lowp *model_moe_q(model *m, int l) {
    if (!m->lp) return NULL;
    for (int u = 0; u < m->lp->units; u++) m->moe_q[u] = unit_q(m, l, u, NULL, NULL);  // moe.c sets xq, aq
    return m->moe_q;
}

// The parameter ranges model_quantize_weights has written into wq, [s, e) in floats: at most one per
// parameter tensor (a layer's q, k and v are one range).
typedef struct {
    size_t s, e;
} range;
typedef struct {
    range *r;
    int n, cap;
} ranges;

// The (rows, cols) matrix at offset off: parameters -> wq, quantised as tensor id.
static void quantize_matrix(model *m, ranges *done, int id, size_t off, int rows, int cols) {
    lowp_quantize(m->lp, id, m->wq + off, m->params + off, rows, cols);
    if (done->n == done->cap) die(NULL, "lowp: more quantised matrices than parameter tensors");
    done->r[done->n++] = (range){off, off + (size_t)rows * (size_t)cols};
}

// The matrices of one FFN at offsets o: parameters -> the quantised copy wq, as unit u of layer l.
static void quantize_ffn(model *m, ranges *done, int l, int u, const ffn_offsets *o, int h) {
    int d = m->cfg.d_model;
    if (o->gate != ABSENT) quantize_matrix(m, done, lowp_ffn_id(m->lp, l, u, LP_GATE_W), o->gate, h, d);
    quantize_matrix(m, done, lowp_ffn_id(m->lp, l, u, LP_UP_W), o->up, h, d);
    quantize_matrix(m, done, lowp_ffn_id(m->lp, l, u, LP_DOWN_W), o->down, d, h);
}

static int by_start(const void *a, const void *b) {
    size_t x = ((const range *)a)->s, y = ((const range *)b)->s;
    return x < y ? -1 : x > y;
}

// Every parameter outside the quantised ranges, copied as it is (norm gains, activation scalars, an
// untied embedding, the MoE router): copying only those, rather than the whole array before the
// matrices overwrite it, saves a pass over every parameter per step.
static void copy_rest(model *m, ranges *done) {
    qsort(done->r, (size_t)done->n, sizeof *done->r, by_start);  // a tied head is the embedding, at 0
    size_t at = 0;
    for (int k = 0; k <= done->n; k++) {
        range r = k < done->n ? done->r[k] : (range){m->n_params, m->n_params};
        if (r.s > at) memcpy(m->wq + at, m->params + at, sizeof(float) * (r.s - at));
        if (r.e > at) at = r.e;
    }
}

// wq = the parameters with every projection matrix quantised (norm gains and activation scalars
// copied: they do not enter a matmul). A tied embedding is the LM head's weight, so the lookup
// reads it as the head does; an untied one stays f32.
const float *model_quantize_weights(model *m) {
    const model_config *c = &m->cfg;
    int d = c->d_model, h = m->hidden;
    ranges done = {xmalloc(sizeof(range) * (size_t)m->n_tensors), 0, m->n_tensors};
    for (int l = 0; l < c->n_layers; l++) {
        const layer_offsets *o = &m->lo[l];
        quantize_matrix(m, &done, lowp_id(m->lp, l, LP_QKV_W), o->qkv, m->qkv_dim, d);
        quantize_matrix(m, &done, lowp_id(m->lp, l, LP_O_W), o->o, d, d);
        if (!m->moe.E) {
            quantize_ffn(m, &done, l, 0, &o->ffn, h);
            continue;
        }
        for (int e = 0; e < m->moe.E; e++) quantize_ffn(m, &done, l, e, &o->moe.experts[e], m->moe.h);
        if (m->moe.hs) quantize_ffn(m, &done, l, m->moe.E, &o->moe.shared, m->moe.hs);
    }
    quantize_matrix(m, &done, lowp_head_id(m->lp, LP_HEAD_W), m->off_head, c->vocab_size, d);
    copy_rest(m, &done);
    free(done.r);
    return m->wq;
}

void model_embed(model *m, const float *P) {
    int N = m->B * m->T, d = m->cfg.d_model;
    if (m->lp && m->cfg.tied_embeddings && m->lp->t[lowp_head_id(m->lp, LP_HEAD_W)].codes)
        embedding_forward_bf16(m->res[0], m->tokens, (const uint16_t *)(P + m->off_embed), 2 * (size_t)d, N, d);
    else embedding_forward(m->res[0], m->tokens, P + m->off_embed, N, d);
}

void model_set_precision(model *m, const model_precision *p) {
    model_free_workspace(m);  // the quantised copies join (or leave) the workspace layout
    lowp_free(m->lp);
    free(m->wq);
    m->prec = *p;
    m->lp = lowp_create_moe(p, m->cfg.n_layers, m->act->gated, m->moe.E, m->moe.hs > 0);
    m->wq = m->lp ? xaligned(sizeof(float) * m->n_params) : NULL;
}

int model_lowp_stats(const model *m, model_lowp_stat *out, int max) { return m->lp ? lowp_stats(m->lp, out, max) : 0; }
void model_lowp_stats_reset(model *m) { if (m->lp) lowp_stats_reset(m->lp); }
void model_lowp_step_end(model *m) { if (m->lp) lowp_step_end(m->lp); }
void model_lowp_set_recording(model *m, int on) { if (m->lp) lowp_set_recording(m->lp, on); }
int model_lowp_count(const model *m) { return m->lp ? lowp_count(m->lp) : 0; }
void model_lowp_step_amax_get(const model *m, float *out) { if (m->lp) lowp_step_amax_get(m->lp, out); }
void model_lowp_step_amax_set(model *m, const float *in) { if (m->lp) lowp_step_amax_set(m->lp, in); }
size_t model_lowp_state_size(const model *m) { return m->lp ? lowp_state_size(m->lp) : 0; }
void model_lowp_state_save(const model *m, float *out) { if (m->lp) lowp_state_save(m->lp, out); }
int model_lowp_state_load(model *m, const float *in, size_t n) {
    if (!m->lp) return n == 0 ? 0 : -1;
    return lowp_state_load(m->lp, in, n);
}
