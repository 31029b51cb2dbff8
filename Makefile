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

# Every test twice: optimised, then under AddressSanitizer + UndefinedBehaviorSanitizer.
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
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS)

# The main job. Until `actlab compare` lands (issue 5) it is the kernel benchmark against
# PyTorch plus the gate-comparison figure.
demo: bench
	$(BUILD)/actlab curve --plot swiglu powlu swiglu_clip gelu --from -4 --to 16 --out out/gates.png
	@echo "demo: results in out/ (bench-kernels.json, torch-kernels.json, gates.png)"

bench:
	@scripts/setup.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	@mkdir -p out
	$(BENCH_ENV) scripts/torch_kernels.py out/torch-kernels.json
	$(BENCH_ENV) $(BUILD)/actlab bench kernels --anchor-json out/torch-kernels.json --json out/bench-kernels.json

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
