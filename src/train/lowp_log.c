// lowp_log.c — see lowp_log.h.
#include "train/lowp_log.h"

#include "train/dist.h"
#include "train/metrics.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Block telemetry (docs/lowp.md): {"n","blocks","outlier_frac","zero_frac","sat_frac","rel_err"};
// outlier_frac of blocks (scale set by one element), zero_frac and sat_frac of elements, rel_err the
// mean relative quantisation error of the finite non-zero elements.
static json_t *bstats_json(const num_bstats *b) {
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)b->n));
    json_object_set_new(o, "blocks", json_integer((json_int_t)b->blocks));
    metrics_set_num(o, "outlier_frac", b->blocks ? (double)b->blocks_outlier / (double)b->blocks : 0);
    metrics_set_num(o, "zero_frac", b->n ? (double)b->n_zero / (double)b->n : 0);
    metrics_set_num(o, "sat_frac", b->n ? (double)b->n_sat / (double)b->n : 0);
    metrics_set_num(o, "rel_err", b->n_err ? b->sum_rel_err / (double)b->n_err : 0);
    return o;
}

static json_t *tensor_json(const model_lowp_stat *s) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "fmt", json_string(s->fmt));
    metrics_set_num(o, "amax", s->amax);
    metrics_set_num(o, "scale", s->scale);
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "sat", json_integer((json_int_t)s->n_sat));
    json_object_set_new(o, "ftz", json_integer((json_int_t)s->n_ftz));
    if (s->blk.blocks) json_object_set_new(o, "blk", bstats_json(&s->blk));
    if (s->wg.blocks) json_object_set_new(o, "wgrad", bstats_json(&s->wg));
    return o;
}

// The block counts of both quantisations as u64 (the relative-error sums travel separately).
enum { BFIELDS = 7 };
static void bstats_pack(const num_bstats *b, uint64_t *u, int zero) {
    uint64_t v[BFIELDS] = {b->n, b->n_sat, b->n_zero, b->n_err, b->blocks, b->blocks_nonfinite, b->blocks_outlier};
    for (int k = 0; k < BFIELDS; k++) u[k] = zero ? 0 : v[k];
}
static void bstats_unpack(num_bstats *b, const uint64_t *u) {
    b->n = u[0], b->n_sat = u[1], b->n_zero = u[2], b->n_err = u[3];
    b->blocks = u[4], b->blocks_nonfinite = u[5], b->blocks_outlier = u[6];
}

// Data parallelism for the block statistics, as for the counts below: x and dy summed over ranks,
// w from rank 0.
static void reduce_blocks_over_ranks(model_lowp_stat *st, int n, const int *whole) {
    uint64_t *u = xcalloc((size_t)n * 2 * BFIELDS, sizeof *u);
    for (int i = 0; i < n; i++) {
        int skip = whole[i] && dist_rank();
        bstats_pack(&st[i].blk, u + (size_t)i * 2 * BFIELDS, skip);
        bstats_pack(&st[i].wg, u + (size_t)i * 2 * BFIELDS + BFIELDS, skip);
    }
    dist_sum_u64(u, (size_t)n * 2 * BFIELDS);
    for (int i = 0; i < n; i++) {
        int skip = whole[i] && dist_rank();
        st[i].blk.sum_rel_err = dist_sum_double(skip ? 0 : st[i].blk.sum_rel_err);
        st[i].wg.sum_rel_err = dist_sum_double(skip ? 0 : st[i].wg.sum_rel_err);
        bstats_unpack(&st[i].blk, u + (size_t)i * 2 * BFIELDS);
        bstats_unpack(&st[i].wg, u + (size_t)i * 2 * BFIELDS + BFIELDS);
    }
    free(u);
}

// Data parallelism: activation and gradient counts (x, dy: each rank quantises its rows) are summed
// over ranks and the amaxes maximised, giving the whole batch's numbers; the weights (w) are
// quantised whole on every rank, so rank 0's counts stand. The scale is rank 0's.
static void reduce_over_ranks(model_lowp_stat *st, int n) {
    if (dist_size() == 1) return;
    uint64_t *cnt = xcalloc((size_t)n * 3, sizeof *cnt);
    float *amax = xmalloc((size_t)n * sizeof *amax);
    int *wholes = xcalloc((size_t)n, sizeof *wholes);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(st[i].name);
        int whole = wholes[i] = len >= 2 && !strcmp(st[i].name + len - 2, ".w");
        cnt[3 * i] = whole && dist_rank() ? 0 : st[i].n;
        cnt[3 * i + 1] = whole && dist_rank() ? 0 : st[i].n_sat;
        cnt[3 * i + 2] = whole && dist_rank() ? 0 : st[i].n_ftz;
        amax[i] = st[i].amax;
    }
    dist_sum_u64(cnt, (size_t)n * 3);
    dist_max_floats(amax, (size_t)n);
    for (int i = 0; i < n; i++) st[i].n = cnt[3 * i], st[i].n_sat = cnt[3 * i + 1], st[i].n_ftz = cnt[3 * i + 2];
    for (int i = 0; i < n; i++) st[i].amax = amax[i];
    reduce_blocks_over_ranks(st, n, wholes);
    free(cnt);
    free(amax);
    free(wholes);
}

json_t *lowp_log_json(model *m, int with_tensors) {
    int cap = model_lowp_count(m);  // every tensor, an MoE layer's experts included
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
    num_bstats blk;  // every tensor's rows and wgrad operands together
    num_bstats_clear(&blk);
    for (int i = 0; i < n; i++) {
        num_bstats_merge(&blk, &st[i].blk);
        num_bstats_merge(&blk, &st[i].wg);
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
    if (blk.blocks) json_object_set_new(o, "blk", bstats_json(&blk));
    if (with_tensors) {
        json_t *list = json_array();
        for (int i = 0; i < n; i++) json_array_append_new(list, tensor_json(&st[i]));
        json_object_set_new(o, "tensors", list);
    }
    free(st);
    model_lowp_stats_reset(m);
    return o;
}
