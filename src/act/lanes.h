// lanes.h — the generic vector types of the kernels that keep sums in vector lanes (polynorm.c,
// polyrelu.c): VW f32 lanes (one AVX-512 register; GCC splits them where vectors are narrower),
// with the double, integer and bf16 vectors of the same lane count.
#ifndef ACTLAB_ACT_LANES_H
#define ACTLAB_ACT_LANES_H

#include <stdint.h>

#define VW 16

// Vectors are passed only between static always-inline functions, so no ABI is crossed; a portable
// build (no AVX-512) would otherwise warn that passing them changes the ABI.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float vf __attribute__((vector_size(4 * VW)));
typedef double vd __attribute__((vector_size(8 * VW)));
typedef int32_t vi __attribute__((vector_size(4 * VW)));
typedef uint32_t vu __attribute__((vector_size(4 * VW)));
typedef uint16_t vh __attribute__((vector_size(2 * VW)));

#endif
