// dispatch.c — act_forward / act_backward / act_curve: argument checks, the fixed chunking that
// makes results independent of the thread count, and ordered parameter-gradient sums.
#include "kernels.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

// Elements per chunk: small enough to give threads balanced work, large enough to amortise the
// loop set-up. Chunk boundaries are multiples of it
// whatever the thread count.
#define CHUNK 2048

extern const span_kernels act_span_relu, act_span_relu2, act_span_gelu, act_span_gelu_erf, act_span_silu,
    act_span_powlu_scalar, act_span_polyrelu, act_span_swiglu, act_span_geglu, act_span_reglu,
    act_span_swiglu_clip, act_span_powlu;

const span_kernels *act_span_kernels(act_kind kind) {
    switch (kind) {
    case ACT_RELU: return &act_span_relu;
    case ACT_RELU2: return &act_span_relu2;
    case ACT_GELU: return &act_span_gelu;
    case ACT_GELU_ERF: return &act_span_gelu_erf;
    case ACT_SILU: return &act_span_silu;
    case ACT_POWLU_SCALAR: return &act_span_powlu_scalar;
    case ACT_POLYRELU: return &act_span_polyrelu;
    case ACT_SWIGLU: return &act_span_swiglu;
    case ACT_GEGLU: return &act_span_geglu;
    case ACT_REGLU: return &act_span_reglu;
    case ACT_SWIGLU_CLIP: return &act_span_swiglu_clip;
    case ACT_POWLU: return &act_span_powlu;
    default: return NULL;
    }
}

// Misuse of the API is a programming error: say which argument is wrong and stop.
static const act_desc *check_call(const char *fn, const act_spec *s, act_dtype dt, const void *x, const void *u,
                                  const float *params, const void *y) {
    const act_desc *d = s ? act_desc_of(s->kind) : NULL;
    if (!d) die("pass an act_spec filled by act_spec_init()", "%s: invalid activation spec", fn);
    if (dt != ACT_F32 && dt != ACT_BF16) die(NULL, "%s(%s): unknown dtype %d", fn, d->name, (int)dt);
    if (!x || !y) die(NULL, "%s(%s): input and output arrays must not be NULL", fn, d->name);
    if (d->gated && !u) die("gated activations take the gate z as x and the value as u", "%s(%s): u is NULL", fn, d->name);
    if (!d->gated && u) die(NULL, "%s(%s): u must be NULL for a non-gated activation", fn, d->name);
    if (d->n_params && !params) die("initialise them with act_params_init()", "%s(%s): needs %d learnable parameters",
                                    fn, d->name, d->n_params);
    return d;
}

// Element off of an array of dt, or NULL for an absent (non-gated) one.
static const void *at(act_dtype dt, const void *p, size_t off) {
    return p ? (const char *)p + off * act_dtype_size(dt) : NULL;
}

static void *at_out(act_dtype dt, void *p, size_t off) { return p ? (char *)p + off * act_dtype_size(dt) : NULL; }

static size_t elem_size(act_dtype dt) { return dt == ACT_F32 ? 4 : 2; }

// PolyNorm: one row per iteration (bf16 is widened inside the row kernels).
static void polynorm_forward_rows(act_dtype dt, size_t rows, size_t cols, const void *x, const float *w, void *y) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) polynorm_row_forward(at(dt, x, r * cols), at_out(dt, y, r * cols), cols, w, dt);
}

static void polynorm_backward_rows(act_dtype dt, size_t rows, size_t cols, const void *x, const float *w,
                                   const void *dy, void *dx, double *partial /* (rows, 4) */) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++)
        polynorm_row_backward(at(dt, x, r * cols), at(dt, dy, r * cols), at_out(dt, dx, r * cols), cols, w,
                              partial + 4 * r, dt);
}

// bf16 through an f32 span kernel on L1-sized blocks (span_kernels.stage_bf16): widen, compute,
// round once — the same bits as converting in the loop. Gated activations pass u, others NULL.
#define STAGE 256

// num_f32_to_bf16 for the staged results, the same bits (checked on every float), with the NaN
// test as a float comparison (f != f: one vector compare, where num_f32_to_bf16's integer test on
// |u| takes two). The rounding back is about half of what staging costs.
static inline uint16_t stage_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return (uint16_t)(f != f ? (u >> 16) | 0x40u : r);  // a quiet NaN
}

static void stage_narrow(const float *restrict s, uint16_t *restrict d, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) d[i] = stage_round(s[i]);
}

static void stage_fwd(const span_kernels *k, const uint16_t *x, const uint16_t *u, uint16_t *y, size_t n,
                      const float *hp, const float *params) {
    for (size_t i = 0; i < n; i += STAGE) {
        float bx[STAGE], bu[STAGE], by[STAGE];
        size_t m = n - i < STAGE ? n - i : STAGE;
        num_bf16_to_f32_array(x + i, bx, m);
        if (u) num_bf16_to_f32_array(u + i, bu, m);
        k->fwd[ACT_F32](bx, u ? bu : NULL, by, m, hp, params);
        stage_narrow(by, y + i, m);
    }
}

static void stage_bwd(const span_kernels *k, const uint16_t *x, const uint16_t *u, const uint16_t *dy, uint16_t *dx,
                      uint16_t *du, size_t n, const float *hp, const float *params, double *dparams) {
    for (size_t i = 0; i < n; i += STAGE) {
        float bx[STAGE], bu[STAGE], bdy[STAGE], bdx[STAGE], bdu[STAGE];
        size_t m = n - i < STAGE ? n - i : STAGE;
        num_bf16_to_f32_array(x + i, bx, m);
        if (u) num_bf16_to_f32_array(u + i, bu, m);
        num_bf16_to_f32_array(dy + i, bdy, m);
        k->bwd[ACT_F32](bx, u ? bu : NULL, bdy, bdx, du ? bdu : NULL, m, hp, params, dparams);
        stage_narrow(bdx, dx + i, m);
        if (du) stage_narrow(bdu, du + i, m);
    }
}

// bf16 storage of a gate with a table (kernels.h, lut.h): the table, taken before the threads start;
// otherwise NULL (also when the table cache is full: the kernel then converts in its loop, the same
// bits).
static const float *bf16_table(const act_spec *s, const span_kernels *k, act_dtype dt) {
    return dt == ACT_BF16 && k->lut_fill ? act_lut(s, k->lut_fill) : NULL;
}

void act_forward(const act_spec *s, act_dtype dt, size_t rows, size_t cols, const void *x, const void *u,
                 const float *params, void *y) {
    const act_desc *d = check_call("act_forward", s, dt, x, u, params, y);
    if (rows == 0 || cols == 0) return;
    if (d->rowwise) {
        polynorm_forward_rows(dt, rows, cols, x, params, y);
        return;
    }
    const span_kernels *k = act_span_kernels(s->kind);
    const float *tab = bf16_table(s, k, dt);
    const size_t total = rows * cols, nch = (total + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t off = c * CHUNK, n = total - off < CHUNK ? total - off : CHUNK;
        if (tab)
            k->lut_fwd(at(dt, x, off), at(dt, u, off), at_out(dt, y, off), n, s->hp, tab);
        else if (dt == ACT_BF16 && k->stage_bf16)
            stage_fwd(k, at(dt, x, off), at(dt, u, off), at_out(dt, y, off), n, s->hp, params);
        else
            k->fwd[dt](at(dt, x, off), at(dt, u, off), at_out(dt, y, off), n, s->hp, params);
    }
}

// Adds the per-chunk (or per-row) double partials in index order, then once into dparams.
static void sum_partials(const double *partial, size_t count, int n_params, float *dparams) {
    for (int p = 0; p < n_params; p++) {
        double acc = 0;
        for (size_t c = 0; c < count; c++) acc += partial[4 * c + (size_t)p];
        dparams[p] += (float)acc;
    }
}

void act_backward(const act_spec *s, act_dtype dt, size_t rows, size_t cols, const void *x, const void *u,
                  const float *params, const void *dy, void *dx, void *du, float *dparams) {
    const act_desc *d = check_call("act_backward", s, dt, x, u, params, dx);
    if (!dy) die(NULL, "act_backward(%s): dy is NULL", d->name);
    if (d->gated && !du) die(NULL, "act_backward(%s): du is NULL for a gated activation", d->name);
    if (d->n_params && !dparams) die(NULL, "act_backward(%s): dparams is NULL", d->name);
    if (rows == 0 || cols == 0) return;
    if (d->rowwise) {
        double *partial = xcalloc(rows * 4, sizeof(double));
        polynorm_backward_rows(dt, rows, cols, x, params, dy, dx, partial);
        sum_partials(partial, rows, d->n_params, dparams);
        free(partial);
        return;
    }
    const span_kernels *k = act_span_kernels(s->kind);
    const float *tab = bf16_table(s, k, dt);
    const size_t total = rows * cols, nch = (total + CHUNK - 1) / CHUNK;
    double *partial = d->n_params ? xcalloc(nch * 4, sizeof(double)) : NULL;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        double scratch[ACT_MAX_PARAMS] = {0};
        size_t off = c * CHUNK, n = total - off < CHUNK ? total - off : CHUNK;
        double *dp = partial ? partial + 4 * c : scratch;
        if (tab)
            k->lut_bwd(at(dt, x, off), at(dt, u, off), at(dt, dy, off), at_out(dt, dx, off), at_out(dt, du, off), n, s->hp,
                       tab);
        else if (dt == ACT_BF16 && k->stage_bf16)
            stage_bwd(k, at(dt, x, off), at(dt, u, off), at(dt, dy, off), at_out(dt, dx, off), at_out(dt, du, off), n,
                      s->hp, params, dp);
        else
            k->bwd[dt](at(dt, x, off), at(dt, u, off), at(dt, dy, off), at_out(dt, dx, off), at_out(dt, du, off), n, s->hp,
                       params, dp);
    }
    if (partial) {
        sum_partials(partial, nch, d->n_params, dparams);
        free(partial);
    }
}

int act_curve(const act_spec *s, const float *params, size_t n, const float *x, float *f, float *dfdx) {
    const act_desc *d = s ? act_desc_of(s->kind) : NULL;
    if (!d || d->rowwise) return -1;
    float *ones = xmalloc(n * sizeof(float)), *scratch = xmalloc(n * sizeof(float));
    float dparams[ACT_MAX_PARAMS] = {0};
    for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
    // Gated with u = 1 and dy = 1: y = g(z) and dz = g'(z). Non-gated with dy = 1: dx = act'(x).
    // SwiGLU-Clip's value is clamp(u)+1, so u = 0 gives the factor 1 there.
    const float *u = NULL;
    if (d->gated) {
        if (s->kind == ACT_SWIGLU_CLIP) memset(scratch, 0, n * sizeof(float));
        u = s->kind == ACT_SWIGLU_CLIP ? scratch : ones;
    }
    float *du = d->gated ? xmalloc(n * sizeof(float)) : NULL;
    act_forward(s, ACT_F32, 1, n, x, u, params, f);
    act_backward(s, ACT_F32, 1, n, x, u, params, ones, dfdx, du, dparams);
    free(ones);
    free(scratch);
    free(du);
    return 0;
}

size_t act_dtype_size(act_dtype dt) { return elem_size(dt); }
