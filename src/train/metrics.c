// metrics.c — see metrics.h.
#include "train/metrics.h"

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
    // The statistics are independent of each other: computed in parallel, each one sequentially,
    // so the numbers do not depend on the thread count.
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < K * L; i++) {
        if (!src[i]) continue;
        stats_compute(src[i], len[i], &st[i]);
        if (i % K == T_Z) {
            gt[2 * (i / K)] = stats_frac_above(src[i], len[i], METRICS_Z_BOUNDED);
            gt[2 * (i / K) + 1] = stats_frac_above(src[i], len[i], METRICS_Z_PEAK);
        }
    }
    json_t *layers = json_array();
    for (int l = 0; l < L; l++) {
        json_t *o = json_object();
        json_object_set_new(o, "layer", json_integer(l));
        for (int k = 0; k < K; k++) {
            size_t i = (size_t)K * l + k;
            if (!src[i]) continue;
            json_object_set_new(o, TELEMETRY_KEYS[k], k == T_Z ? act_in_json(&st[i], gt[2 * l], gt[2 * l + 1])
                                                               : metrics_stats_json(&st[i]));
        }
        const model_tensor *tg = NULL, *tu = NULL;
        const float *wg = weight(m, l, "gate_proj", &tg), *wu = weight(m, l, "up_proj", &tu);
        if (wg && wu && tg->numel == tu->numel)
            metrics_set_num(o, "gate_up_abs_cos",
                            stats_mean_abs_row_cosine(wg, wu, tg->shape[0], (int)(tg->numel / (size_t)tg->shape[0])));
        json_array_append_new(layers, o);
    }
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
