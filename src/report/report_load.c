// report_load.c — reads a sweep folder into an rp_sweep: plan.json, then for every planned run its
// run.json (absent: "not finished", no metrics read, since a running sweep may be mid-line),
// config.json and metrics.jsonl. Every error names the file, and the line for metrics.jsonl.
#include "report/rp.h"
#include "util/check.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const RP_TENSOR_NAMES[RP_NT] = {"act_out",   "grad_up",     "grad_gate", "wgrad_up",
                                           "wgrad_gate", "moe.act_out", "moe.shared_act_out"};
// Where each tensor sits in a telemetry line's layer object: the dense ones at its top level, an MoE
// layer's inside its "moe" object (docs/moe.md).
static const struct { const char *parent, *key; } TENSOR_KEYS[RP_NT] = {
    {NULL, "act_out"}, {NULL, "grad_up"},     {NULL, "grad_gate"},         {NULL, "wgrad_up"},
    {NULL, "wgrad_gate"}, {"moe", "act_out"}, {"moe", "shared_act_out"}};

#define DOWN_INPUT_SUFFIX "ffn_down.x"   // lowp tensor name of a layer's down-projection input

int rp_is_fp8(const rp_run *r) { return !strcmp(r->precision, "fp8"); }
int rp_is_4bit(const rp_run *r) { return !strcmp(r->precision, "mxfp4") || !strcmp(r->precision, "nvfp4"); }
int rp_in_exp(const rp_run *r, int e) { return r->finished && (r->exps >> (e - 1) & 1u); }
int rp_is_tune(const rp_run *r) { return r->finished && (r->exps & RP_EXP_TUNE); }

unsigned rp_exp_bit(const char *id) {
    if (!id) return 0;
    if (!strcmp(id, "tune")) return RP_EXP_TUNE;
    if ((id[0] != 'E' && id[0] != 'e') || id[1] < '1' || id[1] > '0' + RP_N_EXP) return 0;
    // "E3" or "E3.polynorm": the experiment is the digit; a suffix only names the sub-grid.
    if (id[2] && (id[2] != '.' || !id[3])) return 0;
    if (id[1] == '6' && !strncmp(id + 3, "E2", 2) && (!id[5] || (id[5] == '.' && id[6]))) return 1u << 5 | RP_EXP_E6_E2;
    return 1u << (id[1] - '1');
}

// A JSON number (null -> NAN); absent keys give `dflt`.
static double num_or(const json_t *o, const char *key, double dflt) {
    const json_t *v = json_object_get(o, key);
    if (!v) return dflt;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void str_or(const json_t *o, const char *key, const char *dflt, char *out, size_t n) {
    const json_t *v = json_object_get(o, key);
    snprintf(out, n, "%s", json_is_string(v) ? json_string_value(v) : dflt);
}

static json_t *load_json(const char *path, char *err, size_t errlen) {
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) {
        if (access(path, F_OK)) err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
        else err_set(err, errlen, "%s:%d: not valid JSON: %s", path, e.line, e.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        err_set(err, errlen, "%s: expected a JSON object", path);
        json_decref(j);
        return NULL;
    }
    return j;
}

static int parse_plan_run(const json_t *o, size_t i, const char *dir, const char *path, rp_run *r, char *err,
                          size_t errlen) {
    const json_t *name = json_object_get(o, "name"), *rdir = json_object_get(o, "dir");
    const json_t *exps = json_object_get(o, "experiments");
    if (!json_is_string(name) || !json_is_array(exps))
        return err_set(err, errlen, "%s: runs[%zu] needs a string \"name\" and an \"experiments\" array", path, i);
    snprintf(r->name, sizeof r->name, "%s", json_string_value(name));
    const char *sub = json_is_string(rdir) ? json_string_value(rdir) : NULL;
    char fallback[RP_NAME + 8];
    snprintf(fallback, sizeof fallback, "runs/%s", r->name);
    snprintf(r->dir, sizeof r->dir, "%s/%s", dir, sub ? sub : fallback);
    size_t k;
    const json_t *e;
    json_array_foreach(exps, k, e) {
        unsigned bit = rp_exp_bit(json_string_value(e));
        if (!bit)
            return err_set(err, errlen, "%s: runs[%zu] (%s): experiment ids are E1..E%d (optionally E<k>.<suffix>) or tune",
                        path, i, r->name, RP_N_EXP);
        r->exps |= bit;
    }
    r->steps_planned = (long)num_or(o, "steps", -1);
    return 0;
}

static int load_run_json(rp_run *r, char *err, size_t errlen) {
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", r->dir);
    if (access(path, F_OK)) {
        snprintf(r->status, sizeof r->status, "not finished");
        return 0;
    }
    json_t *j = load_json(path, err, errlen);
    if (!j) return -1;
    r->finished = 1;
    str_or(j, "status", "", r->status, sizeof r->status);
    int rc = 0;
    if (!r->status[0]) rc = err_set(err, errlen, "%s: missing string \"status\"", path);
    double v = num_or(j, "steps_done", -1);
    r->steps_done = isfinite(v) ? (long)v : -1;
    v = num_or(j, "n_params", -1);
    r->n_params = isfinite(v) ? (long)v : -1;
    v = num_or(j, "n_params_nonembed", -1);
    r->n_params_nonembed = isfinite(v) ? (long)v : -1;
    json_decref(j);
    return rc;
}

static int load_config(rp_run *r, char *err, size_t errlen) {
    char path[1100];
    snprintf(path, sizeof path, "%s/config.json", r->dir);
    json_t *j = load_json(path, err, errlen);
    if (!j) return -1;
    str_or(j, "act", "", r->act, sizeof r->act);
    str_or(j, "precision", "fp32", r->precision, sizeof r->precision);
    // The trainer writes fp8_scaling in every precision; it is a recipe only under fp8.
    str_or(j, "fp8_scaling", "-", r->recipe, sizeof r->recipe);
    if (strcmp(r->precision, "fp8")) snprintf(r->recipe, sizeof r->recipe, "-");
    int rc = r->act[0] ? 0 : err_set(err, errlen, "%s: missing string \"act\"", path);
    r->m = num_or(json_object_get(j, "act_hyper"), "m", NAN);
    r->lr = num_or(j, "lr", NAN);
    r->seed = (long)num_or(j, "seed", 0);
    r->d_model = (long)num_or(j, "d_model", 0);
    r->n_layers = (long)num_or(j, "n_layers", 0);
    r->n_heads = (long)num_or(j, "n_heads", 0);
    r->ffn_hidden = (long)num_or(j, "ffn_hidden", 0);
    r->batch = (long)num_or(j, "batch", 0);
    r->seq = (long)num_or(j, "seq", 0);
    r->grad_accum = (long)num_or(j, "grad_accum", 1);
    r->n_kv_heads = (long)num_or(j, "n_kv_heads", (double)r->n_heads);
    r->vocab_size = (long)num_or(j, "vocab_size", 0);
    r->tied = (long)num_or(j, "tied_embeddings", -1);
    r->amax_history = (long)num_or(j, "amax_history", 0);
    r->steps_cfg = (long)num_or(j, "steps", 0);
    r->rht = (long)num_or(j, "rht", 1);
    if (strcmp(r->precision, "fp8")) r->amax_history = 0;   // a recipe setting only under fp8
    r->moe_experts = (long)num_or(j, "moe_experts", 0);
    r->moe_top_k = (long)num_or(j, "moe_top_k", 0);
    r->moe_shared = (long)num_or(j, "moe_shared", 0);
    r->moe_hidden = (long)num_or(j, "moe_hidden", 0);
    char router[16];
    str_or(j, "moe_router", "softmax", router, sizeof router);
    r->moe_sigmoid = !strcmp(router, "sigmoid");
    json_decref(j);
    return rc;
}

// One layer's statistics of one tensor.
static rp_band band_of(const json_t *q) {
    double p1 = num_or(q, "p1", NAN), p99 = num_or(q, "p99", NAN), amax = num_or(q, "amax", NAN);
    double rms = num_or(q, "rms", NAN);
    return (rp_band){num_or(q, "min", NAN), num_or(q, "max", NAN), p1, p99, amax, p99 - p1,
                     rms > 0 ? amax / rms : NAN, num_or(q, "kurtosis", NAN)};
}

// fmin/fmax ignore a NAN (a null written for a non-finite value, or an absent key) on one side.
static void band_merge(rp_band *b, const rp_band *x) {
    b->lo = fmin(b->lo, x->lo), b->hi = fmax(b->hi, x->hi);
    b->p1 = fmin(b->p1, x->p1), b->p99 = fmax(b->p99, x->p99), b->amax = fmax(b->amax, x->amax);
    b->width = fmax(b->width, x->width), b->crest = fmax(b->crest, x->crest), b->kurt = fmax(b->kurt, x->kurt);
}

static void z_merge(rp_tele *t, const json_t *z) {
    rp_zq x = {num_or(z, "p50", NAN), num_or(z, "p99", NAN), num_or(z, "p999", NAN),
               num_or(z, "max", NAN), num_or(z, "gt4", NAN), num_or(z, "gt_peak", NAN)};
    if (!t->has_z) {
        t->z = x, t->has_z = 1;
        return;
    }
    rp_zq *m = &t->z;
    m->p50 = fmax(m->p50, x.p50), m->p99 = fmax(m->p99, x.p99), m->p999 = fmax(m->p999, x.p999);
    m->max = fmax(m->max, x.max), m->gt4 = fmax(m->gt4, x.gt4), m->gt_peak = fmax(m->gt_peak, x.gt_peak);
}

// Reduces one telemetry line's "layers" array over layers.
static int parse_layers(const json_t *layers, rp_tele *t, const char *path, long line, char *err, size_t errlen) {
    memset(t->has, 0, sizeof t->has);
    t->has_z = 0;
    size_t i;
    const json_t *L;
    json_array_foreach(layers, i, L) {
        for (int k = 0; k < RP_NT; k++) {
            const json_t *in = TENSOR_KEYS[k].parent ? json_object_get(L, TENSOR_KEYS[k].parent) : L;
            const json_t *q = json_object_get(in, TENSOR_KEYS[k].key);
            if (!q) continue;
            if (!json_is_object(q))
                return err_set(err, errlen, "%s:%ld: layers[%zu].%s is not an object", path, line, i, RP_TENSOR_NAMES[k]);
            rp_band x = band_of(q);
            if (!t->has[k]) t->b[k] = x, t->has[k] = 1;
            else band_merge(&t->b[k], &x);
        }
        const json_t *z = json_object_get(L, "z");
        if (z && !json_is_object(z)) return err_set(err, errlen, "%s:%ld: layers[%zu].z is not an object", path, line, i);
        if (z) z_merge(t, z);
    }
    return 0;
}

// Sums the lowp counts of the down-projection inputs ("L<l>.ffn_down.x") over the tensors listed.
static void down_input_counts(rp_run *r, const json_t *tensors) {
    size_t i;
    const json_t *T;
    json_array_foreach(tensors, i, T) {
        const char *name = json_string_value(json_object_get(T, "name"));
        size_t n = name ? strlen(name) : 0, k = strlen(DOWN_INPUT_SUFFIX);
        if (n < k || strcmp(name + n - k, DOWN_INPUT_SUFFIX)) continue;
        r->has_down = 1;
        r->down_n += num_or(T, "n", 0), r->down_sat += num_or(T, "sat", 0), r->down_ftz += num_or(T, "ftz", 0);
        const json_t *b = json_object_get(T, "blk");
        if (!json_is_object(b)) continue;
        double bn = num_or(b, "n", 0), blocks = num_or(b, "blocks", 0);
        r->has_down_blk = 1;
        r->down_blocks += blocks, r->down_outlier += num_or(b, "outlier_frac", 0) * blocks;
        r->down_bn += bn, r->down_zero += num_or(b, "zero_frac", 0) * bn, r->down_bsat += num_or(b, "sat_frac", 0) * bn;
        r->down_err += num_or(b, "rel_err", 0) * bn;
    }
}

#define GROW(arr, n, cap)                                                     \
    do {                                                                      \
        if ((n) == (cap)) {                                                   \
            (cap) = (cap) ? 2 * (cap) : 64;                                   \
            void *p_ = realloc((arr), (cap) * sizeof *(arr));                 \
            if (!p_) die(NULL, "out of memory reading metrics");             \
            (arr) = p_;                                                       \
        }                                                                     \
    } while (0)

static int parse_metrics_line(rp_run *r, const json_t *j, const char *path, long line, size_t cap[3], char *err,
                              size_t errlen) {
    const json_t *step = json_object_get(j, "step");
    if (!json_is_integer(step)) return err_set(err, errlen, "%s:%ld: missing integer \"step\"", path, line);
    long s = (long)json_integer_value(step);
    if (json_object_get(j, "loss")) {
        GROW(r->loss, r->n_loss, cap[0]);
        r->loss[r->n_loss++] = (rp_pt){s, num_or(j, "loss", NAN)};
        r->final_loss = r->loss[r->n_loss - 1].v;
    }
    if (json_object_get(j, "val_loss")) {
        GROW(r->val, r->n_val, cap[1]);
        r->val[r->n_val++] = (rp_pt){s, num_or(j, "val_loss", NAN)};
        r->final_val = r->val[r->n_val - 1].v;
    }
    const json_t *layers = json_object_get(j, "layers");
    if (layers) {
        if (!json_is_array(layers)) return err_set(err, errlen, "%s:%ld: \"layers\" is not an array", path, line);
        GROW(r->tele, r->n_tele, cap[2]);
        rp_tele *t = &r->tele[r->n_tele];
        t->step = s;
        if (parse_layers(layers, t, path, line, err, errlen)) return -1;
        r->n_tele++;
    }
    if (json_object_get(j, "spike")) {
        if (r->last_spike_step < 0 || s != r->last_spike_step + 1) r->n_spikes++;  // a new event
        r->last_spike_step = s;
    }
    if (json_object_get(j, "diverged") && r->diverged_step < 0) r->diverged_step = s;
    if (json_is_true(json_object_get(j, "above_divergence_loss"))) r->n_grace_bumps++;
    const json_t *lp = json_object_get(j, "lowp");
    if (json_is_object(lp)) {
        r->has_lowp = 1;
        r->lowp_n += num_or(lp, "n", 0), r->lowp_sat += num_or(lp, "sat", 0), r->lowp_ftz += num_or(lp, "ftz", 0);
        const json_t *tensors = json_object_get(lp, "tensors");
        if (json_is_array(tensors)) down_input_counts(r, tensors);
    }
    return 0;
}

static int load_metrics(rp_run *r, char *err, size_t errlen) {
    char path[1100];
    snprintf(path, sizeof path, "%s/metrics.jsonl", r->dir);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t bufcap = 0, cap[3] = {0, 0, 0};
    ssize_t len;
    long line = 0;
    int rc = 0;
    while (!rc && (len = getline(&buf, &bufcap, f)) >= 0) {
        line++;
        if (len == 0 || (len == 1 && buf[0] == '\n')) continue;
        json_error_t e;
        json_t *j = json_loads(buf, 0, &e);
        if (!j || !json_is_object(j)) rc = err_set(err, errlen, "%s:%ld: not a JSON object: %s", path, line, j ? "" : e.text);
        else rc = parse_metrics_line(r, j, path, line, cap, err, errlen);
        json_decref(j);
    }
    free(buf);
    fclose(f);
    return rc;
}

static int load_run(rp_run *r, char *err, size_t errlen) {
    if (load_run_json(r, err, errlen)) return -1;
    if (!r->finished) return 0;
    char path[1100];
    snprintf(path, sizeof path, "%s/metrics.jsonl", r->dir);
    // A run that crashed at start-up may have left nothing behind; anything else must have both.
    if (!strcmp(r->status, "failed") && access(path, F_OK)) return 0;
    if (load_config(r, err, errlen) || load_metrics(r, err, errlen)) return -1;
    if (!strcmp(r->status, "diverged") && r->diverged_step < 0) r->diverged_step = r->steps_done;
    return 0;
}

int rp_load(const char *dir, rp_sweep *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    char path[1100];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    json_t *plan = load_json(path, err, errlen);
    if (!plan) return -1;
    const json_t *runs = json_object_get(plan, "runs");
    int rc = 0;
    if (num_or(plan, "version", 0) != 1) rc = err_set(err, errlen, "%s: expected \"version\": 1", path);
    else if (!json_is_array(runs)) rc = err_set(err, errlen, "%s: missing \"runs\" array", path);
    str_or(plan, "name", "", s->name, sizeof s->name);
    s->n = rc ? 0 : json_array_size(runs);
    s->runs = xcalloc(s->n + 1, sizeof(rp_run));
    for (size_t i = 0; !rc && i < s->n; i++) {
        rp_run *r = &s->runs[i];
        r->final_loss = r->final_val = r->m = r->lr = NAN;
        r->diverged_step = -1;
        r->last_spike_step = -1;
        snprintf(r->act, sizeof r->act, "?");
        snprintf(r->precision, sizeof r->precision, "fp32");
        snprintf(r->recipe, sizeof r->recipe, "-");
        rc = parse_plan_run(json_array_get(runs, i), i, dir, path, r, err, errlen);
        if (!rc) rc = load_run(r, err, errlen);
    }
    json_decref(plan);
    if (rc) rp_free(s);
    return rc;
}

void rp_free(rp_sweep *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->runs[i].loss);
        free(s->runs[i].val);
        free(s->runs[i].tele);
    }
    free(s->runs);
    memset(s, 0, sizeof *s);
}
