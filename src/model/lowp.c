// lowp.c — see lowp.h. The recipes themselves (rounding, scales, amax histories) are libactlab's
// (src/act/scaling.c); this file decides which tensor gets which format and recipe, keeps their
// state, and holds the model's low-precision side (quantised weights and matmul inputs, the
// model_lowp_* calls of model.h) on the private state of model_impl.h.
#include "model_impl.h"

#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FMT_BF16, FMT_E4M3, FMT_E5M2 };
enum { ROLE_X, ROLE_W, ROLE_DY };
#define BLOCK 128  // DeepSeek-V3's tile: 1x128 for activations and gradients, 128x128 for weights

typedef struct {
    char name[32];
    int fmt, role, used;
    num_delayed dl;    // delayed scaling (FP8_DELAYED only)
    float step_amax;   // amax over this optimiser step's quantisations
    float last_scale;  // telemetry
    num_qstats acc;    // since the last stats reset
} lp_tensor;

struct lowp {
    model_precision p;
    int n_layers, n, recording;
    lp_tensor *t;
    float *hist;  // n × amax_history
};

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
}

const char *const precision_names[] = {"fp32", "bf16", "fp8", NULL};
const char *const fp8_scaling_names[] = {"delayed", "current", "block", NULL};

const char *precision_name(precision_kind k) { return k >= PREC_FP32 && k <= PREC_FP8 ? precision_names[k] : "?"; }

const char *fp8_scaling_name(fp8_scaling_kind k) {
    return k >= FP8_DELAYED && k <= FP8_BLOCK ? fp8_scaling_names[k] : "?";
}

static void init_tensor(lowp *q, lp_tensor *t, const char *name, int head, int is_down_x, int used, float *hist) {
    snprintf(t->name, sizeof t->name, "%s", name);
    t->role = role_of(name);
    t->used = used;
    if (q->p.precision == PREC_BF16 || head || (is_down_x && q->p.keep_act_bf16)) t->fmt = FMT_BF16;
    else t->fmt = t->role == ROLE_DY ? FMT_E5M2 : FMT_E4M3;
    num_delayed_init(&t->dl, hist, q->p.amax_history);
    t->last_scale = 1.0f;
}

lowp *lowp_create(const model_precision *p, int n_layers, int gated) {
    if (p->precision == PREC_FP32) return NULL;
    lowp *q = xcalloc(1, sizeof *q);
    q->p = *p;
    if (q->p.amax_history < 1) q->p.amax_history = 1;
    q->n_layers = n_layers;
    q->n = n_layers * LP_PER_LAYER + LP_HEAD_COUNT;
    q->recording = 1;
    q->t = xcalloc((size_t)q->n, sizeof *q->t);
    q->hist = xcalloc((size_t)q->n * (size_t)q->p.amax_history, sizeof(float));
    char name[32];
    for (int i = 0; i < q->n; i++) {
        int l = i / LP_PER_LAYER, site = i % LP_PER_LAYER, head = l >= n_layers;
        if (head) snprintf(name, sizeof name, "%s", HEAD_NAMES[i - n_layers * LP_PER_LAYER]);
        else snprintf(name, sizeof name, "L%d.%s", l, SITE_NAMES[site]);
        int used = head || gated || (site != LP_GATE_W && site != LP_GATE_DY);
        init_tensor(q, &q->t[i], name, head, !head && site == LP_DOWN_X, used,
                    q->hist + (size_t)i * (size_t)q->p.amax_history);
    }
    return q;
}

void lowp_free(lowp *q) {
    if (!q) return;
    free(q->t);
    free(q->hist);
    free(q);
}

int lowp_id(const lowp *q, int layer, int which) {
    (void)q;
    return layer * LP_PER_LAYER + which;
}
int lowp_head_id(const lowp *q, int which) { return q->n_layers * LP_PER_LAYER + which; }

void lowp_set_recording(lowp *q, int on) { q->recording = on; }

void lowp_quantize(lowp *q, int id, float *out, const float *x, int rows, int cols) {
    lp_tensor *t = &q->t[id];
    size_t n = (size_t)rows * (size_t)cols;
    num_qstats st;
    num_qstats_clear(&st);
    float scale = 1.0f;
    if (t->fmt == FMT_BF16) {
        num_bf16_qdq(out, x, n, &st);
    } else {
        num_fp8_format f = t->fmt == FMT_E4M3 ? NUM_E4M3 : NUM_E5M2;
        switch (q->p.scaling) {
        case FP8_DELAYED:
            scale = t->dl.scale;
            num_fp8_qdq(out, x, n, f, scale, &st);
            break;
        case FP8_CURRENT:
            scale = num_fp8_scale(f, num_amax(x, n), q->p.margin, 1.0f);
            num_fp8_qdq(out, x, n, f, scale, &st);
            break;
        case FP8_BLOCK:
            num_fp8_qdq_blocks(out, x, rows, cols, t->role == ROLE_W ? BLOCK : 1, BLOCK, f, q->p.margin, &st, &scale);
            break;
        }
    }
    if (!q->recording) return;
    t->last_scale = scale;
    if (st.amax > t->step_amax) t->step_amax = st.amax;
    num_qstats_merge(&t->acc, &st);
}

void lowp_step_end(lowp *q) {
    for (int i = 0; i < q->n; i++) {
        lp_tensor *t = &q->t[i];
        if (t->fmt != FMT_BF16 && q->p.scaling == FP8_DELAYED && t->used)
            num_delayed_push(&t->dl, t->step_amax, t->fmt == FMT_E4M3 ? NUM_E4M3 : NUM_E5M2, q->p.margin);
        t->step_amax = 0;
    }
}

int lowp_stats(const lowp *q, model_lowp_stat *out, int max) {
    static const char *const FMT_NAMES[3] = {"bf16", "e4m3", "e5m2"};
    int k = 0;
    for (int i = 0; i < q->n && k < max; i++) {
        const lp_tensor *t = &q->t[i];
        if (!t->used) continue;
        out[k++] = (model_lowp_stat){t->name, FMT_NAMES[t->fmt], t->acc.amax, t->last_scale,
                                     t->acc.n, t->acc.n_sat, t->acc.n_ftz};
    }
    return k;
}

void lowp_stats_reset(lowp *q) {
    for (int i = 0; i < q->n; i++) num_qstats_clear(&q->t[i].acc);
}

// Per tensor: scale, ring position, then the history; counters and statistics are not state
// (they restart with each metrics line).
size_t lowp_state_size(const lowp *q) { return (size_t)q->n * (2 + (size_t)q->p.amax_history); }

void lowp_state_save(const lowp *q, float *out) {
    for (int i = 0; i < q->n; i++) {
        const lp_tensor *t = &q->t[i];
        *out++ = t->dl.scale;
        *out++ = (float)t->dl.pos;
        memcpy(out, t->dl.hist, sizeof(float) * (size_t)t->dl.len);
        out += t->dl.len;
    }
}

int lowp_state_load(lowp *q, const float *in, size_t n) {
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

ffn_lowp model_ffn_q(model *m, int l) {
    layer_acts *a = &m->la[l];
    ffn_lowp q = {m->lp, lowp_id(m->lp, l, LP_FFN_X), lowp_id(m->lp, l, LP_DOWN_X), lowp_id(m->lp, l, LP_GATE_DY),
                  lowp_id(m->lp, l, LP_UP_DY), lowp_id(m->lp, l, LP_DOWN_DY), a->xq2, a->aq, m->dq};
    return q;
}

// wq = the parameters with every projection matrix quantised (norm gains and activation scalars
// copied: they do not enter a matmul). A tied embedding is the LM head's weight, so the lookup
// reads it as the head does; an untied one stays f32.
const float *model_quantize_weights(model *m) {
    const model_config *c = &m->cfg;
    memcpy(m->wq, m->params, sizeof(float) * m->n_params);
    int d = c->d_model, h = m->hidden;
    for (int l = 0; l < c->n_layers; l++) {
        const layer_offsets *o = &m->lo[l];
        lowp_quantize(m->lp, lowp_id(m->lp, l, LP_QKV_W), m->wq + o->qkv, m->params + o->qkv, m->qkv_dim, d);
        lowp_quantize(m->lp, lowp_id(m->lp, l, LP_O_W), m->wq + o->o, m->params + o->o, d, d);
        if (o->gate != ABSENT) lowp_quantize(m->lp, lowp_id(m->lp, l, LP_GATE_W), m->wq + o->gate, m->params + o->gate, h, d);
        lowp_quantize(m->lp, lowp_id(m->lp, l, LP_UP_W), m->wq + o->up, m->params + o->up, h, d);
        lowp_quantize(m->lp, lowp_id(m->lp, l, LP_DOWN_W), m->wq + o->down, m->params + o->down, d, h);
    }
    lowp_quantize(m->lp, lowp_head_id(m->lp, LP_HEAD_W), m->wq + m->off_head, m->params + m->off_head, c->vocab_size, d);
    return m->wq;
}

void model_set_precision(model *m, const model_precision *p) {
    model_free_workspace(m);  // the quantised copies join (or leave) the workspace layout
    lowp_free(m->lp);
    free(m->wq);
    m->prec = *p;
    m->lp = lowp_create(p, m->cfg.n_layers, m->act->gated);
    m->wq = m->lp ? xaligned(sizeof(float) * m->n_params) : NULL;
}

int model_lowp_stats(const model *m, model_lowp_stat *out, int max) { return m->lp ? lowp_stats(m->lp, out, max) : 0; }
void model_lowp_stats_reset(model *m) { if (m->lp) lowp_stats_reset(m->lp); }
void model_lowp_step_end(model *m) { if (m->lp) lowp_step_end(m->lp); }
void model_lowp_set_recording(model *m, int on) { if (m->lp) lowp_set_recording(m->lp, on); }
size_t model_lowp_state_size(const model *m) { return m->lp ? lowp_state_size(m->lp) : 0; }
void model_lowp_state_save(const model *m, float *out) { if (m->lp) lowp_state_save(m->lp, out); }
int model_lowp_state_load(model *m, const float *in, size_t n) {
    if (!m->lp) return n == 0 ? 0 : -1;
    return lowp_state_load(m->lp, in, n);
}
