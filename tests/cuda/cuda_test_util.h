// cuda_test_util.h — what the CUDA tests share: the tolerance comparison and the edge inputs.
#ifndef ACTLAB_CUDA_TEST_UTIL_H
#define ACTLAB_CUDA_TEST_UTIL_H

#include "util/rng.h"

#include <stddef.h>
#include <stdint.h>

// Counts mismatches (printing the first few): NaN where and only where ref has NaN, infinities
// equal, finite values within rtol·|ref| + arel·rms(finite ref). in: the inputs, for the report.
int cmp_arrays(const char *what, const char *act, const char *variant, double rtol, double arel,
               const float *ref, const float *got, size_t n, const float *in);

// Seeds r from ACTLAB_SEED, or a fresh seed, prints the seed with how to replay it, returns it.
uint64_t cuda_test_seed(rng_t *r);

// NaN, ±inf, ±0, subnormals, the clamps of gates.cuh (−200, 1e30, ±30), SwiGLU-Clip's limit ±7,
// PowLU's peak 12.9, and huge and tiny magnitudes of both signs.
extern const float cuda_test_edge[];
extern const size_t cuda_test_n_edge;

#endif
