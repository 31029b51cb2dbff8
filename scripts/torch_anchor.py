#!/usr/bin/python3
"""PyTorch CPU baselines for `actlab bench kernels|train --anchor-json`.

usage: scripts/torch_anchor.py kernels|train|train-bf16|train-moe OUT.json

Runs one part of the shared anchor ../shared/anchors/torch_cpu_anchor.py (Debian's python3-torch) in this
process's thread/BLAS configuration: `kernels` (activation fwd and fwd+bwd, f32 4096x2048) or `train`
(the anchor LM: V 8192, d 256, 4 layers, 4 heads, T 256, B 16, fwd+bwd+AdamW per activation), or
`train-bf16` (the same under torch.autocast("cpu", bfloat16): PyTorch's CPU mixed precision), or
`train-moe` (fp32, every FFN an MoE block of 8 experts, top-2, 1 shared expert, each expert 1/3 of the
dense width, written the usual eager way: a loop over experts with index_select / index_add_; its rows
are named moe-<act>, for `actlab bench train --moe 8,2,1 --anchor-moe-json`), and writes
{"torch": version, "threads": n, "kernels"|"train": [...]}.
The anchor's location: $ACTLAB_ANCHORS, else ../shared/anchors beside the repository."""
import json, os, sys

if len(sys.argv) != 3 or sys.argv[1] not in ("kernels", "train", "train-bf16", "train-moe"):
    sys.exit(__doc__)
here = os.path.dirname(os.path.abspath(__file__))
anchors = os.environ.get("ACTLAB_ANCHORS", os.path.join(here, "..", "..", "shared", "anchors"))
if not os.path.exists(os.path.join(anchors, "torch_cpu_anchor.py")):
    sys.exit(f"torch_anchor.py: error: no torch_cpu_anchor.py under {anchors}\n  hint: set ACTLAB_ANCHORS")
sys.path.insert(0, anchors)
import torch_cpu_anchor as anchor  # noqa: E402

part, out = sys.argv[1], sys.argv[2]
anchor.torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
if part == "kernels":
    rows = anchor.kernels()
elif part == "train-moe":
    rows = anchor.train(moe=True, acts=("swiglu", "powlu", "polynorm"))
    for r in rows:
        r["act"] = "moe-" + r["act"]
else:
    rows = anchor.train(bf16=part == "train-bf16")
key = part if part == "kernels" else "train"
result = {"torch": anchor.torch.__version__, "threads": anchor.torch.get_num_threads(), key: rows}
json.dump(result, open(out, "w"), indent=1)
print(f"wrote {out}")
