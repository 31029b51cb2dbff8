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

// Two key blocks at a time: 2·ATT_R accumulators and two B vectors fill 18 of the 32 registers, and
// each A element loaded is used twice.
void att_tile_abt(float *S, int lds, const float *A, int lda, const float *Bt, int ldb, int K, int nb) {
    int jb = 0;
    for (; jb + 2 <= nb; jb += 2) {
        vf c0[ATT_R], c1[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) c0[r] = c1[r] = (vf){0};
        const float *b = Bt + (size_t)jb * ATT_W;
        for (int k = 0; k < K; k++) {
            vf b0 = vload(b + (size_t)k * ldb), b1 = vload(b + (size_t)k * ldb + ATT_W);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) {
                float a = A[(size_t)r * lda + k];
                c0[r] += a * b0;
                c1[r] += a * b1;
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) {
            vstore(S + (size_t)r * lds + (size_t)jb * ATT_W, c0[r]);
            vstore(S + (size_t)r * lds + (size_t)(jb + 1) * ATT_W, c1[r]);
        }
    }
    if (jb < nb) {
        vf c0[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) c0[r] = (vf){0};
        const float *b = Bt + (size_t)jb * ATT_W;
        for (int k = 0; k < K; k++) {
            vf b0 = vload(b + (size_t)k * ldb);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) c0[r] += A[(size_t)r * lda + k] * b0;
        }
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) vstore(S + (size_t)r * lds + (size_t)jb * ATT_W, c0[r]);
    }
}

// Two column blocks of the output at a time, for the same reason as above.
void att_tile_ab(float *C, int ldc, const float *P, int ldp, const float *B, int ldb, int n, int Dp) {
    int dc = 0;
    for (; dc + 2 * ATT_W <= Dp; dc += 2 * ATT_W) {
        vf c0[ATT_R], c1[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) c0[r] = c1[r] = (vf){0};
        for (int j = 0; j < n; j++) {
            vf b0 = vload(B + (size_t)j * ldb + dc), b1 = vload(B + (size_t)j * ldb + dc + ATT_W);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) {
                float p = P[(size_t)r * ldp + j];
                c0[r] += p * b0;
                c1[r] += p * b1;
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) {
            vstore(C + (size_t)r * ldc + dc, c0[r]);
            vstore(C + (size_t)r * ldc + dc + ATT_W, c1[r]);
        }
    }
    if (dc < Dp) {
        vf c0[ATT_R];
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) c0[r] = (vf){0};
        for (int j = 0; j < n; j++) {
            vf b0 = vload(B + (size_t)j * ldb + dc);
#pragma GCC unroll 8
            for (int r = 0; r < ATT_R; r++) c0[r] += P[(size_t)r * ldp + j] * b0;
        }
#pragma GCC unroll 8
        for (int r = 0; r < ATT_R; r++) vstore(C + (size_t)r * ldc + dc, c0[r]);
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
