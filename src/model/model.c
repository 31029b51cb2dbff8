// model.c — parameter layout, initialisation, workspace, and the model's forward/backward.
//
// Parameters: one flat f32 array, tensors in Hugging Face Llama order and names, matrices
// (out, in) row-major. q_proj, k_proj and v_proj are adjacent, so together they form one
// ((H+2·Hkv)·D, d) matrix and the three projections run as a single sgemm.
//
// Initialisation (seeded by the seed argument only; one xoshiro stream walks the tensors in
// layout order):
//   embeddings, lm_head and every projection: normal(0, init_std)
//   residual output projections (o_proj, down_proj): normal(0, init_std / sqrt(2·n_layers)),
//     so the residual stream's variance does not grow with depth (GPT-2's scaling)
//   RMSNorm gains: 1;  activation scalars: act_params_init (PolyCom: weights 1/3, bias 0)
//
// Threads: the OpenMP thread count is the one knob. Every projection is split into shape-fixed
// row tiles, one single-threaded GEMM each, shared out by OpenMP (src/gemm), so results are
// bit-identical for any thread count and no second thread pool fights over the cores.
#include "model_impl.h"
#include "util/check.h"
#include "util/rng.h"
#include "util/timer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sec_names[SEC_COUNT] = {
    "embedding", "rmsnorm", "attention matmuls (qkv, o)", "attention core (with rope)", "ffn matmuls",
    "activation", "residual adds", "lm head matmul", "cross-entropy", "low-precision casts (not ffn)"};

#define TIMED(sec, dir, call)                          \
    do {                                               \
        double t0_ = now_seconds();                    \
        call;                                          \
        m->prof[sec][dir] += now_seconds() - t0_;      \
    } while (0)

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

// Appends a tensor of (rows, cols) (cols 0: a vector) named printf-style; returns its offset.
size_t model_add_tensor(model *m, tensor_role role, int rows, int cols, const char *fmt, ...) {
    if (m->n_tensors == m->cap_tensors) {
        m->cap_tensors = m->cap_tensors ? 2 * m->cap_tensors : 32;
        model_tensor *grown = realloc(m->tensors, (size_t)m->cap_tensors * sizeof *grown);
        if (!grown) die(NULL, "out of memory (%d tensors)", m->cap_tensors);
        m->tensors = grown;
    }
    model_tensor *t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->offset = m->n_params;
    t->ndim = cols > 0 ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols > 0 ? cols : 0;
    t->numel = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    t->decay = role.decay;
    t->init = role.init;
    m->n_params += t->numel;
    return t->offset;
}

// The activation's learnable scalars, in its descriptor's order: those before a trailing "bias"
// form <prefix>.act.weight, the bias <prefix>.act.bias (HF's weight/bias split); contiguous, so
// the activation reads them as one array from the first offset.
static size_t add_act_tensors(model *m, const char *prefix) {
    const act_desc *a = m->act;
    int n_bias = a->n_params > 0 && !strcmp(a->param_names[a->n_params - 1], "bias");
    int n_weight = a->n_params - n_bias;
    size_t off = model_add_tensor(m, ACT_SCALARS, n_weight, 0, "%s.act.weight", prefix);
    if (n_bias) {
        model_add_tensor(m, ACT_SCALARS, 1, 0, "%s.act.bias", prefix);
        m->tensors[m->n_tensors - 1].act_param = n_weight;
    }
    return off;
}

ffn_offsets model_add_ffn(model *m, const char *prefix, int h) {
    int d = m->cfg.d_model;
    ffn_offsets o;
    o.gate = m->act->gated ? model_add_tensor(m, MATRIX, h, d, "%s.gate_proj.weight", prefix) : ABSENT;
    o.up = model_add_tensor(m, MATRIX, h, d, "%s.up_proj.weight", prefix);
    o.down = model_add_tensor(m, RESIDUAL_OUT, d, h, "%s.down_proj.weight", prefix);
    o.act = m->act->n_params > 0 ? add_act_tensors(m, prefix) : ABSENT;
    return o;
}

static void build_layout(model *m) {
    const model_config *c = &m->cfg;
    int d = c->d_model, h = m->hidden, kvd = c->n_kv_heads * m->head_dim;
    m->lo = xcalloc((size_t)c->n_layers, sizeof(layer_offsets));
    m->off_embed = model_add_tensor(m, MATRIX, c->vocab_size, d, "model.embed_tokens.weight");
    for (int l = 0; l < c->n_layers; l++) {
        layer_offsets *o = &m->lo[l];
        o->ln1 = model_add_tensor(m, NORM_GAIN, d, 0, "model.layers.%d.input_layernorm.weight", l);
        o->qkv = model_add_tensor(m, MATRIX, d, d, "model.layers.%d.self_attn.q_proj.weight", l);
        model_add_tensor(m, MATRIX, kvd, d, "model.layers.%d.self_attn.k_proj.weight", l);
        model_add_tensor(m, MATRIX, kvd, d, "model.layers.%d.self_attn.v_proj.weight", l);
        o->o = model_add_tensor(m, RESIDUAL_OUT, d, d, "model.layers.%d.self_attn.o_proj.weight", l);
        o->ln2 = model_add_tensor(m, NORM_GAIN, d, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        o->ffn = (ffn_offsets){ABSENT, ABSENT, ABSENT, ABSENT};
        if (m->moe.E) {
            model_moe_add_tensors(m, l);
            continue;
        }
        char prefix[48];
        snprintf(prefix, sizeof prefix, "model.layers.%d.mlp", l);
        o->ffn = model_add_ffn(m, prefix, h);
    }
    m->off_norm = model_add_tensor(m, NORM_GAIN, d, 0, "model.norm.weight");
    m->off_head = c->tied_embeddings ? m->off_embed : model_add_tensor(m, MATRIX, c->vocab_size, d, "lm_head.weight");
}

static void init_params(model *m, uint64_t seed) {
    rng_t rng;
    rng_seed(&rng, seed);
    float std = m->cfg.init_std, std_out = std / sqrtf(2.0f * (float)m->cfg.n_layers);
    for (int i = 0; i < m->n_tensors; i++) {
        const model_tensor *t = &m->tensors[i];
        float *p = m->params + t->offset;
        switch (t->init) {
        case MODEL_INIT_ACT:
            for (size_t j = 0; j < t->numel; j++) p[j] = m->act->param_init[t->act_param + (int)j];
            break;
        case MODEL_INIT_ONES:
            for (size_t j = 0; j < t->numel; j++) p[j] = 1.0f;
            break;
        case MODEL_INIT_ZEROS:
            for (size_t j = 0; j < t->numel; j++) p[j] = 0.0f;
            break;
        case MODEL_INIT_NORMAL:
        case MODEL_INIT_RESIDUAL: {
            float s = t->init == MODEL_INIT_RESIDUAL ? std_out : std;
            for (size_t j = 0; j < t->numel; j++) p[j] = s * rng_normal(&rng);
            break;
        }
        }
    }
}

model *model_create(const model_config *cfg, uint64_t seed) {
    const char *err = model_config_check(cfg);
    if (err) die("fix the model configuration (see `actlab train --help`)", "invalid model configuration: %s", err);
    model *m = xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->act = act_desc_of(cfg->act.kind);
    m->head_dim = cfg->d_model / cfg->n_heads;
    m->qkv_dim = (cfg->n_heads + 2 * cfg->n_kv_heads) * m->head_dim;
    m->hidden = model_ffn_hidden(cfg);
    model_moe_init(m);
    build_layout(m);
    m->params = xaligned(sizeof(float) * m->n_params);
    m->grads = xaligned(sizeof(float) * m->n_params);
    memset(m->grads, 0, sizeof(float) * m->n_params);
    init_params(m, seed);
    size_t half = (size_t)m->head_dim / 2;
    model_precision_default(&m->prec);
    m->rope_cos = xmalloc(sizeof(float) * (size_t)cfg->max_seq_len * half);
    m->rope_sin = xmalloc(sizeof(float) * (size_t)cfg->max_seq_len * half);
    rope_table(m->rope_cos, m->rope_sin, cfg->max_seq_len, m->head_dim, cfg->rope_theta);
    return m;
}

void model_free_workspace(model *m) {
    free(m->ws);
    free(m->tokens);
    free(m->targets);
    free(m->res);
    free(m->la);
    m->ws = NULL;
    m->tokens = m->targets = NULL;
    m->res = NULL;
    m->la = NULL;
    m->cap_rows = 0;
}

void model_free(model *m) {
    if (!m) return;
    model_free_workspace(m);
    lowp_free(m->lp);
    free(m->wq);
    free(m->params);
    free(m->grads);
    free(m->tensors);
    model_moe_free(m);  // before the layer offsets it reads
    free(m->lo);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m);
}

const model_config *model_cfg(const model *m) { return &m->cfg; }
size_t model_num_params(const model *m) { return m->n_params; }
float *model_params(model *m) { return m->params; }
float *model_grads(model *m) { return m->grads; }
int model_num_tensors(const model *m) { return m->n_tensors; }
const model_tensor *model_tensor_at(const model *m, int i) {
    return i >= 0 && i < m->n_tensors ? &m->tensors[i] : NULL;
}
int model_tensor_find(const model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return i;
    return -1;
}
void model_zero_grad(model *m) { memset(m->grads, 0, sizeof(float) * m->n_params); }
void model_set_loss_count(model *m, int n) { m->loss_count = n > 0 ? n : 0; }

// Matmul FLOPs per token of one training step (forward + backward = 3 × forward):
// 6 × (matrix parameters that multiply activations: every projection and the LM head, not the
// embedding lookup) + causal attention 6·L·d·(T+1) (Q·Kᵀ and P·V over (T+1)/2 keys on average).
double model_flops_per_token(const model *m, int T) {
    const model_config *c = &m->cfg;
    double d = c->d_model, h = m->hidden, kvd = (double)c->n_kv_heads * m->head_dim;
    double ffn = (m->act->gated ? 3 : 2) * d * h;
    if (m->moe.E)  // the router, k routed experts and the shared ones
        ffn = d * m->moe.E + (m->act->gated ? 3 : 2) * d * ((double)m->moe.k * m->moe.h + m->moe.hs);
    double per_layer = d * d * 2 + 2 * d * kvd + ffn;
    double mm = c->n_layers * per_layer + (double)c->vocab_size * d;
    return 6.0 * mm + 6.0 * c->n_layers * d * (T + 1.0);
}

// ---------------------------------------------------------------------------------------------
// Workspace
// ---------------------------------------------------------------------------------------------

#define take model_ws_take

// The logits' row stride: V in whole cache lines, one line more when that is a multiple of 2 KiB.
// The LM head's weight gradient reads the logits down the columns, and at a stride of a large power
// of two every row of a column block falls into the same few cache sets (V 8192: 25-35% slower).
static int logits_ld(int V) {
    int ld = (V + 15) / 16 * 16;
    return ld % 512 ? ld : ld + 16;
}

// Points the activation arrays into base (or, with base NULL, only counts): returns the floats used.
static size_t layout_workspace(model *m, float *base, size_t N) {
    const model_config *c = &m->cfg;
    size_t d = c->d_model, h = m->hidden, V = c->vocab_size, H = c->n_heads, L = c->n_layers, u = 0;
    int gated = m->act->gated, lp = m->lp != NULL;
    for (size_t l = 0; l <= L; l++) m->res[l] = take(base, &u, N * d);
    for (size_t l = 0; l < L; l++) {
        layer_acts *a = &m->la[l];
        a->xn1 = take(base, &u, N * d);
        a->rstd1 = take(base, &u, N);
        a->qkv = take(base, &u, N * (size_t)m->qkv_dim);
        a->att = take(base, &u, N * d);
        a->lse = take(base, &u, N * H);
        a->mid = take(base, &u, N * d);
        a->xn2 = take(base, &u, N * d);
        a->rstd2 = take(base, &u, N);
        int dense = m->moe.E == 0;  // an MoE layer keeps its FFN state in a->moe (model_moe_layout)
        a->z = gated && dense ? take(base, &u, N * h) : NULL;
        a->u = dense ? take(base, &u, N * h) : NULL;
        a->a = dense ? take(base, &u, N * h) : NULL;
        a->dz = gated && dense ? take(base, &u, N * h) : NULL;
        a->du = dense ? take(base, &u, N * h) : NULL;
        a->xq1 = lp ? take(base, &u, N * d) : NULL;
        a->attq = lp ? take(base, &u, N * d) : NULL;
        a->xq2 = lp ? take(base, &u, N * d) : NULL;
        a->aq = lp && dense ? take(base, &u, N * h) : NULL;
    }
    // a quantised output gradient of any FFN: the dense one, an expert (at most N rows) or the shared
    size_t wide = d > h ? d : h;
    if ((size_t)m->moe.h > wide) wide = (size_t)m->moe.h;
    if ((size_t)m->moe.hs > wide) wide = (size_t)m->moe.hs;
    m->xqf = lp ? take(base, &u, N * d) : NULL;
    m->dq = lp ? take(base, &u, N * wide) : NULL;
    m->xnf = take(base, &u, N * d);
    m->rstdf = take(base, &u, N);
    m->ld_logits = logits_ld((int)V);
    m->logits = take(base, &u, N * (size_t)m->ld_logits);
    m->lse_ce = take(base, &u, N);
    m->dres = take(base, &u, N * d);
    m->dxn = take(base, &u, N * d);
    m->dqkv = take(base, &u, N * (size_t)m->qkv_dim);
    m->datt = take(base, &u, N * d);
    m->da = m->moe.E ? NULL : take(base, &u, N * h);
    if (m->moe.E) model_moe_layout(m, base, &u, N);
    return u;
}

// Sized for the largest B·T seen so far: grows when a larger batch comes, never shrinks.
static void ensure_workspace(model *m, size_t N) {
    if (N <= m->cap_rows) return;
    model_free_workspace(m);
    m->res = xcalloc((size_t)m->cfg.n_layers + 1, sizeof(float *));
    m->la = xcalloc((size_t)m->cfg.n_layers, sizeof(layer_acts));
    m->ws = xaligned(sizeof(float) * layout_workspace(m, NULL, N));
    layout_workspace(m, m->ws, N);
    m->tokens = xmalloc(sizeof(int32_t) * N);
    m->targets = xmalloc(sizeof(int32_t) * N);
    m->cap_rows = N;
}

// ---------------------------------------------------------------------------------------------
// Forward / backward
// ---------------------------------------------------------------------------------------------

static void add_inplace(float *y, const float *x, size_t n) {  // y += x
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

ffn_weights model_ffn_view(const ffn_offsets *o, const float *P) {
    return (ffn_weights){o->gate == ABSENT ? NULL : P + o->gate, P + o->up, P + o->down,
                         o->act == ABSENT ? NULL : P + o->act};
}

ffn_grads model_ffn_grad_view(const ffn_offsets *o, float *G) {
    return (ffn_grads){o->gate == ABSENT ? NULL : G + o->gate, G + o->up, G + o->down,
                       o->act == ABSENT ? NULL : G + o->act};
}

static void check_ids(const int32_t *ids, int N, int V, int allow_negative, const char *what) {
    for (int i = 0; i < N; i++)
        if (ids[i] >= V || (ids[i] < 0 && !allow_negative))
            die("the token ids must come from a tokenizer with the model's vocabulary size",
                "%s[%d] = %d is outside the vocabulary [0, %d)", what, i, ids[i], V);
}

// How the loss's gradient, the LM head's input gradient, is stored: bf16 under every low precision,
// rounded row by row inside the loss (layers.h) rather than in a pass of its own over the (N,V) array.
static ce_out head_dy_out(const model *m, int *id_dy) {
    *id_dy = m->lp ? lowp_head_id(m->lp, LP_HEAD_DY) : 0;
    return !m->lp ? CE_F32 : lowp_is_codes(m->lp, *id_dy) ? CE_BF16_CODES : CE_BF16_QDQ;
}

// fuse: also leave the loss's gradient in the logits (model_forward_train).
static float forward(model *m, const int32_t *tokens, const int32_t *targets, int B, int T, int fuse) {
    const model_config *c = &m->cfg;
    if (B <= 0 || T <= 0 || T > c->max_seq_len)
        die("use 1 <= T <= max_seq_len and B >= 1", "model_forward: B = %d, T = %d (max_seq_len %d)", B, T, c->max_seq_len);
    int N = B * T, d = c->d_model, H = c->n_heads, Hkv = c->n_kv_heads, D = m->head_dim, V = c->vocab_size;
    check_ids(tokens, N, V, 0, "tokens");
    if (targets) check_ids(targets, N, V, 1, "targets");
    ensure_workspace(m, (size_t)N);
    memcpy(m->tokens, tokens, sizeof(int32_t) * N);
    if (targets) memcpy(m->targets, targets, sizeof(int32_t) * N);
    m->B = B, m->T = T, m->has_targets = targets != NULL, m->backward_done = 0, m->loss_grad_ready = 0;
    blas_set_threads(1);

    const float *P = m->params;
    TIMED(SEC_CAST, 0, P = m->lp ? model_quantize_weights(m) : m->params);
    TIMED(SEC_EMBED, 0, model_embed(m, P));
    for (int l = 0; l < c->n_layers; l++) {
        const layer_offsets *o = &m->lo[l];
        layer_acts *a = &m->la[l];
        TIMED(SEC_NORM, 0, rmsnorm_forward(a->xn1, a->rstd1, m->res[l], P + o->ln1, N, d, c->norm_eps));
        const float *x1;
        TIMED(SEC_CAST, 0, x1 = model_q_act(m, lowp_id(m->lp, l, LP_QKV_X), a->xq1, a->xn1, N, d));
        TIMED(SEC_ATTN_MM, 0, linear_forward(a->qkv, x1, P + o->qkv, N, d, m->qkv_dim, lowp_site_linear(m->lp, l, LP_QKV_X, LP_QKV_W, -1)));
        // q and k are rotated (RoPE) as the attention packs them: qkv stays unrotated
        TIMED(SEC_ATTN, 0, attention_forward(a->att, a->lse, a->qkv, B, T, H, Hkv, D, m->rope_cos, m->rope_sin));
        const float *x2;
        TIMED(SEC_CAST, 0, x2 = model_q_act(m, lowp_id(m->lp, l, LP_O_X), a->attq, a->att, N, d));
        TIMED(SEC_ATTN_MM, 0, linear_forward(a->mid, x2, P + o->o, N, d, d, lowp_site_linear(m->lp, l, LP_O_X, LP_O_W, -1)));
        TIMED(SEC_RESID, 0, add_inplace(a->mid, m->res[l], (size_t)N * d));
        TIMED(SEC_NORM, 0, rmsnorm_forward(a->xn2, a->rstd2, a->mid, P + o->ln2, N, d, c->norm_eps));
        double t_act = 0;
        if (m->moe.E) {
            TIMED(SEC_FFN_MM, 0, model_moe_forward(m, l, P, &t_act));
        } else {
            ffn_weights w = model_ffn_view(&o->ffn, P);
            ffn_lowp fq = model_ffn_q(m, l);
            TIMED(SEC_FFN_MM, 0, ffn_forward(m->res[l + 1], a->z, a->u, a->a, a->xn2, &w, &c->act, N, d, m->hidden,
                                             m->lp ? &fq : NULL, &t_act));
        }
        m->prof[SEC_FFN_MM][0] -= t_act, m->prof[SEC_ACT][0] += t_act;
        TIMED(SEC_RESID, 0, add_inplace(m->res[l + 1], a->mid, (size_t)N * d));
    }
    TIMED(SEC_NORM, 0, rmsnorm_forward(m->xnf, m->rstdf, m->res[c->n_layers], P + m->off_norm, N, d, c->norm_eps));
    const float *xf;
    TIMED(SEC_CAST, 0, xf = model_q_act(m, m->lp ? lowp_head_id(m->lp, LP_HEAD_X) : 0, m->xqf, m->xnf, N, d));
    linear_prec ph = lowp_site_linear(m->lp, -1, LP_HEAD_X, LP_HEAD_W, -1);
    ph.ldy = m->ld_logits;
    TIMED(SEC_HEAD, 0, linear_forward(m->logits, xf, P + m->off_head, N, d, V, ph));
    if (!targets) return 0.0f;
    double total;
    if (fuse) {
        int id_dy;
        ce_out ce = head_dy_out(m, &id_dy);
        num_qstats st;
        num_qstats_clear(&st);
        TIMED(SEC_CE, 0, total = crossentropy_fused(m->logits, m->lse_ce, targets, N, V, m->ld_logits, m->loss_count,
                                                    ce, &st, &m->n_valid));
        if (m->lp) lowp_record_bf16(m->lp, id_dy, &st);
        m->loss_grad_ready = 1;
    } else
        TIMED(SEC_CE, 0, total = crossentropy_forward(m->lse_ce, m->logits, targets, N, V, m->ld_logits, &m->n_valid));
    return m->n_valid ? (float)(total / m->n_valid) : 0.0f;
}

float model_forward(model *m, const int32_t *tokens, const int32_t *targets, int B, int T) {
    return forward(m, tokens, targets, B, T, 0);
}

float model_forward_train(model *m, const int32_t *tokens, const int32_t *targets, int B, int T) {
    if (!targets) die("pass the targets to model_forward_train", "model_forward_train: targets is NULL");
    return forward(m, tokens, targets, B, T, 1);
}

void model_backward(model *m) {
    const model_config *c = &m->cfg;
    if (!m->cap_rows || !m->has_targets)
        die("call model_forward with targets before model_backward", "model_backward: no forward pass with targets to differentiate");
    if (m->backward_done)
        die("run model_forward again before each model_backward", "model_backward: called twice for one forward pass");
    int B = m->B, T = m->T, N = B * T, d = c->d_model, H = c->n_heads, Hkv = c->n_kv_heads, D = m->head_dim;
    int V = c->vocab_size, h = m->hidden;
    blas_set_threads(1);
    const float *P = m->lp ? m->wq : m->params;  // the dgrad matmuls see the weights the forward saw
    float *G = m->grads;

    // The logits buffer becomes dlogits: a second (N,V) array would cost 128 MiB at the anchor size.
    if (!m->loss_grad_ready) {
        int id_dy;
        float scale = crossentropy_scale(m->loss_count, m->n_valid);
        ce_out ce = head_dy_out(m, &id_dy);
        num_qstats st;
        num_qstats_clear(&st);
        TIMED(SEC_CE, 1, crossentropy_backward(m->logits, m->logits, m->lse_ce, m->targets, N, V, m->ld_logits, scale,
                                               ce, &st));
        if (m->lp) lowp_record_bf16(m->lp, id_dy, &st);
    }
    linear_prec ph = lowp_site_linear(m->lp, -1, LP_HEAD_X, LP_HEAD_W, LP_HEAD_DY);
    ph.ldy = m->ld_logits;
    TIMED(SEC_HEAD, 1, linear_backward(m->dxn, G + m->off_head, m->logits, m->lp ? m->xqf : m->xnf, P + m->off_head, N, d, V, 0, ph));
    memset(m->dres, 0, sizeof(float) * (size_t)N * d);
    TIMED(SEC_NORM, 1, rmsnorm_backward(m->dres, G + m->off_norm, m->dxn, m->res[c->n_layers], P + m->off_norm, m->rstdf, N, d));
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const layer_offsets *o = &m->lo[l];
        layer_acts *a = &m->la[l];
        // dres is dL/d(layer output); each residual branch adds its input gradient into it in place.
        double t_act = 0;
        if (m->moe.E) {
            TIMED(SEC_FFN_MM, 1, model_moe_backward(m, l, P, G, &t_act));
        } else {
            ffn_weights w = model_ffn_view(&o->ffn, P);
            ffn_grads g = model_ffn_grad_view(&o->ffn, G);
            ffn_lowp fq = model_ffn_q(m, l);
            TIMED(SEC_FFN_MM, 1, ffn_backward(m->dxn, a->dz, a->du, m->da, &g, m->dres, a->xn2, a->z, a->u, a->a, &w,
                                              &c->act, N, d, h, m->lp ? &fq : NULL, &t_act));
        }
        m->prof[SEC_FFN_MM][1] -= t_act, m->prof[SEC_ACT][1] += t_act;
        TIMED(SEC_NORM, 1, rmsnorm_backward(m->dres, G + o->ln2, m->dxn, a->mid, P + o->ln2, a->rstd2, N, d));
        const float *dyo;
        TIMED(SEC_CAST, 1, dyo = model_q_act(m, lowp_id(m->lp, l, LP_O_DY), m->dq, m->dres, N, d));
        linear_prec po = lowp_site_linear(m->lp, l, LP_O_X, LP_O_W, LP_O_DY);
        po.wg = lowp_site_wgrad(m->lp, l, LP_O_X, LP_O_DY, a->att, m->dres, N, d, d);
        TIMED(SEC_ATTN_MM, 1, linear_backward(m->datt, G + o->o, dyo, m->lp ? a->attq : a->att, P + o->o, N, d, d, 0, po));
        TIMED(SEC_ATTN, 1, attention_backward(m->dqkv, m->datt, a->qkv, a->att, a->lse, B, T, H, Hkv, D, m->rope_cos,
                                              m->rope_sin));
        // block formats: the wgrad operands come from the f32 gradient, before it is quantised in place
        linear_wgrad wq = lowp_site_wgrad(m->lp, l, LP_QKV_X, LP_QKV_DY, a->xn1, m->dqkv, N, d, m->qkv_dim);
        TIMED(SEC_CAST, 1, model_q_act(m, lowp_id(m->lp, l, LP_QKV_DY), m->dqkv, m->dqkv, N, m->qkv_dim));  // in place: scratch
        linear_prec pq = lowp_site_linear(m->lp, l, LP_QKV_X, LP_QKV_W, LP_QKV_DY);
        pq.wg = wq;
        TIMED(SEC_ATTN_MM, 1, linear_backward(m->dxn, G + o->qkv, m->dqkv, m->lp ? a->xq1 : a->xn1, P + o->qkv, N, d, m->qkv_dim, 0, pq));
        TIMED(SEC_NORM, 1, rmsnorm_backward(m->dres, G + o->ln1, m->dxn, m->res[l], P + o->ln1, a->rstd1, N, d));
    }
    TIMED(SEC_EMBED, 1, embedding_backward(G + m->off_embed, m->dres, m->tokens, N, d));
    m->backward_done = 1;
}

int model_timings(const model *m, model_timing *out, int max) {
    int n = max < SEC_COUNT ? max : SEC_COUNT;
    for (int i = 0; i < n; i++) {
        out[i].name = sec_names[i];
        out[i].forward_s = m->prof[i][0];
        out[i].backward_s = m->prof[i][1];
    }
    return n;
}

void model_timings_reset(model *m) { memset(m->prof, 0, sizeof m->prof); }

const float *model_logits_row(const model *m, int row) {
    if (!m->cap_rows || m->backward_done || m->loss_grad_ready || row < 0 || row >= m->B * m->T) return NULL;
    return m->logits + (size_t)row * m->ld_logits;
}

const float *model_ffn_act_out(const model *m, int l) {
    return m->cap_rows && l >= 0 && l < m->cfg.n_layers ? m->la[l].a : NULL;
}
const float *model_ffn_act_in(const model *m, int l) {
    if (!m->cap_rows || l < 0 || l >= m->cfg.n_layers) return NULL;
    return m->la[l].z ? m->la[l].z : m->la[l].u;
}
const float *model_ffn_grad_up(const model *m, int l) {
    return m->backward_done && l >= 0 && l < m->cfg.n_layers ? m->la[l].du : NULL;
}
const float *model_ffn_grad_gate(const model *m, int l) {
    return m->backward_done && l >= 0 && l < m->cfg.n_layers ? m->la[l].dz : NULL;
}
