"""test_hf_activations.py ACTLAB HF_DIR MKSHARDS — the PyTorch activations that `actlab export` ships
(HF_DIR/actlab_activations.py) against actlab itself, in float64: values and torch.autograd
derivatives against `actlab curve` (x,f,dfdx, computed in f32 by actlab), SwiGLU-Clip's value clamp,
and PolyNorm / PolyReLU against the examples and backward formulas of ACTIVATIONS.md. Then exports
tiny trained models, dense and MoE, and checks that modeling_actlab.py loads their weights and
reproduces actlab's loss (hf_modeling_check.py).
Exits 77 (skipped) without torch (Debian: python3-torch, `scripts/setup.sh test`)."""
import csv
import io
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("skipped: no torch (Debian python3-torch; run scripts/setup.sh test)")
    sys.exit(77)

ACTLAB, HF_DIR, MKSHARDS = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, HF_DIR)
import actlab_activations as aa  # noqa: E402

failures = []


def check(what, ok):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def close(a, b, rtol=2e-5, atol=2e-6):
    return torch.allclose(a, b, rtol=rtol, atol=atol)


def worst(a, b):
    return f"max |diff| {float((a - b).abs().max()):.3g}"


def curve(name, args):
    """actlab curve's x, f, dfdx as float64 tensors."""
    out = subprocess.run([ACTLAB, "curve", name, "--from", "-8", "--to", "16", "--points", "769", *args],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(out)))[1:]
    cols = list(zip(*[[float(v) for v in r] for r in rows]))
    return [torch.tensor(c, dtype=torch.float64) for c in cols]


# Each elementwise activation's curve. Gated ones: actlab's curve is the gate g(z); the module is
# called with a value u whose transform is 1 (u = 1; SwiGLU-Clip: clamp(u) + 1 = 1 at u = 0).
CASES = [("relu", []), ("relu2", []), ("gelu", []), ("gelu_erf", []), ("silu", []), ("powlu_scalar", []),
         ("powlu_scalar", ["--m", "2"]), ("polyrelu", []), ("swiglu", []), ("geglu", []), ("reglu", []),
         ("swiglu_clip", []), ("swiglu_clip", ["--limit", "3", "--alpha", "1"]), ("powlu", []),
         ("powlu", ["--m", "2"]), ("powlu", ["--m", "4"])]
for name, args in CASES:
    hyper = {args[i][2:]: float(args[i + 1]) for i in range(0, len(args), 2)}
    act, gated = aa.make_activation(name, hyper)
    act = act.double()
    x, f_ref, df_ref = curve(name, args)
    xr = x.clone().requires_grad_(True)
    if gated:
        u = torch.full_like(x, 0.0 if name == "swiglu_clip" else 1.0)
        y = act(xr, u)
    else:
        y = act(xr)
    (df,) = torch.autograd.grad(y.sum(), xr)
    label = f"{name} {' '.join(args)}".strip()
    check(f"{label}: values ({worst(y.detach(), f_ref)})", close(y.detach(), f_ref))
    check(f"{label}: derivatives ({worst(df, df_ref)})", close(df, df_ref))
    check(f"{label}: finite", bool(torch.isfinite(y).all() and torch.isfinite(df).all()))

# PowLU's reference table (ACTIVATIONS.md, m = 3, float64) pins the float64 code beyond f32 precision.
z = torch.tensor([-5, -1, 0, 0.001, 0.5, 1, 2, 4, 12.9, 50, 100, 10000], dtype=torch.float64, requires_grad=True)
f_tab = torch.tensor([-0.03346425462, -0.2689414214, 0, 9.442086344e-10, 0.1841166717, 0.7310585786, 2.084241245,
                      3.92805516, 5.316338125, 4.280591674, 3.511191734, 1.314655253], dtype=torch.float64)
df_tab = torch.tensor([-0.02654743243, 0.07232948813, 0.5, 3.036974293e-06, 0.809527205, 1.293199801,
                       1.280524441, 0.5988778883, -2.687061488e-05, -0.02271000423, -0.01046902522,
                       -1.38998413e-05], dtype=torch.float64)
f = aa.powlu_gate(z, 3.0)
(df,) = torch.autograd.grad(f.sum(), z)
check(f"powlu table values ({worst(f.detach(), f_tab)})", close(f.detach(), f_tab, rtol=1e-8, atol=1e-12))
check(f"powlu table derivatives ({worst(df, df_tab)})", close(df, df_tab, rtol=1e-7, atol=1e-12))

# SwiGLU-Clip's value side: the examples of ACTIVATIONS.md, and no u-gradient outside the clamp.
zc = torch.tensor([1.0, 10.0, -3.0], dtype=torch.float64)
uc = torch.tensor([2.0, -9.0, 0.5], dtype=torch.float64, requires_grad=True)
yc = aa.SwiGLUClip()(zc, uc)
check("swiglu_clip examples", close(yc.detach(), torch.tensor([2.5373873, -41.999719, -0.027106965],
                                                              dtype=torch.float64), rtol=1e-7, atol=0))
(du,) = torch.autograd.grad(yc.sum(), uc)
check("swiglu_clip: no gradient through a clamped u", du[1].item() == 0.0 and du[0].item() != 0.0)

# PolyNorm and PolyReLU on ACTIVATIONS.md's row, initial weights; PolyNorm's gradients against the
# spec's backward formulas.
row = torch.tensor([[0.5, -1.0, 2.0, -0.25]], dtype=torch.float64, requires_grad=True)
pn = aa.PolyNorm().double()
yn = pn(row)
check("polynorm example", close(yn.detach(), torch.tensor([[0.19529910, -0.21054471, 1.88542090, -0.06351603]],
                                                           dtype=torch.float64), rtol=1e-7, atol=1e-8))
g = torch.tensor([[0.3, -1.2, 0.7, 2.0]], dtype=torch.float64)
dx, dw, db = torch.autograd.grad(yn, (row, pn.weight, pn.bias), g)
x = row.detach()
d = x.shape[-1]
dx_ref, dw_ref = torch.zeros_like(x), torch.zeros(3, dtype=torch.float64)
for k, p in enumerate((3, 2, 1)):  # weights cubic-first
    vp = x**p
    rstd = 1.0 / torch.sqrt((vp**2).mean(-1, keepdim=True) + 1e-6)
    S = (g * vp).sum(-1, keepdim=True)
    dx_ref += pn.weight[k].item() * (p * x ** (p - 1) * rstd * g - (p / d) * x ** (2 * p - 1) * rstd**3 * S)
    dw_ref[k] = (rstd * S).sum()
check(f"polynorm dx ({worst(dx, dx_ref)})", close(dx, dx_ref, rtol=1e-10, atol=1e-12))
check("polynorm dw, db", close(dw, dw_ref, rtol=1e-10, atol=1e-12) and abs(db.item() - g.sum().item()) < 1e-12)
yr = aa.PolyReLU().double()(row.detach())
check("polyrelu example", close(yr, torch.tensor([[0.29166667, 0, 4.66666667, 0]], dtype=torch.float64),
                                 rtol=1e-7, atol=1e-8))

# The activations module stands alone; the modeling file at least compiles (transformers, which
# it imports, is not installed here).
check("actlab_activations imports without transformers", "transformers" not in sys.modules)
path = os.path.join(HF_DIR, "modeling_actlab.py")
with open(path, encoding="utf-8") as src:
    try:
        compile(src.read(), path, "exec")
    except SyntaxError as e:
        check(f"modeling_actlab.py compiles: {e}", False)

# Exported folders of tiny trained models: dense (gated, non-gated with and without learnable
# scalars, a value transform) and MoE (OLMoE naming with the softmax router and renormalised weights;
# Qwen2-MoE naming with the sigmoid router, whose selection bias moves fast enough here to change
# choices, and a shared expert; the softmax router unnormalised with two shared experts and top-1,
# and a head tied to the embedding).
# modeling_actlab.py builds each from config.json with the file's tensor names, and its loss in
# PyTorch equals actlab eval's on the same text (hf_modeling_check.py).
MOE = "--moe-experts 4 --moe-top-k 2"
RUNS = [("powlu", ""), ("swiglu_clip", ""), ("polyrelu", ""), ("polynorm", ""), ("relu2", ""),
        ("swiglu", MOE + " --moe-renorm 1"),
        ("polynorm", MOE + " --moe-router sigmoid --moe-shared 1 --moe-bias-rate 0.05"),
        ("powlu", "--moe-experts 3 --moe-top-k 1 --moe-shared 2 --tied-embeddings 1")]
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([MKSHARDS, tmp], check=True, capture_output=True)
    pairs = []
    for i, (act, extra) in enumerate(RUNS):
        run, out = os.path.join(tmp, f"run_{i}_{act}"), os.path.join(tmp, f"hf_{i}_{act}")
        subprocess.run([ACTLAB, "train", "--data-dir", tmp, "--vocab-size", "300", "--d-model", "16", "--n-layers",
                        "2", "--n-heads", "2", "--n-kv-heads", "1", "--max-seq-len", "16", "--batch", "2", "--seq",
                        "16", "--steps", "2", "--warmup-steps", "1", "--eval-interval", "2", "--eval-batches", "1",
                        "--threads", "1", "--act", act, *extra.split(), "--out", run], check=True, capture_output=True)
        subprocess.run([ACTLAB, "export", "--checkpoint", os.path.join(run, "checkpoint.bin"), "--safetensors", out,
                        "--data-dir", tmp], check=True, capture_output=True)
        pairs += [os.path.join(run, "checkpoint.bin"), out]
    r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "hf_modeling_check.py"), ACTLAB, tmp,
                        os.path.join(tmp, "sample.txt"), *pairs])
    check("modeling_actlab.py against exported folders and actlab eval", r.returncode == 0)

if failures:
    sys.exit(1)
print(f"test_hf_activations: ok ({len(CASES)} curves)")
