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

// One ATT_W × ATT_W block (ATT_W = 16), by swapping the off-diagonal halves of 2×2, then 4×4, 8×8
// and 16×16 sub-blocks: at the stage of bit b, row i (bit b clear) and row i | b exchange the
// elements whose column has bit b set. After all four stages element (i, j) holds (j, i).
typedef int vi __attribute__((vector_size(ATT_W * sizeof(int))));

static inline void swap_stage(vf *r, int bit, vi lo, vi hi) {
    for (int i = 0; i < ATT_W; i++)
        if (!(i & bit)) {
            vf a = r[i], b = r[i | bit];
            r[i] = __builtin_shuffle(a, b, lo);
            r[i | bit] = __builtin_shuffle(a, b, hi);
        }
}

static void transpose_block(float *dst, int ldd, const float *src, int lds) {
    // lo[j]: row i's own element where bit b of j is clear, else row (i|b)'s element j^b (index 16+);
    // hi[j]: row (i|b)'s own where set, else row i's element j^b.
    static const vi lo1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
    static const vi hi1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};
    static const vi lo2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
    static const vi hi2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
    static const vi lo4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
    static const vi hi4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
    static const vi lo8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    static const vi hi8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    vf r[ATT_W];
    for (int i = 0; i < ATT_W; i++) r[i] = vload(src + (size_t)i * lds);
    swap_stage(r, 1, lo1, hi1);
    swap_stage(r, 2, lo2, hi2);
    swap_stage(r, 4, lo4, hi4);
    swap_stage(r, 8, lo8, hi8);
    for (int i = 0; i < ATT_W; i++) vstore(dst + (size_t)i * ldd, r[i]);
}

void att_transpose(float *dst, int ldd, const float *src, int lds, int rows, int cols) {
    for (int r0 = 0; r0 < rows; r0 += ATT_W)
        for (int c0 = 0; c0 < cols; c0 += ATT_W)
            transpose_block(dst + (size_t)c0 * ldd + r0, ldd, src + (size_t)r0 * lds + c0, lds);
}
