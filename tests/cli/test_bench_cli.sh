#!/bin/sh
# test_bench_cli.sh ACTLAB — `actlab bench attention` and `bench kernels` on tiny shapes: they run,
# write the JSON they promise (the numbers themselves are not judged: speed lives in the
# benchmarks, not in tests), and refuse bad options with status 2.
set -eu
ACTLAB=$1
. "$(dirname "$0")/../testlib.sh"
test_tmpdir bench

"$ACTLAB" bench --help | grep -q "attention" || fail "bench --help lists attention"
"$ACTLAB" bench attention --help | grep -q "usage: actlab bench attention" || fail "bench attention --help"
"$ACTLAB" bench attention --batch 1 --seq 20 --heads 2 --kv-heads 1 --head-dim 8 --reps 2 --threads 1 \
    --json "$DIR/att.json" > "$DIR/att.txt"
grep -q "forward   median" "$DIR/att.txt" || fail "bench attention prints the forward"
python3 - "$DIR/att.json" <<'PY' || fail "bench attention JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["benchmark"] == "attention" and d["shape"]["kv_heads"] == 1 and d["shape"]["rope"]
for k in ("forward", "backward"):
    assert d[k]["median_ms"] > 0 and d[k]["fastest_ms"] <= d[k]["median_ms"] and d[k]["gflops"] > 0
assert d["gemm"]["onednn_f32_gflops"] > 0
PY
expect_status 2 "$ACTLAB" bench attention --heads 3 --kv-heads 2
grep -q "multiple" "$DIR/err.txt" || fail "heads not a multiple of kv heads"
expect_status 2 "$ACTLAB" bench attention --head-dim 7
expect_status 2 "$ACTLAB" bench attention --bogus
expect_status 2 "$ACTLAB" bench nothing

"$ACTLAB" bench kernels --rows 16 --cols 64 --reps 2 --threads 1 --json "$DIR/k.json" > /dev/null
python3 - "$DIR/k.json" <<'PY' || fail "bench kernels JSON"
import json, sys
d = json.load(open(sys.argv[1]))
names = {r["act"] for r in d["results"]}
assert {"powlu", "polynorm", "swiglu"} <= names, names
PY
echo "test_bench_cli: passed"
