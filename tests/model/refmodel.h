// refmodel.h — an independent double-precision reference of the model and of each of its layers,
// written straight from docs/model.md with plain loops (no BLAS, no code shared with src/model).
// The activations come from the double reference of tests/act/refimpl.c.
#ifndef ACTLAB_TEST_REFMODEL_H
#define ACTLAB_TEST_REFMODEL_H

#include "model/model.h"

#include <stdint.h>

// x: (N,C), g: (C) -> y: (N,C)
void ref_rmsnorm(double *y, const double *x, const double *g, int N, int C, double eps);
// x: (B,T) rows of stride ld holding n_heads heads of D from column 0; rotated in place.
void ref_rope(double *x, int B, int T, int n_heads, int D, int ld, double theta);
// qkv: (B,T,(H+2Hkv)·D) -> out: (B,T,H·D)
void ref_attention(double *out, const double *qkv, int B, int T, int H, int Hkv, int D);
// logits: (N,V) -> mean cross-entropy over rows whose target is >= 0 (0 if none)
double ref_crossentropy(const double *logits, const int32_t *targets, int N, int V);
// y = x·Wᵀ: x (N,in), w (out,in) -> y (N,out)
void ref_linear(double *y, const double *x, const double *w, int N, int in, int out);

// Layer l's MoE FFN: xn (B·T,d) -> y (B·T,d); returns the layer's auxiliary losses weighted by their
// coefficients (the load-balancing loss per sequence, averaged; the z-loss averaged over tokens).
double ref_moe_ffn(double *y, const model *m, const double *params, const double *xn, int l, int B, int T);

// The whole model's mean loss (plus an MoE model's weighted auxiliary losses), with the parameters given in double in model_params()'s layout
// (tensors looked up by their Hugging Face names through model_tensor_find).
double ref_model_loss(const model *m, const double *params, const int32_t *tokens, const int32_t *targets,
                      int B, int T);

#endif
