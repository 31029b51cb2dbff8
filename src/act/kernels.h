// kernels.h — internal to libactlab: the span kernels that act_forward/act_backward dispatch to.
//
// A span kernel works on n contiguous elements of one storage type; dispatch.c cuts arrays into
// fixed-size chunks (the same cut whatever the thread count) and sums parameter gradients chunk by
// chunk in a fixed order.
#ifndef ACTLAB_KERNELS_H
#define ACTLAB_KERNELS_H

#include "actlab.h"
#include "lut.h"
#include "vmath.h"

#include <stddef.h>
#include <string.h>

// Storage is f32 or bf16 (act_dtype indexes the tables below); compute is f32. For the cheap
// activations a bf16 element is widened and rounded in registers inside the kernels' own loops:
// staging chunks through f32 buffers cost more than their arithmetic.
// x: (n) input or gate z; u: (n) value (gated) or NULL; y: (n). hp: act_spec.hp; params: learnables.
typedef void (*span_fwd_fn)(const void *x, const void *u, void *y, size_t n, const float *hp, const float *params);
// dy: (n) -> dx: (n), du: (n) (gated). dparams: ACT_MAX_PARAMS doubles, accumulated (+=).
typedef void (*span_bwd_fn)(const void *x, const void *u, const void *dy, void *dx, void *du, size_t n,
                            const float *hp, const float *params, double *dparams);

// bf16 by table (lut.h): the gate's f and f' of bf16 code c at tab[c] and tab[LUT_SIZE + c] (and
// side by side from tab[2·LUT_SIZE + 2c]).
// x: (n) codes of the input or gate z; u: (n) value codes (gated) or NULL; y: (n) codes.
typedef void (*span_lut_fwd_fn)(const uint16_t *x, const uint16_t *u, uint16_t *y, size_t n, const float *hp,
                                const float *tab);
typedef void (*span_lut_bwd_fn)(const uint16_t *x, const uint16_t *u, const uint16_t *dy, uint16_t *dx, uint16_t *du,
                                size_t n, const float *hp, const float *tab);

typedef struct {
    span_fwd_fn fwd[2];  // [act_dtype]
    span_bwd_fn bwd[2];
    // How bf16 storage runs (the kernels' last macro argument, ACT_BF16_*), each giving the bits of
    // the f32 computation rounded once:
    //  - converted in the loop (the cheap gates);
    //  - staged (stage_bf16): dispatch.c widens L1-sized blocks into f32, runs the f32 kernel and
    //    rounds back. For the exp-heavy gates that is faster than converting in the loop: GCC 12
    //    vectorises a loop that mixes bf16 and f32 32 lanes wide (two zmm per value) and spills.
    //    Converting 16 elements at a time in registers measured slower still (silu 0.55 against
    //    0.38 ns per element staged, 0.30 in f32): one long dependency chain per block, where
    //    staging runs the conversions as separate short loops.
    //  - by table (lut_*, lut.h): the gate looked up by bf16 code. Much faster for the costliest
    //    gates (PowLU's, Φ's: 2.5–3× at 4096 × 2048); a lookup is a load per element (AVX-512
    //    gathers measured slower than GCC's own code on this CPU, 3.0 against 1.5–1.9 ms), about
    //    what an exp-based gate costs to compute, so those take whichever measured faster
    //    (elementwise.c, gated.c). Only for kernels without learnable parameters, whose gate a
    //    table of one input can hold.
    int stage_bf16;
    lut_fill_fn lut_fill;
    span_lut_fwd_fn lut_fwd;
    span_lut_bwd_fn lut_bwd;
} span_kernels;

// NULL for row-wise activations (PolyNorm), which have their own row kernels below.
const span_kernels *act_span_kernels(act_kind kind);

// Element i of an f32 or bf16 array, as f32; and back, rounded to nearest even. Kernels are
// instantiated once per dtype with dt a constant (ACT_INSTANTIATE), so the test folds away.
AM_INLINE float act_ld(const void *restrict p, size_t i, act_dtype dt) {
    return dt == ACT_F32 ? ((const float *)p)[i] : num_bf16_to_f32(((const uint16_t *)p)[i]);
}

AM_INLINE void act_st(void *restrict p, size_t i, float v, act_dtype dt) {
    if (dt == ACT_F32) ((float *)p)[i] = v;
    else ((uint16_t *)p)[i] = num_f32_to_bf16(v);
}

// The f32 and bf16 entry points of span kernels NAME##_fwd_t / NAME##_bwd_t (which take dt last),
// collected in act_span_NAME with the bf16 mode (span_kernels: STAGE, and the table kernels or
// NULL, NULL, NULL).
#define ACT_INSTANTIATE(NAME, STAGE, FILL, LUT_FWD, LUT_BWD)                                                        \
    static void NAME##_fwd_f32(const void *x, const void *u, void *y, size_t n, const float *hp, const float *p) {  \
        NAME##_fwd_t(x, u, y, n, hp, p, ACT_F32);                                                                   \
    }                                                                                                               \
    static void NAME##_fwd_bf16(const void *x, const void *u, void *y, size_t n, const float *hp, const float *p) { \
        NAME##_fwd_t(x, u, y, n, hp, p, ACT_BF16);                                                                  \
    }                                                                                                               \
    static void NAME##_bwd_f32(const void *x, const void *u, const void *dy, void *dx, void *du, size_t n,          \
                               const float *hp, const float *p, double *dp) {                                       \
        NAME##_bwd_t(x, u, dy, dx, du, n, hp, p, dp, ACT_F32);                                                      \
    }                                                                                                               \
    static void NAME##_bwd_bf16(const void *x, const void *u, const void *dy, void *dx, void *du, size_t n,         \
                                const float *hp, const float *p, double *dp) {                                      \
        NAME##_bwd_t(x, u, dy, dx, du, n, hp, p, dp, ACT_BF16);                                                     \
    }                                                                                                               \
    const span_kernels act_span_##NAME = {{NAME##_fwd_f32, NAME##_fwd_bf16},                                         \
                                          {NAME##_bwd_f32, NAME##_bwd_bf16},                                         \
                                          STAGE, FILL, LUT_FWD, LUT_BWD};

// PolyNorm over one row of d elements of dt (bf16 is widened in registers; the result is the f32
// computation rounded once). w: (4) = cubic, square, linear weights and bias.
void polynorm_row_forward(const void *x, void *y, size_t d, const float *w, act_dtype dt);
// dparams: (4) accumulated (+=) for this row.
void polynorm_row_backward(const void *x, const void *dy, void *dx, size_t d, const float *w, double *dparams,
                           act_dtype dt);

// The gated table backward's lookups (f and f', one 8-byte load): GCC left that loop scalar as a
// whole (4.6 of PowLU's 6.4 ms at 4096 × 2048), so the lookups go first, block by block, in a loop
// of their own that stays scalar, and the arithmetic after them vectorises (4.6 -> 3.3 ms). The
// non-gated backward's one lookup GCC vectorises itself, faster than this (3.0 against 3.9 ms).
enum { ACT_LUT_BLOCK = 256 };

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
static inline void act_lut_fetch(float *restrict fdf, const float *restrict tab, const uint16_t *restrict c,
                                 size_t m) {
    for (size_t j = 0; j < m; j++) memcpy(fdf + 2 * j, tab + 2 * LUT_SIZE + 2 * (size_t)c[j], 2 * sizeof(float));
}

// The non-gated table kernels (lut.c): y = f(x) and dx = dy·f'(x) looked up; one pair for every
// activation, since the gate is all in the table.
void lut_plain_fwd(const uint16_t *x, const uint16_t *u, uint16_t *y, size_t n, const float *hp, const float *tab);
void lut_plain_bwd(const uint16_t *x, const uint16_t *u, const uint16_t *dy, uint16_t *dx, uint16_t *du, size_t n,
                   const float *hp, const float *tab);

// The bf16 modes of span_kernels.
enum { ACT_BF16_LOOP, ACT_BF16_STAGED, ACT_BF16_TABLE };

// The table of gate FN (lut.h): f and f' of n f32 inputs, the very function the f32 kernels inline.
#define ACT_DEFINE_FILL(NAME, FN)                                                                                   \
    static void NAME##_fill(const float *restrict z, float *restrict f, float *restrict df, size_t n,              \
                            const float *hp) {                                                                      \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                                        \
            float a, b;                                                                                             \
            FN(z[i], hp, &a, &b);                                                                                   \
            f[i] = a, df[i] = b;                                                                                    \
        }                                                                                                           \
    }

// Non-gated elementwise activation from a gate function fn(x, hp, &f, &df) of gates.h:
// y = f(x), dx = dy·f'(x). BF16: how bf16 storage runs (span_kernels).
#define ACT_DEFINE_ELEMENTWISE(NAME, FN, BF16)                                                                       \
    AM_INLINE void NAME##_fwd_t(const void *restrict x, const void *restrict u, void *restrict y, size_t n,         \
                                const float *hp, const float *params, act_dtype dt) {                               \
        (void)u; (void)params;                                                                                      \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                                        \
            float f, df;                                                                                            \
            FN(act_ld(x, i, dt), hp, &f, &df);                                                                      \
            act_st(y, i, f, dt);                                                                                    \
        }                                                                                                           \
    }                                                                                                               \
    AM_INLINE void NAME##_bwd_t(const void *restrict x, const void *restrict u, const void *restrict dy,            \
                                void *restrict dx, void *restrict du, size_t n, const float *hp,                    \
                                const float *params, double *dparams, act_dtype dt) {                               \
        (void)u; (void)du; (void)params; (void)dparams;                                                             \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                                        \
            float f, df;                                                                                            \
            FN(act_ld(x, i, dt), hp, &f, &df);                                                                      \
            act_st(dx, i, act_ld(dy, i, dt) * df, dt);                                                              \
        }                                                                                                           \
    }                                                                                                               \
    ACT_DEFINE_FILL(NAME, FN)                                                                                       \
    ACT_INSTANTIATE(NAME, (BF16) == ACT_BF16_STAGED, (BF16) == ACT_BF16_TABLE ? NAME##_fill : NULL,                 \
                    (BF16) == ACT_BF16_TABLE ? lut_plain_fwd : NULL, (BF16) == ACT_BF16_TABLE ? lut_plain_bwd : NULL)

// Gated activation y = v(u)·g(z) from a gate GATE and a value transform VALUE of gates.h:
// dz = dy·v(u)·g'(z), du = dy·g(z)·v'(u). BF16: how bf16 storage runs (span_kernels); by table,
// the gate is looked up and the value transform, a clamp at most, computed.
#define ACT_DEFINE_GATED(NAME, GATE, VALUE, BF16)                                                                    \
    AM_INLINE void NAME##_fwd_t(const void *restrict z, const void *restrict u, void *restrict y, size_t n,         \
                                const float *hp, const float *params, act_dtype dt) {                               \
        (void)params;                                                                                               \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                                        \
            float g, dg, v, dv;                                                                                     \
            GATE(act_ld(z, i, dt), hp, &g, &dg);                                                                    \
            VALUE(act_ld(u, i, dt), hp, &v, &dv);                                                                   \
            act_st(y, i, v * g, dt);                                                                                \
        }                                                                                                           \
    }                                                                                                               \
    AM_INLINE void NAME##_bwd_t(const void *restrict z, const void *restrict u, const void *restrict dy,            \
                                void *restrict dz, void *restrict du, size_t n, const float *hp,                    \
                                const float *params, double *dparams, act_dtype dt) {                               \
        (void)params; (void)dparams;                                                                                \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                                        \
            float g, dg, v, dv, d = act_ld(dy, i, dt);                                                              \
            GATE(act_ld(z, i, dt), hp, &g, &dg);                                                                    \
            VALUE(act_ld(u, i, dt), hp, &v, &dv);                                                                   \
            act_st(dz, i, d * v * dg, dt);                                                                          \
            act_st(du, i, d * g * dv, dt);                                                                          \
        }                                                                                                           \
    }                                                                                                               \
    ACT_DEFINE_FILL(NAME, GATE)                                                                                     \
    static void NAME##_lut_fwd(const uint16_t *restrict z, const uint16_t *restrict u, uint16_t *restrict y,        \
                               size_t n, const float *hp, const float *restrict tab) {                              \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                                                        \
            float v, dv;                                                                                            \
            VALUE(num_bf16_to_f32(u[i]), hp, &v, &dv);                                                              \
            y[i] = num_f32_to_bf16(v * tab[z[i]]);                                                                  \
        }                                                                                                           \
    }                                                                                                               \
    static void NAME##_lut_bwd(const uint16_t *restrict z, const uint16_t *restrict u,                              \
                               const uint16_t *restrict dy, uint16_t *restrict dz, uint16_t *restrict du,           \
                               size_t n, const float *hp, const float *restrict tab) {                              \
        for (size_t i0 = 0; i0 < n; i0 += ACT_LUT_BLOCK) {                                                          \
            size_t m = n - i0 < ACT_LUT_BLOCK ? n - i0 : ACT_LUT_BLOCK;                                             \
            float fdf[2 * ACT_LUT_BLOCK];                                                                           \
            act_lut_fetch(fdf, tab, z + i0, m);                                                                     \
            _Pragma("omp simd") for (size_t j = 0; j < m; j++) {                                                    \
                size_t i = i0 + j;                                                                                  \
                float v, dv, d = num_bf16_to_f32(dy[i]);                                                            \
                VALUE(num_bf16_to_f32(u[i]), hp, &v, &dv);                                                          \
                dz[i] = num_f32_to_bf16(d * v * fdf[2 * j + 1]);                                                    \
                du[i] = num_f32_to_bf16(d * fdf[2 * j] * dv);                                                       \
            }                                                                                                       \
        }                                                                                                           \
    }                                                                                                               \
    ACT_INSTANTIATE(NAME, (BF16) == ACT_BF16_STAGED, (BF16) == ACT_BF16_TABLE ? NAME##_fill : NULL,                 \
                    (BF16) == ACT_BF16_TABLE ? NAME##_lut_fwd : NULL, (BF16) == ACT_BF16_TABLE ? NAME##_lut_bwd : NULL)

#endif
