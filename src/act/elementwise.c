// elementwise.c — span kernels of the non-gated, parameter-free activations. The last argument:
// how bf16 storage runs (kernels.h), whichever measured fastest (4096 × 2048, 2 threads): converted
// in the loop for the cheap gates, by table for PowLU's, Φ's and GELU's, staged through the f32
// kernel for SiLU (a tie).
#include "kernels.h"
#include "gates.h"

ACT_DEFINE_ELEMENTWISE(relu, gate_relu, ACT_BF16_LOOP)
ACT_DEFINE_ELEMENTWISE(relu2, gate_relu2, ACT_BF16_LOOP)
ACT_DEFINE_ELEMENTWISE(gelu, gate_gelu, ACT_BF16_TABLE)
ACT_DEFINE_ELEMENTWISE(gelu_erf, gate_gelu_erf, ACT_BF16_TABLE)
ACT_DEFINE_ELEMENTWISE(silu, gate_silu, ACT_BF16_STAGED)
ACT_DEFINE_ELEMENTWISE(powlu_scalar, gate_powlu_scalar, ACT_BF16_TABLE)
