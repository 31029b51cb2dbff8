// kernels.h — internal to libactlab: the span kernels that act_forward/act_backward dispatch to.
//
// A span kernel works on n contiguous f32 elements; dispatch.c cuts arrays into fixed-size chunks
// (the same cut whatever the thread count), stages bf16 through f32 buffers, and sums parameter
// gradients chunk by chunk in a fixed order.
#ifndef ACTLAB_KERNELS_H
#define ACTLAB_KERNELS_H

#include "actlab.h"

#include <stddef.h>

// x: (n) input or gate z; u: (n) value (gated) or NULL; y: (n). hp: act_spec.hp; params: learnables.
typedef void (*span_fwd_fn)(const float *x, const float *u, float *y, size_t n, const float *hp,
                            const float *params);
// dy: (n) -> dx: (n), du: (n) (gated). dparams: ACT_MAX_PARAMS doubles, accumulated (+=).
typedef void (*span_bwd_fn)(const float *x, const float *u, const float *dy, float *dx, float *du, size_t n,
                            const float *hp, const float *params, double *dparams);

typedef struct {
    span_fwd_fn fwd;
    span_bwd_fn bwd;
} span_kernels;

// NULL for row-wise activations (PolyNorm), which have their own row kernels below.
const span_kernels *act_span_kernels(act_kind kind);

// PolyNorm over one row of d elements. w: (4) = cubic, square, linear weights and bias.
void polynorm_row_forward(const float *x, float *y, size_t d, const float *w);
// dparams: (4) accumulated (+=) for this row.
void polynorm_row_backward(const float *x, const float *dy, float *dx, size_t d, const float *w, double *dparams);

// Non-gated elementwise activation from a gate function fn(x, hp, &f, &df) of gates.h:
// y = f(x), dx = dy·f'(x).
#define ACT_DEFINE_ELEMENTWISE(NAME, FN)                                                              \
    static void NAME##_fwd(const float *restrict x, const float *restrict u, float *restrict y, size_t n, \
                           const float *hp, const float *params) {                                   \
        (void)u; (void)params;                                                                        \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                          \
            float f, df;                                                                              \
            FN(x[i], hp, &f, &df);                                                                    \
            y[i] = f;                                                                                 \
        }                                                                                             \
    }                                                                                                 \
    static void NAME##_bwd(const float *restrict x, const float *restrict u, const float *restrict dy, \
                           float *restrict dx, float *restrict du, size_t n, const float *hp,        \
                           const float *params, double *dparams) {                                    \
        (void)u; (void)du; (void)params; (void)dparams;                                               \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                          \
            float f, df;                                                                              \
            FN(x[i], hp, &f, &df);                                                                    \
            dx[i] = dy[i] * df;                                                                       \
        }                                                                                             \
    }                                                                                                 \
    const span_kernels act_span_##NAME = {NAME##_fwd, NAME##_bwd};

// Gated activation y = v(u)·g(z) from a gate GATE and a value transform VALUE of gates.h:
// dz = dy·v(u)·g'(z), du = dy·g(z)·v'(u).
#define ACT_DEFINE_GATED(NAME, GATE, VALUE)                                                           \
    static void NAME##_fwd(const float *restrict z, const float *restrict u, float *restrict y, size_t n, \
                           const float *hp, const float *params) {                                   \
        (void)params;                                                                                 \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                          \
            float g, dg, v, dv;                                                                       \
            GATE(z[i], hp, &g, &dg);                                                                  \
            VALUE(u[i], hp, &v, &dv);                                                                 \
            y[i] = v * g;                                                                             \
        }                                                                                             \
    }                                                                                                 \
    static void NAME##_bwd(const float *restrict z, const float *restrict u, const float *restrict dy, \
                           float *restrict dz, float *restrict du, size_t n, const float *hp,        \
                           const float *params, double *dparams) {                                    \
        (void)params; (void)dparams;                                                                  \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                          \
            float g, dg, v, dv;                                                                       \
            GATE(z[i], hp, &g, &dg);                                                                  \
            VALUE(u[i], hp, &v, &dv);                                                                 \
            dz[i] = dy[i] * v * dg;                                                                   \
            du[i] = dy[i] * g * dv;                                                                   \
        }                                                                                             \
    }                                                                                                 \
    const span_kernels act_span_##NAME = {NAME##_fwd, NAME##_bwd};

#endif
