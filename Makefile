# actlab — the two commands are `make demo` and `make test` (see README.md).
# Every target first runs scripts/setup.sh, which installs what is missing on Debian 12.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
# Benchmarks choose the BLAS/OpenMP configuration deliberately (and report it): all cores, and
# OpenBLAS's own kernel choice (OPENBLAS_CORETYPE unset: forcing Haswell halves sgemm here).
BENCH_ENV  = env -u OPENBLAS_CORETYPE OMP_NUM_THREADS=$(shell nproc) OPENBLAS_NUM_THREADS=$(shell nproc)

.PHONY: all build test test-release test-asan demo bench clean

all: build

build:
	@scripts/setup.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# Every test twice: optimised, then under AddressSanitizer + UndefinedBehaviorSanitizer (except the
# ones labelled slow: training on the real corpus, whose code paths the sanitised trainer tests cover).
test:
	@scripts/setup.sh test
	$(MAKE) --no-print-directory test-release test-asan

test-release:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACTLAB_SANITIZE=ON -DACTLAB_CUDA=OFF >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) -LE slow

# The main job: the suite's corpus and its 1024-id tokenizer (`actlab data`, once), then `actlab
# compare`: the built-in suite of training runs reproducing E1-E5 at small scale (~30 min on 2 cores;
# rerunning resumes where it stopped), its report with plots and verdicts (runs/compare/report.md and
# .html), then the benchmarks against PyTorch and the gate-comparison figure.
# COMPARE_FLAGS=--quick for a 3-minute smoke run, --full for the long suite (hours).
COMPARE_FLAGS ?=

demo:
	@scripts/setup.sh demo
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	@mkdir -p data
	test -f data/bpe1024/val.bin || $(BUILD)/actlab data --tokenizer bpe:1024 --data-dir data/bpe1024
	$(BENCH_ENV) $(BUILD)/actlab compare $(COMPARE_FLAGS)
	$(MAKE) --no-print-directory bench
	$(BUILD)/actlab curve --plot swiglu powlu swiglu_clip gelu --from -4 --to 16 --out out/gates.png
	@echo "demo: report in runs/compare$(if $(findstring quick,$(COMPARE_FLAGS)),-quick,)$(if $(findstring full,$(COMPARE_FLAGS)),-full,)/report.html; benchmarks and gates.png in out/"

bench:
	@scripts/setup.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	@mkdir -p out
	@for part in kernels train; do \
	  if $(BENCH_ENV) scripts/torch_anchor.py $$part out/torch-$$part.json; then anchor="--anchor-json out/torch-$$part.json"; \
	  else anchor=""; echo "bench: no PyTorch baseline for $$part (above); actlab measured alone"; fi; \
	  echo "actlab bench $$part $$anchor"; \
	  $(BENCH_ENV) $(BUILD)/actlab bench $$part $$anchor --json out/bench-$$part.json || exit 1; done
	@# issue 15: fp32, bf16 and fp8 steps side by side, against PyTorch fp32 and bf16 autocast
	@if $(BENCH_ENV) scripts/torch_anchor.py train-bf16 out/torch-train-bf16.json; then anchor16="--anchor-bf16-json out/torch-train-bf16.json"; \
	  else anchor16=""; fi; \
	  $(BENCH_ENV) $(BUILD)/actlab bench train --acts swiglu,powlu,polynorm --precision fp8 --fp8-scaling delayed \
	    $$( [ -f out/torch-train.json ] && echo --anchor-json out/torch-train.json ) $$anchor16 --json out/bench-train-lowp.json

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
