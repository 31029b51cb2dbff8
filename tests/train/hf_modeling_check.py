"""hf_modeling_check.py EXPORT_DIR... — builds ActlabForCausalLM from each exported folder's
config.json against a stand-in for the few transformers names modeling_actlab.py uses (transformers
is not installable here), and checks that its MLP parameters are exactly the folder's
model.safetensors MLP tensors (names and shapes), load, and compute. Used by test_hf_activations."""
import importlib
import json
import os
import shutil
import struct
import sys
import tempfile
import types

import torch
from torch import nn


def stand_in_transformers():
    """LlamaConfig keeps its keyword arguments; LlamaForCausalLM builds model.layers[i].mlp as
    transformers' LlamaMLP does, including the hidden_act lookup that fails for actlab's names."""
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

    class Layer(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.mlp = LlamaMLP(config)

    class LlamaForCausalLM(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.model = nn.Module()
            self.model.layers = nn.ModuleList(Layer(config) for _ in range(config.num_hidden_layers))

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


def check(folder):
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
    mine = {k: v.shape for k, v in model.state_dict().items() if ".mlp." in k}
    weights = {k: v for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items() if ".mlp." in k}
    theirs = {k: v.shape for k, v in weights.items()}
    assert mine == theirs, f"MLP parameters differ:\n  model: {sorted(mine.items())}\n  file:  {sorted(theirs.items())}"
    model.load_state_dict(weights, strict=False)
    x = torch.randn(2, 3, config.hidden_size)
    y = model.model.layers[0].mlp(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    print(f"{folder}: {config.actlab['activation']}: {len(mine)} MLP tensors match model.safetensors")


sys.modules["transformers"] = stand_in_transformers()
for folder in sys.argv[1:]:
    check(folder)
