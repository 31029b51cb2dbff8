// refimpl.h — an independent double-precision reference of every activation, written straight
// from ACTIVATIONS.md with libm (pow, exp, tanh, erfc): no code shared with src/act.
#ifndef ACTLAB_TEST_REFIMPL_H
#define ACTLAB_TEST_REFIMPL_H

#include "actlab.h"
#include "test_seed.h"

#include <stddef.h>
#include <stdint.h>

// Non-gated elementwise: act(x). Gated: the gate g(z). params: the 4 PolyCom scalars (or NULL).
double ref_gate(const act_spec *s, const double *params, double x);
// Gated value transform v(u): u, or clamp(u, -L, L) + 1 for SwiGLU-Clip.
double ref_value(const act_spec *s, double u);
// The whole activation: x, u, y are (rows, cols); u NULL for non-gated.
void ref_forward(const act_spec *s, const double *params, size_t rows, size_t cols, const double *x,
                 const double *u, double *y);

#endif
