"""actlab's FFN activations in plain PyTorch (no transformers needed), exactly as actlab defines
them (docs: ACTIVATIONS.md of the actlab repository). `actlab export` copies this file next to
modeling_actlab.py.

Gated activations are modules called as act(z, u) with z = gate_proj(x) and u = up_proj(x);
non-gated ones as act(x) with x = up_proj(x). `make_activation(name, hyperparameters)` builds
one from the "actlab" section of config.json.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def gelu_tanh(x):
    """GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def gelu_erf(x):
    """GELU, exact form: x·Φ(x)."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def relu2(x):
    return torch.relu(x) ** 2


def powlu_gate(z, m=3.0):
    """PowLU's gate f_m: z^(m/(√z+1))·σ(z) for z > 0, z·σ(z) (SiLU) for z ≤ 0.

    The branch is chosen before any root or logarithm, and the positive lane computes on a harmless
    1 where it is not selected, so neither its value nor its gradient can leak a NaN."""
    pos = z > 0
    zp = torch.where(pos, z, torch.ones_like(z))
    f_pos = zp ** (m / (zp.sqrt() + 1.0)) * torch.sigmoid(zp)
    return torch.where(pos, f_pos, F.silu(z))


def powlu_scalar(x, m=3.0):
    """PowLU's scalar form x·f_m(x)."""
    return x * powlu_gate(x, m)


def swiglu_clip(z, u, limit=7.0, alpha=1.702):
    """gpt-oss' clamped SwiGLU: z' = min(z, L), u' = clamp(u, −L, L), y = z'·σ(α·z')·(u' + 1).
    No gradient where a clamp is active (torch.clamp passes it at the bound, as actlab does)."""
    z = z.clamp(max=limit)
    u = u.clamp(min=-limit, max=limit)
    return z * torch.sigmoid(alpha * z) * (u + 1.0)


class PolyReLU(nn.Module):
    """PolyCom's PolyReLU, order 3: w0·ρ³ + w1·ρ² + w2·ρ + b with ρ = max(x, 0). Four learnable
    scalars shared by every channel, weights cubic-first (actlab's mlp.act.weight / mlp.act.bias)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.full((3,), 1.0 / 3.0))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        r = torch.relu(x)
        return self.weight[0] * r**3 + self.weight[1] * r**2 + self.weight[2] * r + self.bias


class PolyNorm(nn.Module):
    """PolyCom's PolyNorm, order 3: w0·N(x³) + w1·N(x²) + w2·N(x) + b, N(v) = v/√(mean(v²) + ε),
    the mean over the FFN hidden vector of each token (the last dimension), ε = 1e-6."""

    def __init__(self, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.full((3,), 1.0 / 3.0))
        self.bias = nn.Parameter(torch.zeros(1))
        self.eps = eps

    def _norm(self, v):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        return (self.weight[0] * self._norm(x**3) + self.weight[1] * self._norm(x**2)
                + self.weight[2] * self._norm(x) + self.bias)


class Elementwise(nn.Module):
    """A non-gated elementwise activation: act(x)."""

    def __init__(self, fn, **hyper):
        super().__init__()
        self.fn, self.hyper = fn, hyper

    def forward(self, x):
        return self.fn(x, **self.hyper)


class Gated(nn.Module):
    """A gated activation u·g(z)."""

    def __init__(self, gate, **hyper):
        super().__init__()
        self.gate, self.hyper = gate, hyper

    def forward(self, z, u):
        return u * self.gate(z, **self.hyper)


class SwiGLUClip(nn.Module):
    def __init__(self, limit=7.0, alpha=1.702):
        super().__init__()
        self.limit, self.alpha = limit, alpha

    def forward(self, z, u):
        return swiglu_clip(z, u, self.limit, self.alpha)


# name -> (gated, factory taking the hyperparameters by name); the names are actlab's.
ACTIVATIONS = {
    "relu": (False, lambda: Elementwise(lambda x: torch.relu(x))),
    "relu2": (False, lambda: Elementwise(relu2)),
    "gelu": (False, lambda: Elementwise(gelu_tanh)),
    "gelu_erf": (False, lambda: Elementwise(gelu_erf)),
    "silu": (False, lambda: Elementwise(F.silu)),
    "powlu_scalar": (False, lambda m=3.0: Elementwise(powlu_scalar, m=m)),
    "polyrelu": (False, PolyReLU),
    "polynorm": (False, PolyNorm),
    "swiglu": (True, lambda: Gated(lambda z: F.silu(z))),
    "geglu": (True, lambda: Gated(gelu_tanh)),
    "reglu": (True, lambda: Gated(lambda z: torch.relu(z))),
    "swiglu_clip": (True, SwiGLUClip),
    "powlu": (True, lambda m=3.0: Gated(powlu_gate, m=m)),
}


def make_activation(name, hyperparameters=None):
    """(module, gated) for actlab's activation `name` with its hyperparameters (a dict)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown actlab activation '{name}' (known: {', '.join(ACTIVATIONS)})")
    gated, factory = ACTIVATIONS[name]
    return factory(**(hyperparameters or {})), gated
