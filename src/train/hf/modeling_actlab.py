"""A Llama model whose MLP uses one of actlab's activations, for the activations transformers'
LlamaMLP (down(act(gate(x)) * up(x))) cannot express: PowLU, SwiGLU-Clip, PolyReLU, PolyNorm and
the non-gated ones, and for actlab's mixture-of-experts FFNs. Everything but the MLP is
transformers' own Llama. Written by `actlab export`; load the folder with

    AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)

config.json's "actlab" section names the activation and its hyperparameters; its auto_map points
AutoConfig and AutoModelForCausalLM at the two classes below. An MoE model (num_experts > 0) adds
the OLMoE / Qwen2-MoE keys num_experts, num_experts_per_tok, moe_intermediate_size,
shared_expert_intermediate_size and norm_topk_prob, and "actlab"."moe" names the router's scoring.
"""
import torch
from torch import nn
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from .actlab_activations import make_activation


class ActlabMLP(nn.Module):
    """Gated: down(act(gate(x), up(x))). Non-gated (no gate_proj): down(act(up(x))).
    One MoE expert is the same module at the expert's width (its own activation scalars)."""

    def __init__(self, config, intermediate_size=None):
        super().__init__()
        spec = config.actlab
        self.act, gated = make_activation(spec["activation"], spec.get("hyperparameters"))
        d, h = config.hidden_size, intermediate_size or config.intermediate_size
        if gated:
            self.gate_proj = nn.Linear(d, h, bias=False)
        self.up_proj = nn.Linear(d, h, bias=False)
        self.down_proj = nn.Linear(h, d, bias=False)

    def forward(self, x):
        if hasattr(self, "gate_proj"):
            return self.down_proj(self.act(self.gate_proj(x), self.up_proj(x)))
        return self.down_proj(self.act(self.up_proj(x)))


class ActlabRouter(nn.Module):
    """mlp.gate: which k experts each token uses, with what weights, from logits r = W·x.

    softmax (OLMoE): the k largest r, weights softmax(r) of those. sigmoid (DeepSeek-V3): the k
    largest σ(r) + b, weights σ(r) of those; b (e_score_correction_bias) only chooses, it is a
    buffer that actlab's training moves to balance the load. norm_topk_prob divides the k weights
    by their sum. Ties go to the lower expert index. Scores are taken in float64, as actlab does."""

    def __init__(self, config):
        super().__init__()
        moe = config.actlab["moe"]
        self.scoring = moe["scoring_func"]
        if self.scoring not in ("softmax", "sigmoid"):
            raise ValueError(f"unknown actlab MoE scoring_func '{self.scoring}' (known: softmax, sigmoid)")
        self.top_k, self.renorm = config.num_experts_per_tok, bool(config.norm_topk_prob)
        self.weight = nn.Parameter(torch.empty(config.num_experts, config.hidden_size))
        nn.init.normal_(self.weight, std=getattr(config, "initializer_range", 0.02))
        if moe.get("e_score_correction_bias"):
            self.register_buffer("e_score_correction_bias", torch.zeros(config.num_experts))

    def forward(self, x):
        """x: (N, d) -> chosen experts (N, k), their weights (N, k) in x's dtype."""
        logits = F.linear(x, self.weight).double()
        if self.scoring == "sigmoid":
            scores = torch.sigmoid(logits)
            key = scores
            if hasattr(self, "e_score_correction_bias"):
                key = scores + self.e_score_correction_bias.double()
        else:
            scores, key = logits.softmax(-1), logits
        # a stable descending sort keeps equal keys in index order: ties go to the lower index
        chosen = torch.sort(key, dim=-1, descending=True, stable=True).indices[:, : self.top_k]
        weights = scores.gather(-1, chosen)
        if self.renorm:
            weights = weights / weights.sum(-1, keepdim=True)
        return chosen, weights.to(x.dtype)


class ActlabMoE(nn.Module):
    """y = Σ_{e in top-k} w_e·experts[e](x) + shared_expert(x): dropless, every token reaches all
    k of its experts. The shared experts are one FFN of their summed width (no gate on it, unlike
    Qwen2-MoE). A loop over the experts: clarity over speed."""

    def __init__(self, config):
        super().__init__()
        self.gate = ActlabRouter(config)
        self.experts = nn.ModuleList(ActlabMLP(config, config.moe_intermediate_size)
                                     for _ in range(config.num_experts))
        shared = getattr(config, "shared_expert_intermediate_size", 0)
        if shared:
            self.shared_expert = ActlabMLP(config, shared)

    def forward(self, hidden_states):
        x = hidden_states.reshape(-1, hidden_states.shape[-1])
        chosen, weights = self.gate(x)
        y = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            token, slot = (chosen == e).nonzero(as_tuple=True)
            if token.numel():
                y = y.index_add(0, token, weights[token, slot, None] * expert(x[token]))
        if hasattr(self, "shared_expert"):
            y = y + self.shared_expert(x)
        return y.reshape(hidden_states.shape)


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
        moe = getattr(config, "num_experts", 0) > 0
        for layer in self.model.layers:
            layer.mlp = ActlabMoE(config) if moe else ActlabMLP(config)
