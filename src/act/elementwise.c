// elementwise.c — span kernels of the non-gated, parameter-free activations.
#include "kernels.h"
#include "gates.h"

ACT_DEFINE_ELEMENTWISE(relu, gate_relu)
ACT_DEFINE_ELEMENTWISE(relu2, gate_relu2)
ACT_DEFINE_ELEMENTWISE(gelu, gate_gelu)
ACT_DEFINE_ELEMENTWISE(gelu_erf, gate_gelu_erf)
ACT_DEFINE_ELEMENTWISE(silu, gate_silu)
ACT_DEFINE_ELEMENTWISE(powlu_scalar, gate_powlu_scalar)
