// lowp_log.c — see lowp_log.h.
#include "train/lowp_log.h"

#include "train/metrics.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>

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

json_t *lowp_log_json(model *m, int with_tensors) {
    int cap = 16 * (model_cfg(m)->n_layers + 1);
    model_lowp_stat *st = xcalloc((size_t)cap, sizeof *st);
    int n = model_lowp_stats(m, st, cap);
    if (n == 0) {
        free(st);
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
