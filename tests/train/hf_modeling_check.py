"""hf_modeling_check.py ACTLAB DATA_DIR TEXT CHECKPOINT EXPORT_DIR [CHECKPOINT EXPORT_DIR ...] — builds
ActlabForCausalLM from each exported folder's config.json against a stand-in for the transformers
names modeling_actlab.py uses (transformers is not installable here: LlamaForCausalLM written out
from its published definition), checks that its parameters and buffers are exactly the folder's
model.safetensors tensors (names and shapes), loads them, and checks that its loss on TEXT (tokenised
by `actlab tokenize`) equals `actlab eval --text` of the CHECKPOINT the folder was exported from,
dense and MoE alike. Used by test_hf_activations."""
import importlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import types

import torch
from torch import nn
import torch.nn.functional as F


def stand_in_transformers():
    """LlamaConfig keeps its keyword arguments; LlamaForCausalLM is transformers' Llama as its
    modeling_llama.py computes it (pre-norm decoder layers, RMSNorm, rotate-half RoPE, grouped-query
    causal attention, no biases), with the same module and parameter names, and builds every
    model.layers[i].mlp as LlamaMLP does, including the hidden_act lookup that fails for actlab's
    names. forward(ids) gives the logits."""
    class LlamaConfig:
        model_type = "llama"

        def __init__(self, **kw):
            self.__dict__.update(kw)

    class LlamaMLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            if config.hidden_act not in ("silu", "gelu_pytorch_tanh", "relu"):
                raise KeyError(config.hidden_act)
            d, h = config.hidden_size, config.intermediate_size
            self.gate_proj, self.up_proj, self.down_proj = nn.Linear(d, h), nn.Linear(d, h), nn.Linear(h, d)

    class LlamaRMSNorm(nn.Module):
        def __init__(self, d, eps):
            super().__init__()
            self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def rotate_half(x):
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat((-x2, x1), dim=-1)

    class LlamaAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            d, self.h, self.hkv = config.hidden_size, config.num_attention_heads, config.num_key_value_heads
            self.hd, self.theta = d // self.h, config.rope_theta
            self.q_proj = nn.Linear(d, self.h * self.hd, bias=False)
            self.k_proj = nn.Linear(d, self.hkv * self.hd, bias=False)
            self.v_proj = nn.Linear(d, self.hkv * self.hd, bias=False)
            self.o_proj = nn.Linear(self.h * self.hd, d, bias=False)

        def forward(self, x):
            B, T, _ = x.shape
            q = self.q_proj(x).view(B, T, self.h, self.hd).transpose(1, 2)
            k = self.k_proj(x).view(B, T, self.hkv, self.hd).transpose(1, 2)
            v = self.v_proj(x).view(B, T, self.hkv, self.hd).transpose(1, 2)
            inv_freq = 1.0 / self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
            angles = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq
            emb = torch.cat((angles, angles), dim=-1)
            cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(self.h // self.hkv, dim=1)
            v = v.repeat_interleave(self.h // self.hkv, dim=1)
            s = q @ k.transpose(-1, -2) / self.hd**0.5
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
            return self.o_proj((s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, -1))

    class LlamaDecoderLayer(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.input_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
            self.self_attn = LlamaAttention(config)
            self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
            self.mlp = LlamaMLP(config)

        def forward(self, x):
            x = x + self.self_attn(self.input_layernorm(x))
            return x + self.mlp(self.post_attention_layernorm(x))

    class LlamaForCausalLM(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.model = nn.Module()
            self.model.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
            self.model.layers = nn.ModuleList(LlamaDecoderLayer(config) for _ in range(config.num_hidden_layers))
            self.model.norm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
            if not config.tie_word_embeddings:  # tied: the head is embed_tokens (no lm_head in the file)
                self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

        def forward(self, ids):
            x = self.model.embed_tokens(ids)
            for layer in self.model.layers:
                x = layer(x)
            head = self.model.embed_tokens if self.config.tie_word_embeddings else self.lm_head
            return F.linear(self.model.norm(x), head.weight)

    mod = types.ModuleType("transformers")
    mod.LlamaConfig, mod.LlamaForCausalLM = LlamaConfig, LlamaForCausalLM
    return mod


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]),
                                dtype=torch.float32).reshape(v["shape"]) for k, v in header.items()}


def actlab_loss(checkpoint, text):
    """actlab eval --text: the mean cross-entropy of consecutive context-length windows."""
    out = subprocess.run([ACTLAB, "eval", "--checkpoint", checkpoint, "--text", text, "--data-dir", DATA_DIR,
                          "--threads", "1", "--json"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["loss"], r["tokens"]


def torch_loss(model, ids, T):
    """The same windows as actlab eval --text: window w predicts ids[s+1 .. s+len] from ids[s .. s+len-1]."""
    total, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids) - 1, T):
            window = torch.tensor(ids[s:s + T + 1])
            logits = model(window[None, :-1])[0]
            total += float(F.cross_entropy(logits, window[1:], reduction="sum"))
            n += len(window) - 1
    return total / n, n


def check_router(modeling):
    """Exact ties, which trained weights never show: the lower expert index wins (actlab's top-k);
    the sigmoid router chooses by score + bias but weighs by the score alone."""
    def router(scoring, k, renorm, bias=None):
        cfg = types.SimpleNamespace(actlab={"moe": {"scoring_func": scoring, "e_score_correction_bias": bias is not None}},
                                    num_experts=4, num_experts_per_tok=k, norm_topk_prob=renorm, hidden_size=1)
        r = modeling.ActlabRouter(cfg).double()
        with torch.no_grad():
            r.weight.copy_(torch.tensor([[0.0], [1.0], [0.0], [1.0]]))  # logits 0, 1, 0, 1 for x = 1
            if bias is not None:
                r.e_score_correction_bias.copy_(torch.tensor(bias))
        return r(torch.ones(1, 1, dtype=torch.float64))

    sel, w = router("softmax", 3, False)
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64).softmax(-1)
    assert sel.tolist() == [[1, 3, 0]] and torch.allclose(w, p[[1, 3, 0]][None]), f"softmax ties: {sel}, {w}"
    sel, w = router("softmax", 2, True)
    assert sel.tolist() == [[1, 3]] and torch.allclose(w, torch.tensor([[0.5, 0.5]], dtype=torch.float64)), "renorm"
    sel, w = router("sigmoid", 2, False, bias=[0.0, 0.0, 0.5, 0.0])  # keys 0.5, σ(1), 1.0, σ(1)
    s1 = torch.sigmoid(torch.tensor(1.0, dtype=torch.float64))
    assert sel.tolist() == [[2, 1]] and torch.allclose(w, torch.stack([torch.tensor(0.5, dtype=torch.float64), s1])[None]), \
        f"sigmoid with bias: {sel}, {w}"


def check(checkpoint, folder):
    # As transformers does with remote code: the folder's .py files become one package.
    pkg_root = tempfile.mkdtemp()
    try:
        pkg = os.path.join(pkg_root, "exported")
        os.mkdir(pkg)
        open(os.path.join(pkg, "__init__.py"), "w").close()
        for f in ("modeling_actlab.py", "actlab_activations.py"):
            shutil.copy(os.path.join(folder, f), pkg)
        sys.path.insert(0, pkg_root)
        for name in [m for m in sys.modules if m.startswith("exported")]:
            del sys.modules[name]
        modeling = importlib.import_module("exported.modeling_actlab")
        sys.path.pop(0)
    finally:
        shutil.rmtree(pkg_root)
    with open(os.path.join(folder, "config.json")) as f:
        cfg_dict = json.load(f)
    assert cfg_dict["auto_map"]["AutoModelForCausalLM"] == "modeling_actlab.ActlabForCausalLM"
    assert cfg_dict["model_type"] == modeling.ActlabConfig.model_type == "actlab"
    config = modeling.ActlabConfig(**cfg_dict)
    model = modeling.ActlabForCausalLM(config)
    assert config.hidden_act == cfg_dict["hidden_act"], "hidden_act restored after the stand-in"
    # Every parameter and buffer (the sigmoid router's selection bias included) is a file tensor of
    # the same name and shape, and the other way round.
    mine = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    weights = read_safetensors(os.path.join(folder, "model.safetensors"))
    theirs = {k: tuple(v.shape) for k, v in weights.items()}
    if mine != theirs:
        only_m, only_t = sorted(set(mine.items()) - set(theirs.items())), sorted(set(theirs.items()) - set(mine.items()))
        sys.exit(f"{folder}: tensors differ:\n  model only: {only_m}\n  file only:  {only_t}")
    model.load_state_dict(weights, strict=True)
    # float64, so that the gap to actlab's float32 loss is actlab's own rounding
    model.double().eval()
    tok = cfg_dict["actlab"]["tokenizer"]
    with open(TEXT) as text:
        ids = [int(t) for t in subprocess.run([ACTLAB, "tokenize", "--tokenizer", tok, "--data-dir", DATA_DIR],
                                              stdin=text, check=True, capture_output=True, text=True).stdout.split()]
    if getattr(config, "num_experts", 0):
        check_router(modeling)
    want, n_want = actlab_loss(checkpoint, TEXT)
    got, n_got = torch_loss(model, ids, config.max_position_embeddings)
    assert n_got == n_want, f"{folder}: {n_got} tokens scored, actlab eval scored {n_want}"
    what = config.actlab["activation"]
    if getattr(config, "num_experts", 0):
        moe = config.actlab["moe"]
        what += (f", MoE {config.num_experts} experts top-{config.num_experts_per_tok} {moe['scoring_func']}"
                 f"{' renorm' if config.norm_topk_prob else ''}, {moe['n_shared_experts']} shared")
    ok = abs(got - want) <= LOSS_TOL
    print(f"{folder}: {what}: {len(mine)} tensors match model.safetensors; loss on {n_got} tokens "
          f"{got:.7f} (PyTorch, float64) vs {want:.7f} (actlab eval), |diff| {abs(got - want):.2e} "
          f"{'<=' if ok else '>'} {LOSS_TOL:g}")
    return ok


# actlab's float32 forward against float64 on a tiny model: measured gaps are ~1e-7, while a wrong
# routing weight, a missing bias or a lost shared expert moves the loss by ~1e-4 or more.
LOSS_TOL = 1e-5
if len(sys.argv) < 6 or len(sys.argv) % 2:
    sys.exit(__doc__)
ACTLAB, DATA_DIR, TEXT = sys.argv[1:4]
sys.modules["transformers"] = stand_in_transformers()
results = [check(sys.argv[i], sys.argv[i + 1]) for i in range(4, len(sys.argv), 2)]
sys.exit(0 if all(results) else 1)
