#!/usr/bin/env bash
# gpu_check.sh — everything of actlab that needs an NVIDIA GPU, in one command, for a session that
# has the device tool. Run from the repository root; results go under $OUT (default out/gpu):
#
#   mkdir -p .deps/anchors && cp ../shared/anchors/torch_anchor.py .deps/anchors/   # optional
#   run(command="scripts/gpu_check.sh [all|test|bench]", carry=[".deps/anchors"])
#
# `test` runs steps 1-3, `bench` steps 1, 4, 5, `all` (default) everything. A device command is
# limited to 10 minutes: on a cold machine run `test` and `bench` as two calls (build-gpu is kept
# between calls on a warm machine, so the second build is a no-op).
#
# Steps (each logged to $OUT/<step>.log, one line per step in $OUT/summary.txt):
#   1. configure + build with -DACTLAB_CUDA=ON (Release) in build-gpu; if that fails (no cmake,
#      OpenBLAS or cmocka on the GPU machine), a direct gcc + nvcc build of the same binaries
#   2. test_cuda_kernels and test_cuda_math_host (every kernel against the CPU reference)
#   3. test_cuda_kernels under compute-sanitizer memcheck and racecheck, when present
#   4. the kernel benchmark: $OUT/bench_cuda.json (bf16 16384 x 8192, vs cudaMemcpy in the same run)
#   5. the PyTorch anchor, if .deps/anchors/torch_anchor.py (or $ACTLAB_ANCHOR) exists:
#      $OUT/torch_anchor.json, run in the same command so that the ratios are comparable
# Exit status: 0 when every step that ran passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in
  all|test|bench) ;;
  *) echo "usage: scripts/gpu_check.sh [all|test|bench]" >&2; exit 2 ;;
esac
OUT=${OUT:-$PWD/out/gpu}
export OUT
mkdir -p "$OUT"
export PATH="/usr/local/cuda/bin:$PATH"
status=0
summary="$OUT/summary.txt"
: > "$summary"

step() {  # step NAME TIMEOUT_S COMMAND... : runs it, logs it, records pass/fail with the time taken
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS rc
  if [ "$(type -t "$1")" = function ]; then  # a shell function: run it in a child bash under timeout
    timeout "$limit" bash -c "$(declare -f "$1"); $*" > "$OUT/$name.log" 2>&1
  else
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  fi
  rc=$?
  local line
  if [ $rc -eq 0 ]; then line="PASS $name ($((SECONDS - t0)) s)"; else line="FAIL $name (exit $rc, $((SECONDS - t0)) s, see $name.log)"; status=1; fi
  echo "$line" | tee -a "$summary"
  return $rc
}

{
  nvidia-smi; nvcc --version
  for t in cmake pkg-config gcc g++ python3 compute-sanitizer; do printf '%-18s %s\n' "$t" "$(command -v "$t" || echo MISSING)"; done
  for p in cmocka openblas; do printf '%-18s %s\n' "pkg $p" "$(pkg-config --modversion "$p" 2>/dev/null || echo MISSING)"; done
} > "$OUT/device.txt" 2>&1
jobs=$(nproc 2>/dev/null || echo 4)

# Without cmake or the CPU-side dependencies (OpenBLAS, cmocka) the CMake configure fails; this
# builds the same binaries with gcc and nvcc directly into build-gpu (the tests only with cmocka).
direct_build() {
  set -e
  local b=build-gpu cu=/usr/local/cuda objs=()
  mkdir -p "$b/obj" "$b/tests"
  for f in src/util/*.c src/act/*.c; do
    o="$b/obj/$(basename "${f%.c}").o"; objs+=("$o")
    gcc -std=c11 -O3 -fopenmp -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc -c "$f" -o "$o"
  done
  for f in src/cuda/*.cu; do
    o="$b/obj/cuda_$(basename "${f%.cu}").o"; objs+=("$o")
    nvcc -std=c++17 -O3 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=compute_80 \
      -DACTLAB_HAVE_CUDA=1 -Iinclude -Isrc -c "$f" -o "$o" &
  done
  wait
  local libs=(-L"$cu/lib64" -lcudart_static -lstdc++ -lm -ldl -lpthread -lrt -fopenmp)
  gcc -O3 -Iinclude -Isrc src/cuda/bench_main.c "${objs[@]}" "${libs[@]}" -o "$b/actlab_cuda_bench"
  if pkg-config --exists cmocka || [ -f /usr/include/cmocka.h ]; then
    for t in test_cuda_kernels test_cuda_math_host; do
      gcc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc -I"$cu/include" \
        "tests/cuda/$t.c" tests/cuda/cuda_test_util.c "${objs[@]}" -lcmocka "${libs[@]}" -o "$b/tests/$t"
    done
  else
    echo "no cmocka: CUDA tests not built"
  fi
}

if { command -v cmake > /dev/null && step configure 300 cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DACTLAB_CUDA=ON &&
     step build 600 cmake --build build-gpu -j"$jobs" --target actlab_cuda actlab_cuda_bench test_cuda_kernels test_cuda_math_host; } ||
   { step direct_build 600 direct_build && status=0; }; then  # only configure/build had failed
  if [ "$what" != bench ]; then
    step test_cuda_math_host 120 build-gpu/tests/test_cuda_math_host
    # A skip (77) here means the GPU was not visible: that is a failure on this machine.
    step test_cuda_kernels 300 build-gpu/tests/test_cuda_kernels
    if command -v compute-sanitizer > /dev/null; then
      step memcheck 400 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/tests/test_cuda_kernels
      step racecheck 400 compute-sanitizer --tool racecheck --error-exitcode 1 build-gpu/tests/test_cuda_kernels
    else
      echo "SKIP memcheck/racecheck (no compute-sanitizer on PATH)" | tee -a "$summary"
    fi
  fi
  if [ "$what" != test ]; then
    step bench_cuda 300 build-gpu/actlab_cuda_bench "$OUT/bench_cuda.json" 16384 8192
  fi
fi
if [ "$what" != test ]; then
  anchor=${ACTLAB_ANCHOR:-.deps/anchors/torch_anchor.py}
  if [ -f "$anchor" ]; then
    step torch_anchor 500 python3 "$anchor" kernels
  else
    echo "SKIP torch_anchor (no $anchor: copy ../shared/anchors/torch_anchor.py there and carry .deps/anchors)" | tee -a "$summary"
  fi
fi
echo "results in $OUT" | tee -a "$summary"
exit $status
