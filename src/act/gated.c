// gated.c — span kernels of the gated activations y = v(u)·g(z). The last argument: how bf16
// storage runs (kernels.h), whichever measured fastest (4096 × 2048, 2 threads): converted in the
// loop for ReGLU, by table for PowLU's gate and SwiGLU-Clip's, staged through the f32 kernel for
// SwiGLU and GeGLU (whose table backward, two lookups an element, was slower: 4.9 against 4.0–4.5 ms).
#include "kernels.h"
#include "gates.h"

ACT_DEFINE_GATED(swiglu, gate_silu, value_identity, ACT_BF16_STAGED)
ACT_DEFINE_GATED(geglu, gate_gelu, value_identity, ACT_BF16_STAGED)
ACT_DEFINE_GATED(reglu, gate_relu, value_identity, ACT_BF16_LOOP)
ACT_DEFINE_GATED(swiglu_clip, gate_clip, value_clip, ACT_BF16_TABLE)
ACT_DEFINE_GATED(powlu, gate_powlu, value_identity, ACT_BF16_TABLE)
