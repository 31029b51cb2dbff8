// metrics.c — see metrics.h.
#include "train/metrics.h"

#include "train/dist.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Seven significant digits: every f32 statistic, and identical text for identical bits.
#define METRICS_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(7))

json_t *metrics_line(long step) {
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(step));
    return o;
}

void metrics_set_num(json_t *o, const char *key, double x) {
    json_object_set_new(o, key, isfinite(x) ? json_real(x) : json_null());
}

json_t *metrics_stats_json(const tensor_stats *s) {
    json_t *o = json_object();
    metrics_set_num(o, "min", s->min);
    metrics_set_num(o, "max", s->max);
    metrics_set_num(o, "amax", s->amax);
    metrics_set_num(o, "p1", s->p1);
    metrics_set_num(o, "p50", s->p50);
    metrics_set_num(o, "p99", s->p99);
    metrics_set_num(o, "p999", s->p999);
    metrics_set_num(o, "rms", s->rms);
    metrics_set_num(o, "kurtosis", s->kurtosis);
    json_object_set_new(o, "nonfinite", json_integer((json_int_t)s->n_nonfinite));
    return o;
}

// The activation input's statistics: where z lies relative to PowLU's bounded regime.
static json_t *act_in_json(const tensor_stats *s, double gt_bounded, double gt_peak) {
    json_t *o = json_object();
    metrics_set_num(o, "p50", s->p50);
    metrics_set_num(o, "p99", s->p99);
    metrics_set_num(o, "p999", s->p999);
    metrics_set_num(o, "max", s->max);
    metrics_set_num(o, "gt4", gt_bounded);
    metrics_set_num(o, "gt_peak", gt_peak);
    return o;
}

// The tensors watched per layer, in the order of the telemetry object's keys.
enum { T_ACT_OUT, T_GRAD_UP, T_GRAD_GATE, T_WGRAD_UP, T_WGRAD_GATE, T_Z, T_PER_LAYER };
static const char *const TELEMETRY_KEYS[T_PER_LAYER] = {"act_out", "grad_up", "grad_gate", "wgrad_up",
                                                        "wgrad_gate", "z"};

// The weight gradient of layer l's up or gate projection, and its element count (NULL if absent).
static const float *weight_grad(const model *m, int l, const char *proj, size_t *n) {
    char name[64];
    snprintf(name, sizeof name, "model.layers.%d.mlp.%s.weight", l, proj);
    int i = model_tensor_find(m, name);
    if (i < 0) return NULL;
    const model_tensor *t = model_tensor_at(m, i);
    *n = t->numel;
    return model_grads((model *)m) + t->offset;
}

static const float *weight(const model *m, int l, const char *proj, const model_tensor **t) {
    char name[64];
    snprintf(name, sizeof name, "model.layers.%d.mlp.%s.weight", l, proj);
    int i = model_tensor_find(m, name);
    if (i < 0) return NULL;
    *t = model_tensor_at(m, i);
    return model_params((model *)m) + (*t)->offset;
}

// Data parallelism: rank 0 replaces each per-row tensor (activations and their gradients: rows of the
// rank's batch slice) by all ranks' rows in rank order, i.e. the whole batch, so the statistics do not
// depend on the rank count; weight gradients are already summed. The gathered copies land in owned
// (count entries, free each). Returns 1 on the ranks that only contribute.
static int gather_rows(const float **src, size_t *len, float **owned, int count) {
    int ranks = dist_size();
    if (ranks == 1) return 0;
    for (int i = 0; i < count; i++) {
        int k = i % T_PER_LAYER;
        if (!src[i] || k == T_WGRAD_UP || k == T_WGRAD_GATE) continue;
        owned[i] = dist_rank() == 0 ? xmalloc(len[i] * (size_t)ranks * sizeof(float)) : NULL;
        dist_gather_floats(src[i], len[i], owned[i]);
        src[i] = owned[i];
        len[i] *= (size_t)ranks;
    }
    return dist_rank() != 0;
}

// MoE layer l: {"tokens": each routed expert's share of the assignments, "lb_loss", "z_loss" (before
// their coefficients), "act_out" and "shared_act_out": the routed and the shared experts'
// down-projection inputs}. Collective over ranks like the dense statistics: loads are summed,
// losses averaged, rows gathered. NULL on the ranks that only contribute.
static json_t *moe_telemetry(const model *m, int l) {
    model_moe_view v;
    if (model_moe_view_of(m, l, &v)) return NULL;
    int ranks = dist_size(), lead = dist_rank() == 0;
    uint64_t *load = xcalloc((size_t)v.E, sizeof *load);
    for (int e = 0; e < v.E; e++) load[e] = (uint64_t)(v.expert_rows[e + 1] - v.expert_rows[e]);
    dist_sum_u64(load, (size_t)v.E);
    double lb = dist_sum_double(v.lb_loss) / ranks, zl = dist_sum_double(v.z_loss) / ranks;
    const float *src[2] = {v.act_out, v.shared_act_out};
    size_t len[2] = {v.rows * (size_t)v.k * (size_t)v.hidden, v.rows * (size_t)v.shared_hidden};
    float *owned[2] = {NULL, NULL};
    tensor_stats st[2];
    for (int i = 0; i < 2; i++) {
        if (!src[i] || ranks == 1) continue;
        owned[i] = lead ? xmalloc(len[i] * (size_t)ranks * sizeof(float)) : NULL;
        dist_gather_floats(src[i], len[i], owned[i]);
        src[i] = owned[i], len[i] *= (size_t)ranks;
    }
    json_t *o = lead ? json_object() : NULL;
    if (o) {
        uint64_t total = 0;
        for (int e = 0; e < v.E; e++) total += load[e];
        json_t *tokens = json_array();
        for (int e = 0; e < v.E; e++) json_array_append_new(tokens, json_real(total ? (double)load[e] / total : 0));
        json_object_set_new(o, "tokens", tokens);
        metrics_set_num(o, "lb_loss", lb);
        metrics_set_num(o, "z_loss", zl);
#pragma omp parallel for schedule(dynamic, 1)
        for (int i = 0; i < 2; i++)
            if (src[i]) stats_compute(src[i], len[i], &st[i]);
        json_object_set_new(o, "act_out", metrics_stats_json(&st[0]));
        if (src[1]) json_object_set_new(o, "shared_act_out", metrics_stats_json(&st[1]));
    }
    free(owned[0]), free(owned[1]), free(load);
    return o;
}

json_t *metrics_telemetry(const model *m, size_t rows) {
    const model_config *mc = model_cfg(m);
    int L = mc->n_layers, K = T_PER_LAYER;
    size_t act_n = rows * (size_t)model_ffn_hidden(mc);
    const float **src = xcalloc((size_t)K * L, sizeof *src);
    size_t *len = xcalloc((size_t)K * L, sizeof *len);
    tensor_stats *st = xcalloc((size_t)K * L, sizeof *st);
    double *gt = xcalloc((size_t)2 * L, sizeof *gt);
    for (int l = 0; l < L; l++) {
        const float **s = src + (size_t)K * l;
        size_t *n = len + (size_t)K * l;
        s[T_ACT_OUT] = model_ffn_act_out(m, l), n[T_ACT_OUT] = act_n;
        s[T_GRAD_UP] = model_ffn_grad_up(m, l), n[T_GRAD_UP] = act_n;
        s[T_GRAD_GATE] = model_ffn_grad_gate(m, l), n[T_GRAD_GATE] = act_n;
        s[T_WGRAD_UP] = weight_grad(m, l, "up_proj", &n[T_WGRAD_UP]);
        s[T_WGRAD_GATE] = weight_grad(m, l, "gate_proj", &n[T_WGRAD_GATE]);
        s[T_Z] = model_ffn_act_in(m, l), n[T_Z] = act_n;
    }
    float **owned = xcalloc((size_t)K * L, sizeof *owned);
    int contributor = gather_rows(src, len, owned, K * L);
    // The statistics are independent of each other: computed in parallel, each one sequentially,
    // so the numbers do not depend on the thread count.
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < K * L; i++) {
        if (!src[i] || contributor) continue;
        stats_compute(src[i], len[i], &st[i]);
        if (i % K == T_Z) {
            gt[2 * (i / K)] = stats_frac_above(src[i], len[i], METRICS_Z_BOUNDED);
            gt[2 * (i / K) + 1] = stats_frac_above(src[i], len[i], METRICS_Z_PEAK);
        }
    }
    for (int i = 0; i < K * L; i++) free(owned[i]);
    free(owned);
    json_t **moe = xcalloc((size_t)L, sizeof *moe);
    for (int l = 0; l < L; l++) moe[l] = moe_telemetry(m, l);  // collective: every rank, every layer
    json_t *layers = contributor ? NULL : json_array();
    for (int l = 0; l < L && layers; l++) {
        json_t *o = json_object();
        json_object_set_new(o, "layer", json_integer(l));
        for (int k = 0; k < K; k++) {
            size_t i = (size_t)K * l + k;
            if (!src[i]) continue;
            json_object_set_new(o, TELEMETRY_KEYS[k], k == T_Z ? act_in_json(&st[i], gt[2 * l], gt[2 * l + 1])
                                                               : metrics_stats_json(&st[i]));
        }
        if (moe[l]) json_object_set_new(o, "moe", moe[l]);
        const model_tensor *tg = NULL, *tu = NULL;
        const float *wg = weight(m, l, "gate_proj", &tg), *wu = weight(m, l, "up_proj", &tu);
        if (wg && wu && tg->numel == tu->numel)
            metrics_set_num(o, "gate_up_abs_cos",
                            stats_mean_abs_row_cosine(wg, wu, tg->shape[0], (int)(tg->numel / (size_t)tg->shape[0])));
        json_array_append_new(layers, o);
    }
    free(moe);
    free(src);
    free(len);
    free(st);
    free(gt);
    return layers;
}

void metrics_write(FILE *f, const char *path, json_t *line) {
    if (json_dumpf(line, f, METRICS_DUMP_FLAGS) != 0 || fputc('\n', f) == EOF || fflush(f) != 0)
        die("free disk space or check the run folder", "cannot write '%s'", path);
    json_decref(line);
}
