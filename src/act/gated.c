// gated.c — span kernels of the gated activations y = v(u)·g(z).
#include "kernels.h"
#include "gates.h"

ACT_DEFINE_GATED(swiglu, gate_silu, value_identity)
ACT_DEFINE_GATED(geglu, gate_gelu, value_identity)
ACT_DEFINE_GATED(reglu, gate_relu, value_identity)
ACT_DEFINE_GATED(swiglu_clip, gate_clip, value_clip)
ACT_DEFINE_GATED(powlu, gate_powlu, value_identity)
