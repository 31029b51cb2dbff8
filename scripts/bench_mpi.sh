#!/usr/bin/env bash
# bench_mpi.sh — data-parallel scaling at equal cores (issue 12): the anchor model (V 8192, d 256,
# 4 layers, T 256, B 16, swiglu) trained for STEPS steps as 1 rank x 2 threads and as 2 ranks x 1
# thread, alternated ROUNDS times; tokens/s is the median of each run's steps 2..STEPS from
# metrics.jsonl. Writes OUT (JSON) and prints a table. The BLAS/OpenMP setting is chosen here and
# reported: OPENBLAS_CORETYPE unset. Needs an idle machine: any other load makes the ratio noise.
#   usage: scripts/bench_mpi.sh [DATA_DIR] [OUT.json]     (defaults: data/bpe1024, out/bench-mpi.json)
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
DATA=${1:-data/bpe1024}
OUT=${2:-out/bench-mpi.json}
STEPS=${STEPS:-12}
ROUNDS=${ROUNDS:-2}
BIN=${BIN:-build/actlab}
unset OPENBLAS_CORETYPE
[ -f "$DATA/train.bin" ] || { echo "bench_mpi: no $DATA/train.bin (run: $BIN data --tokenizer bpe:1024 --data-dir $DATA)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench_mpi: mpirun not found (apt install openmpi-bin)" >&2; exit 1; }
root=()
[ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--data-dir "$DATA" --vocab-size 8192 --steps "$STEPS" --eval-interval 0 --telemetry-interval 0
        --ckpt-interval 0 --log-interval 1 --overwrite)
median_tps() {  # metrics.jsonl -> median tokens/s of steps >= 2
    python3 -c 'import json,statistics,sys; v=[json.loads(l)["tokens_per_s"] for l in open(sys.argv[1]) if "tokens_per_s" in l and json.loads(l)["step"]>=2]; print(statistics.median(v))' "$1"
}
one=() two=()
for r in $(seq "$ROUNDS"); do
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 "$BIN" train "${common[@]}" --threads 2 --out "$tmp/one" >/dev/null 2>&1
    one+=("$(median_tps "$tmp/one/metrics.jsonl")")
    mpirun "${root[@]}" -np 2 --bind-to none "$BIN" train "${common[@]}" --threads 1 --out "$tmp/two" >/dev/null 2>"$tmp/two.err"
    two+=("$(median_tps "$tmp/two/metrics.jsonl")")
    grep -h "gradient sum" "$tmp/two.err" | tail -1 || true
done
mkdir -p "$(dirname "$OUT")"
python3 - "$OUT" "$(uptime)" "${one[*]}" "${two[*]}" <<'PY'
import json, statistics, sys
out, up, one, two = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3].split()], [float(x) for x in sys.argv[4].split()]
a, b = statistics.median(one), statistics.median(two)
res = {"model": "anchor: V 8192, d 256, 4 layers, T 256, B 16, swiglu, fp32", "openblas_coretype": "unset",
       "one_rank_2_threads_tokens_per_s": one, "two_ranks_1_thread_tokens_per_s": two,
       "efficiency": b / a, "uptime_after": up.strip()}
json.dump(res, open(out, "w"), indent=2)
print("| layout | tokens/s per round | median |\n|---|---|---:|")
print(f"| 1 rank x 2 threads | {', '.join(f'{x:.0f}' for x in one)} | {a:.0f} |")
print(f"| 2 ranks x 1 thread | {', '.join(f'{x:.0f}' for x in two)} | {b:.0f} |")
print(f"scaling efficiency at equal cores: {100*b/a:.1f}% (target >= 90%); {up.strip()}; wrote {out}")
PY
