"""A Llama model whose MLP uses one of actlab's activations, for the activations transformers'
LlamaMLP (down(act(gate(x)) * up(x))) cannot express: PowLU, SwiGLU-Clip, PolyReLU, PolyNorm and
the non-gated ones. Everything but the MLP is transformers' own Llama. Written by `actlab export`;
load the folder with

    AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)

config.json's "actlab" section names the activation and its hyperparameters; its auto_map points
AutoConfig and AutoModelForCausalLM at the two classes below.
"""
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

from .actlab_activations import make_activation


class ActlabMLP(nn.Module):
    """Gated: down(act(gate(x), up(x))). Non-gated (no gate_proj): down(act(up(x)))."""

    def __init__(self, config):
        super().__init__()
        spec = config.actlab
        self.act, gated = make_activation(spec["activation"], spec.get("hyperparameters"))
        d, h = config.hidden_size, config.intermediate_size
        if gated:
            self.gate_proj = nn.Linear(d, h, bias=False)
        self.up_proj = nn.Linear(d, h, bias=False)
        self.down_proj = nn.Linear(h, d, bias=False)

    def forward(self, x):
        if hasattr(self, "gate_proj"):
            return self.down_proj(self.act(self.gate_proj(x), self.up_proj(x)))
        return self.down_proj(self.act(self.up_proj(x)))


class ActlabConfig(LlamaConfig):
    """LlamaConfig under its own model_type, so that transformers never builds these folders as a
    plain Llama (its gated SiLU MLP) when trust_remote_code is not given."""

    model_type = "actlab"


class ActlabForCausalLM(LlamaForCausalLM):
    config_class = ActlabConfig

    def __init__(self, config):
        # LlamaMLP looks hidden_act up in transformers' own table, which has none of these
        # activations: build the Llama layers around a stand-in, then replace every MLP.
        hidden_act = config.hidden_act
        config.hidden_act = "silu"
        super().__init__(config)
        config.hidden_act = hidden_act
        for layer in self.model.layers:
            layer.mlp = ActlabMLP(config)
