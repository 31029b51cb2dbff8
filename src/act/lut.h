// lut.h — internal to libactlab: tables of a gate over every bf16 input.
//
// A bf16 element is one of 65536 values, so for bf16 storage a gate's value and derivative can be
// looked up instead of computed: the table is filled once by the f32 gate itself (the same
// function on the same inputs), so a lookup gives the bits the computation would. For the
// exp-heavy gates (and PowLU's, ~90 vector operations per element) a lookup is several times
// cheaper; a table is 512 KiB (f, then f'), built in well under a millisecond.
#ifndef ACTLAB_LUT_H
#define ACTLAB_LUT_H

#include "actlab.h"

#include <stddef.h>

enum { LUT_SIZE = 65536 };

// Fills f and f' of n f32 inputs z (the activation's own gate, hyperparameters hp).
typedef void (*lut_fill_fn)(const float *z, float *f, float *df, size_t n, const float *hp);

// The table of s's gate (LUT_SIZE values of f, then LUT_SIZE of f', indexed by bf16 code), made by
// fill on first use and kept for the process; NULL when the cache is full (its caller then computes).
// Safe to call from several threads at once.
const float *act_lut(const act_spec *s, lut_fill_fn fill);

#endif
