// attention_tiles.c — register tiles of the attention core (see attention_tiles.h).
//
// Written with GCC's generic vectors (one vf = ATT_W floats), which compile to AVX-512 registers
// here and to pairs of narrower registers, or scalars, elsewhere: one portable code path. This file
// alone is compiled with FMA contraction (CMakeLists.txt): the tiles have no scalar tails, so
// contraction rounds every element alike, and without it each multiply-add would cost two
// instructions.
#include "attention_tiles.h"

#include <string.h>

typedef float vf __attribute__((vector_size(ATT_W * sizeof(float))));

static inline vf vload(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);  // an unaligned vector load
    return v;
}
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }

// Two column blocks at a time: 2·ATT_R accumulators and two B vectors fill 18 of the 32 registers,
// and each A element loaded is used twice.
void att_tile_ab(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int K, int ncols) {
    int c0 = 0;
    for (; c0 + 2 * ATT_W <= ncols; c0 += 2 * ATT_W) {
        vf s0[ATT_R], s1[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) s0[r] = s1[r] = (vf){0};
        for (int k = 0; k < K; k++) {
            vf b0 = vload(B + (size_t)k * ldb + c0), b1 = vload(B + (size_t)k * ldb + c0 + ATT_W);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) {
                float a = A[(size_t)r * lda + k];
                s0[r] += a * b0;
                s1[r] += a * b1;
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) {
            vstore(C + (size_t)r * ldc + c0, s0[r]);
            vstore(C + (size_t)r * ldc + c0 + ATT_W, s1[r]);
        }
    }
    if (c0 < ncols) {
        vf s0[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) s0[r] = (vf){0};
        for (int k = 0; k < K; k++) {
            vf b0 = vload(B + (size_t)k * ldb + c0);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) s0[r] += A[(size_t)r * lda + k] * b0;
        }
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) vstore(C + (size_t)r * ldc + c0, s0[r]);
    }
}

// X's tile stays in registers (ATT_R rows × two blocks); each output row is loaded, gets ATT_R
// multiply-adds per block, and is stored back.
void att_tile_atb_acc(float *Acc, int lda, const float *P, int ldp, const float *X, int ldx, int n, int Dp) {
    int dc = 0;
    for (; dc + 2 * ATT_W <= Dp; dc += 2 * ATT_W) {
        vf x0[ATT_R], x1[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) {
            x0[r] = vload(X + (size_t)r * ldx + dc);
            x1[r] = vload(X + (size_t)r * ldx + dc + ATT_W);
        }
        for (int j = 0; j < n; j++) {
            float *a = Acc + (size_t)j * lda + dc;
            vf a0 = vload(a), a1 = vload(a + ATT_W);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) {
                float p = P[(size_t)r * ldp + j];
                a0 += p * x0[r];
                a1 += p * x1[r];
            }
            vstore(a, a0);
            vstore(a + ATT_W, a1);
        }
    }
    if (dc < Dp) {
        vf x0[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) x0[r] = vload(X + (size_t)r * ldx + dc);
        for (int j = 0; j < n; j++) {
            float *a = Acc + (size_t)j * lda + dc;
            vf a0 = vload(a);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) a0 += P[(size_t)r * ldp + j] * x0[r];
            vstore(a, a0);
        }
    }
}
