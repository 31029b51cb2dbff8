// attention_tiles.h — the two register-tiled products of the attention core (attention.c), on
// packed operands: a tile of ATT_R query rows against keys in blocks of ATT_W.
//
// Why not sgemm: the attention core's products are tiny (64 or fewer rows per call, inner size the
// head dimension, 32–128) and there are B·H·(T/64) of them per layer, where a BLAS call spends as
// long packing its operands and dispatching as multiplying. Here the operands are packed once per
// head and every product is a register tile fed from L1.
//
// Every operand is padded with zeros to whole blocks, so there is no scalar tail: an element's
// value depends only on the data, never on where it sits or which thread computes it.
#ifndef ACTLAB_ATTENTION_TILES_H
#define ACTLAB_ATTENTION_TILES_H

enum { ATT_R = 8,    // query rows per tile
       ATT_W = 16 }; // floats per vector block (one AVX-512 register)

// A: (ATT_R, K) rows of stride lda; B: (K, ncols) rows of stride ldb, ncols a multiple of ATT_W
// -> C: (ATT_R, ncols) rows of stride ldc, C = A·B. The scores Q·Kᵀ (B = Kᵀ packed), dO·Vᵀ, and the
// products P·V and dS·K (B = V or K packed by rows) are all this one shape.
void att_tile_ab(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int K, int ncols);

// P: (ATT_R, n) rows of stride ldp; X: (ATT_R, Dp) rows of stride ldx
// -> Acc: (n, Dp) rows of stride lda, Acc += Pᵀ·X (rows of the tile added in order 0..ATT_R-1)
void att_tile_atb_acc(float *Acc, int lda, const float *P, int ldp, const float *X, int ldx, int n, int Dp);

// src: (rows, cols) rows of stride lds -> dst: (cols, rows) rows of stride ldd, the transpose;
// rows and cols multiples of ATT_W (the packed, zero-padded heads). In ATT_W × ATT_W blocks
// transposed in registers: a scalar copy through a local tile cost as much as the products at
// head sizes 32–64.
void att_transpose(float *dst, int ldd, const float *src, int lds, int rows, int cols);

#endif
