// lut.h — internal to libactlab: tables of a gate over every bf16 input.
//
// A bf16 element is one of 65536 values, so for bf16 storage a gate's value and derivative can be
// looked up instead of computed: the table is filled once by the f32 gate itself (the same
// function on the same inputs), so a lookup gives the bits the computation would. For the
// exp-heavy gates (and PowLU's, ~90 vector operations per element) a lookup is several times
// cheaper. A table is 1 MiB, built in well under a millisecond, in three layouts so that each
// kernel touches at most half of it (in L2): f alone (the forwards), f' alone (the non-gated
// backward), and each code's f and f' side by side (the gated backward, one 8-byte load for both).
#ifndef ACTLAB_LUT_H
#define ACTLAB_LUT_H

#include "actlab.h"

#include <stddef.h>

enum { LUT_SIZE = 65536 };

// Fills f and f' of n f32 inputs z (the activation's own gate, hyperparameters hp).
typedef void (*lut_fill_fn)(const float *z, float *f, float *df, size_t n, const float *hp);

// The table of s's gate: for bf16 code c, f at [c], f' at [LUT_SIZE + c], and both again at
// [2·LUT_SIZE + 2c] and [2·LUT_SIZE + 2c + 1]; made by
// fill on first use and kept for the process; NULL when the cache is full (its caller then computes).
// Safe to call from several threads at once.
const float *act_lut(const act_spec *s, lut_fill_fn fill);

#endif
