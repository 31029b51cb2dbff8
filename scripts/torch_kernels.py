#!/usr/bin/python3
"""PyTorch CPU kernel timings for `actlab bench kernels --anchor-json`: runs only the kernels() part of
the shared anchor ../shared/anchors/torch_cpu_anchor.py (Debian's python3-torch, f32 4096x2048), in this
process's thread/BLAS configuration, and writes {"torch": version, "threads": n, "kernels": [...]}.
The anchor's location: $ACTLAB_ANCHORS, else ../shared/anchors beside the repository."""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
anchors = os.environ.get("ACTLAB_ANCHORS", os.path.join(here, "..", "..", "shared", "anchors"))
if not os.path.exists(os.path.join(anchors, "torch_cpu_anchor.py")):
    sys.exit(f"torch_kernels.py: error: no torch_cpu_anchor.py under {anchors}\n  hint: set ACTLAB_ANCHORS")
sys.path.insert(0, anchors)
import torch_cpu_anchor as anchor  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "out/torch-kernels.json"
torch = anchor.torch
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
rows = anchor.kernels()
json.dump(dict(torch=torch.__version__, threads=torch.get_num_threads(), kernels=rows), open(out, "w"), indent=1)
print(f"wrote {out}")
