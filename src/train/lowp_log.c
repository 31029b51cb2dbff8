// lowp_log.c — see lowp_log.h.
#include "train/lowp_log.h"

#include "train/dist.h"
#include "train/metrics.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *tensor_json(const model_lowp_stat *s) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "fmt", json_string(s->fmt));
    metrics_set_num(o, "amax", s->amax);
    metrics_set_num(o, "scale", s->scale);
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "sat", json_integer((json_int_t)s->n_sat));
    json_object_set_new(o, "ftz", json_integer((json_int_t)s->n_ftz));
    return o;
}

// Data parallelism: activation and gradient counts (x, dy: each rank quantises its rows) are summed
// over ranks and the amaxes maximised, giving the whole batch's numbers; the weights (w) are
// quantised whole on every rank, so rank 0's counts stand. The scale is rank 0's.
static void reduce_over_ranks(model_lowp_stat *st, int n) {
    if (dist_size() == 1) return;
    uint64_t *cnt = xcalloc((size_t)n * 3, sizeof *cnt);
    float *amax = xmalloc((size_t)n * sizeof *amax);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(st[i].name);
        int whole = len >= 2 && !strcmp(st[i].name + len - 2, ".w");
        cnt[3 * i] = whole && dist_rank() ? 0 : st[i].n;
        cnt[3 * i + 1] = whole && dist_rank() ? 0 : st[i].n_sat;
        cnt[3 * i + 2] = whole && dist_rank() ? 0 : st[i].n_ftz;
        amax[i] = st[i].amax;
    }
    dist_sum_u64(cnt, (size_t)n * 3);
    dist_max_floats(amax, (size_t)n);
    for (int i = 0; i < n; i++) st[i].n = cnt[3 * i], st[i].n_sat = cnt[3 * i + 1], st[i].n_ftz = cnt[3 * i + 2];
    for (int i = 0; i < n; i++) st[i].amax = amax[i];
    free(cnt);
    free(amax);
}

json_t *lowp_log_json(model *m, int with_tensors) {
    int cap = 16 * (model_cfg(m)->n_layers + 1);
    model_lowp_stat *st = xcalloc((size_t)cap, sizeof *st);
    int n = model_lowp_stats(m, st, cap);
    reduce_over_ranks(st, n);
    if (n == 0 || dist_rank() != 0) {
        free(st);
        model_lowp_stats_reset(m);
        return NULL;
    }
    unsigned long long tn = 0, tsat = 0, tftz = 0;
    double amax = 0, smin = INFINITY;
    for (int i = 0; i < n; i++) {
        tn += st[i].n, tsat += st[i].n_sat, tftz += st[i].n_ftz;
        if (st[i].amax > amax) amax = st[i].amax;
        if (st[i].scale < smin) smin = st[i].scale;
    }
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)tn));
    json_object_set_new(o, "sat", json_integer((json_int_t)tsat));
    json_object_set_new(o, "ftz", json_integer((json_int_t)tftz));
    metrics_set_num(o, "amax_max", amax);
    metrics_set_num(o, "scale_min", smin);
    if (with_tensors) {
        json_t *list = json_array();
        for (int i = 0; i < n; i++) json_array_append_new(list, tensor_json(&st[i]));
        json_object_set_new(o, "tensors", list);
    }
    free(st);
    model_lowp_stats_reset(m);
    return o;
}
