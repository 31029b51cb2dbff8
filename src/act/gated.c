// gated.c — span kernels of the gated activations y = v(u)·g(z). The last argument: stage bf16
// through the f32 kernel (the f32 exp-heavy ones; kernels.h says why). PowLU converts in the loop:
// since its f32 rewrite both ways measure the same, within noise.
#include "kernels.h"
#include "gates.h"

ACT_DEFINE_GATED(swiglu, gate_silu, value_identity, 1)
ACT_DEFINE_GATED(geglu, gate_gelu, value_identity, 1)
ACT_DEFINE_GATED(reglu, gate_relu, value_identity, 0)
ACT_DEFINE_GATED(swiglu_clip, gate_clip, value_clip, 1)
ACT_DEFINE_GATED(powlu, gate_powlu, value_identity, 0)
