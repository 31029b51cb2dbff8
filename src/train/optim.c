// optim.c — see optim.h.
#include "train/optim.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void adamw_config_default(adamw_config *c) {
    c->lr = 3e-4f;
    c->min_lr = 3e-5f;
    c->beta1 = 0.9f;
    c->beta2 = 0.95f;
    c->eps = 1e-8f;
    c->weight_decay = 0.1f;
    c->grad_clip = 1.0f;
}

const char *const sched_names[SCHED_COUNT + 1] = {"cosine", "wsd", "constant", NULL};

const char *sched_name(sched_kind k) { return (k >= 0 && k < SCHED_COUNT) ? sched_names[k] : "?"; }

float schedule_lr(const schedule *s, float lr, float min_lr, long step) {
    // Warmup starts at lr/warmup rather than 0 so that step 0 already moves the weights.
    if (step < s->warmup_steps) return lr * (float)(step + 1) / (float)s->warmup_steps;
    long total = s->total_steps > 0 ? s->total_steps : 1;
    if (step >= total) return s->kind == SCHED_CONSTANT ? lr : min_lr;
    switch (s->kind) {
    case SCHED_COSINE: {
        long span = total - s->warmup_steps;
        double frac = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
        return (float)(min_lr + 0.5 * (lr - min_lr) * (1.0 + cos(M_PI * frac)));
    }
    case SCHED_WSD: {
        long decay = lround((double)s->decay_frac * (double)total);
        long start = total - decay;
        if (start < s->warmup_steps) start = s->warmup_steps;
        if (step < start) return lr;
        double frac = (double)(step - start + 1) / (double)(total - start);
        return (float)(lr + (min_lr - lr) * frac);
    }
    default:
        return lr;
    }
}

static int group_cmp(const void *a, const void *b) {
    size_t x = ((const param_group *)a)->offset, y = ((const param_group *)b)->offset;
    return (x > y) - (x < y);
}

void adamw_init(adamw *o, size_t n, const param_group *groups, int n_groups) {
    o->n = n;
    o->t = 0;
    o->m = xcalloc(n, sizeof(float));
    o->v = xcalloc(n, sizeof(float));
    o->n_groups = n_groups;
    o->groups = xmalloc((size_t)n_groups * sizeof(param_group));
    memcpy(o->groups, groups, (size_t)n_groups * sizeof(param_group));
    qsort(o->groups, (size_t)n_groups, sizeof(param_group), group_cmp);
    size_t end = 0;
    for (int i = 0; i < n_groups; i++) {
        if (o->groups[i].offset != end)
            die("this is a bug in the caller: every parameter needs exactly one group",
                "adamw_init: parameter groups leave a gap or overlap at offset %zu (group starts at %zu)", end,
                o->groups[i].offset);
        end += o->groups[i].numel;
    }
    if (end != n) die("this is a bug in the caller", "adamw_init: groups cover %zu of %zu parameters", end, n);
}

void adamw_free(adamw *o) {
    free(o->m);
    free(o->v);
    free(o->groups);
    memset(o, 0, sizeof *o);
}

// Fixed-size blocks: the partial sums, and the order they are added in, never depend on threads.
// Within a block, NORM_LANES running sums (element i into sum i mod NORM_LANES) added up in a
// fixed order at the end: one running sum is a chain of dependent double additions that no
// compiler may reorder, and it took ~3 ms of the anchor's training step where these take ~0.3.
#define NORM_BLOCK 16384
enum { NORM_LANES = 16 };

static double block_sumsq(const float *g, size_t n) {
    double part[NORM_LANES] = {0};
    size_t i = 0;
    for (; i + NORM_LANES <= n; i += NORM_LANES)
#pragma omp simd
        for (int k = 0; k < NORM_LANES; k++) part[k] += (double)g[i + k] * (double)g[i + k];
    for (int k = 0; i + k < n; k++) part[k] += (double)g[i + k] * (double)g[i + k];
    for (int w = NORM_LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++) part[k] += part[k + w];
    return part[0];
}

double optim_grad_norm(const float *g, size_t n) {
    size_t nb = (n + NORM_BLOCK - 1) / NORM_BLOCK;
    double *part = xmalloc((nb ? nb : 1) * sizeof(double));
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * NORM_BLOCK, hi = lo + NORM_BLOCK < n ? lo + NORM_BLOCK : n;
        part[b] = block_sumsq(g + lo, hi - lo);
    }
    double total = 0;
    for (size_t b = 0; b < nb; b++) total += part[b];
    free(part);
    return sqrt(total);
}

float optim_clip_scale(double norm, float clip) {
    if (clip <= 0 || !(norm > clip)) return 1.0f;
    return (float)((double)clip / norm);
}

void adamw_step(adamw *o, const adamw_config *c, float *params, const float *grads, float gscale, float lr) {
    o->t++;
    // Bias corrections in double: 0.95^t loses digits in float long before t is large.
    float bc1 = (float)(1.0 - pow((double)c->beta1, (double)o->t));
    float bc2 = (float)(1.0 - pow((double)c->beta2, (double)o->t));
    float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    for (int gi = 0; gi < o->n_groups; gi++) {
        const param_group *g = &o->groups[gi];
        float shrink = g->decay ? 1.0f - lr * c->weight_decay : 1.0f;
        float *p = params + g->offset, *m = o->m + g->offset, *v = o->v + g->offset;
        const float *gr = grads + g->offset;
        long cnt = (long)g->numel;
#pragma omp parallel for schedule(static)
        for (long i = 0; i < cnt; i++) {
            float x = gr[i] * gscale;
            float mi = b1 * m[i] + (1.0f - b1) * x;
            float vi = b2 * v[i] + (1.0f - b2) * x * x;
            m[i] = mi;
            v[i] = vi;
            float mhat = mi / bc1, vhat = vi / bc2;
            p[i] = p[i] * shrink - lr * mhat / (sqrtf(vhat) + eps);
        }
    }
}
