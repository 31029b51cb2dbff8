// optim.h — AdamW with decoupled weight decay, global-norm gradient clipping, and the learning-rate
// schedules (warmup + cosine, warmup-stable-decay, constant).
// Every function gives the same bits whatever the OpenMP thread count: elementwise work is
// independent per element and the norm is reduced in double over fixed blocks in a fixed order.
#ifndef ACTLAB_OPTIM_H
#define ACTLAB_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float lr;            // peak learning rate
    float min_lr;        // floor reached at the end of the decay
    float beta1, beta2;  // 0.9, 0.95
    float eps;           // 1e-8
    float weight_decay;  // decoupled: p -= lr*wd*p, only on groups with decay = 1
    float grad_clip;     // max global L2 norm; <= 0 disables clipping
} adamw_config;

void adamw_config_default(adamw_config *c);  // lr 3e-4, min_lr 3e-5, (0.9, 0.95), 1e-8, wd 0.1, clip 1.0

typedef enum { SCHED_COSINE = 0, SCHED_WSD, SCHED_CONSTANT, SCHED_COUNT } sched_kind;

typedef struct {
    sched_kind kind;
    int warmup_steps;   // linear from lr/warmup to lr over the first warmup_steps
    int total_steps;    // the step count the decay is laid out over
    float decay_frac;   // WSD: the final fraction of total_steps that decays linearly to min_lr
} schedule;

// The names, indexed by sched_kind and NULL-terminated (for parsers and config tables).
extern const char *const sched_names[];      // "cosine", "wsd", "constant"
const char *sched_name(sched_kind k);
// The learning rate for 0-based step `step`.
float schedule_lr(const schedule *s, float lr, float min_lr, long step);

// A contiguous range of the flat parameter array with one weight-decay setting.
typedef struct {
    size_t offset, numel;
    int decay;
} param_group;

typedef struct {
    size_t n;
    float *m, *v;     // first and second moments, n each (zero at start)
    long t;           // updates applied so far (bias correction uses t after the increment)
    param_group *groups;
    int n_groups;
} adamw;

// groups must tile [0, n) (any order, no overlap): checked, dies with a message otherwise.
void adamw_init(adamw *o, size_t n, const param_group *groups, int n_groups);
void adamw_free(adamw *o);

// The L2 norm of g (n values), accumulated in double.
double optim_grad_norm(const float *g, size_t n);
// The factor that brings a gradient of norm `norm` down to `clip` (1 when clip <= 0 or norm <= clip).
float optim_clip_scale(double norm, float clip);

// One AdamW update: the gradient used is grads * gscale (gscale folds in clipping and 1/accumulation).
// params, grads: (n)
void adamw_step(adamw *o, const adamw_config *c, float *params, const float *grads, float gscale, float lr);

#endif
