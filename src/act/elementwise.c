// elementwise.c — span kernels of the non-gated, parameter-free activations. The last argument:
// stage bf16 through the f32 kernel (the f32 exp-heavy ones; kernels.h says why). PowLU converts in
// the loop: since its f32 rewrite both ways measure the same, within noise.
#include "kernels.h"
#include "gates.h"

ACT_DEFINE_ELEMENTWISE(relu, gate_relu, 0)
ACT_DEFINE_ELEMENTWISE(relu2, gate_relu2, 0)
ACT_DEFINE_ELEMENTWISE(gelu, gate_gelu, 1)
ACT_DEFINE_ELEMENTWISE(gelu_erf, gate_gelu_erf, 1)
ACT_DEFINE_ELEMENTWISE(silu, gate_silu, 1)
ACT_DEFINE_ELEMENTWISE(powlu_scalar, gate_powlu_scalar, 0)
