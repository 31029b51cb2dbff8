// bench_cuda.cu — `actlab bench kernels --device cuda`: every activation, bf16 storage, forward,
// forward with FP8 output, and forward+backward, each against a device-to-device cudaMemcpy
// measured in the same run (PERFORMANCE.md: every claim is a ratio measured side by side).
//
// Bytes moved per element (2-byte bf16; 1 byte for FP8 output), the floor the kernels are held to:
//   forward: non-gated 2 (x, y), gated 3 (z, u, y);  backward: non-gated 3 (x, dy, dx),
//   gated 5 (z, u, dy, dz, du); forward+backward is their sum (torch_anchor.py counts the same).
#include "internal.cuh"

#include <algorithm>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <vector>

namespace {

constexpr int kWarm = 10, kIters = 50;
constexpr size_t kCopyBytes = (size_t)1 << 30;  // 1 GiB, as torch_anchor.py

// Deterministic pseudo-normal inputs: a hash of the index, Box–Muller, times `scale`.
__global__ void fill_normal(__nv_bfloat16 *p, size_t n, uint32_t seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32);
        h ^= h >> 31; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 29; h *= 0x94D049BB133111EBull; h ^= h >> 32;
        float u1 = ((uint32_t)h >> 8) * (1.0f / 16777216.0f) + 1e-7f, u2 = (uint32_t)(h >> 40) * (1.0f / 16777216.0f);
        p[i] = __float2bfloat16_rn(scale * sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2));
    }
}

struct Timer {
    cudaEvent_t a, b;
    Timer() { cudaEventCreate(&a); cudaEventCreate(&b); }
    ~Timer() { cudaEventDestroy(a); cudaEventDestroy(b); }
};

// Median milliseconds of fn() over kIters timed runs after kWarm untimed ones; -1 on error.
template <class Fn> double median_ms(Fn &&fn) {
    Timer t;
    for (int i = 0; i < kWarm; i++)
        if (fn()) return -1.0;
    std::vector<float> ms;
    for (int i = 0; i < kIters; i++) {
        cudaEventRecord(t.a);
        if (fn()) return -1.0;
        cudaEventRecord(t.b);
        if (cudaEventSynchronize(t.b) != cudaSuccess) return -1.0;
        float v = 0.0f;
        cudaEventElapsedTime(&v, t.a, t.b);
        ms.push_back(v);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

struct Row {
    const char *name;
    double fwd_ms, fp8_ms, fb_ms, fwd_gbs, fp8_gbs, fb_gbs;
};

struct Buffers {
    void *x = nullptr, *u = nullptr, *dy = nullptr, *y = nullptr, *dx = nullptr, *du = nullptr;
    void *ca = nullptr, *cb = nullptr;
    uint8_t *y8 = nullptr;
    float *params = nullptr, *dparams = nullptr, *scale = nullptr, *amax = nullptr;
    ~Buffers() {
        for (void *p : {x, u, dy, y, dx, du, ca, cb, (void *)y8, (void *)params, (void *)dparams, (void *)scale,
                        (void *)amax})
            if (p) cudaFree(p);
    }
};

bool write_json(const char *path, const char *device, double copy_gbs, int rows, int cols,
                const std::vector<Row> &out) {
    std::string tmp = std::string(path) + ".tmp";
    FILE *f = fopen(tmp.c_str(), "w");
    if (!f) return false;
    fprintf(f, "{\n  \"device\": \"%s\",\n  \"dtype\": \"bf16\",\n  \"rows\": %d,\n  \"cols\": %d,\n", device, rows, cols);
    fprintf(f, "  \"iters\": %d,\n  \"copy_gbs\": %.3f,\n  \"kernels\": [\n", kIters, copy_gbs);
    for (size_t i = 0; i < out.size(); i++) {
        const Row &r = out[i];
        fprintf(f,
                "    {\"act\": \"%s\", \"fwd_ms\": %.5f, \"fwd_gbs\": %.2f, \"fwd_frac\": %.4f, "
                "\"fwd_fp8_ms\": %.5f, \"fwd_fp8_gbs\": %.2f, \"fwd_fp8_frac\": %.4f, "
                "\"fwdbwd_ms\": %.5f, \"fwdbwd_gbs\": %.2f, \"fwdbwd_frac\": %.4f}%s\n",
                r.name, r.fwd_ms, r.fwd_gbs, r.fwd_gbs / copy_gbs, r.fp8_ms, r.fp8_gbs, r.fp8_gbs / copy_gbs,
                r.fb_ms, r.fb_gbs, r.fb_gbs / copy_gbs, i + 1 < out.size() ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    bool ok = fclose(f) == 0;
    return ok && rename(tmp.c_str(), path) == 0;
}

int fail(const char *what, cudaError_t e) {
    fprintf(stderr, "actlab: error: bench kernels --device cuda: %s: %s\n", what, cudaGetErrorString(e));
    return 1;
}

}  // namespace

extern "C" int actlab_cuda_bench_kernels(const char *json_path, int rows, int cols) {
    if (rows <= 0 || cols <= 0) {
        fprintf(stderr, "actlab: error: bench kernels --device cuda: rows and cols must be positive (got %d, %d)\n",
                rows, cols);
        return 2;
    }
    if (!actlab_cuda_available()) {
        fprintf(stderr, "actlab: error: bench kernels --device cuda: no CUDA device\n"
                        "hint: run it on a machine with an NVIDIA GPU and driver (scripts/gpu_check.sh)\n");
        return 1;
    }
    cudaDeviceProp prop;
    cudaError_t e = cudaGetDeviceProperties(&prop, 0);
    if (e) return fail("cudaGetDeviceProperties", e);
    const size_t n = (size_t)rows * cols, bytes = n * sizeof(__nv_bfloat16);
    Buffers b;
    for (void **p : {&b.x, &b.u, &b.dy, &b.y, &b.dx, &b.du})
        if ((e = cudaMalloc(p, bytes))) return fail("cudaMalloc of the activation tensors", e);
    if ((e = cudaMalloc(&b.ca, kCopyBytes)) || (e = cudaMalloc(&b.cb, kCopyBytes)) ||
        (e = cudaMalloc((void **)&b.y8, n)) || (e = cudaMalloc((void **)&b.params, 4 * sizeof(float))) ||
        (e = cudaMalloc((void **)&b.dparams, 4 * sizeof(float))) ||
        (e = cudaMalloc((void **)&b.scale, sizeof(float))) || (e = cudaMalloc((void **)&b.amax, sizeof(float))))
        return fail("cudaMalloc", e);
    fill_normal<<<1024, 256>>>((__nv_bfloat16 *)b.x, n, 1, 2.0f);
    fill_normal<<<1024, 256>>>((__nv_bfloat16 *)b.u, n, 2, 1.0f);
    fill_normal<<<1024, 256>>>((__nv_bfloat16 *)b.dy, n, 3, 1.0f);
    const float one = 1.0f;
    cudaMemcpy(b.scale, &one, sizeof one, cudaMemcpyHostToDevice);
    cudaMemset(b.dparams, 0, 4 * sizeof(float));
    if ((e = cudaDeviceSynchronize())) return fail("filling the inputs", e);

    double copy_ms = median_ms([&] { return (int)cudaMemcpyAsync(b.cb, b.ca, kCopyBytes, cudaMemcpyDeviceToDevice); });
    if (copy_ms <= 0) return fail("timing cudaMemcpy", cudaGetLastError());
    const double copy_gbs = 2.0 * kCopyBytes / (copy_ms * 1e6);
    printf("device: %s\ncopy bandwidth (device-to-device cudaMemcpy, 1 GiB): %.1f GB/s\n", prop.name, copy_gbs);
    printf("bf16 %d x %d per input, median of %d runs; %% = fraction of the copy bandwidth\n", rows, cols, kIters);
    printf("%-14s %10s %8s %6s %10s %8s %6s %10s %8s %6s\n", "activation", "fwd ms", "GB/s", "%", "fp8 ms", "GB/s",
           "%", "f+b ms", "GB/s", "%");

    std::vector<Row> out;
    for (int k = 0; k < ACT_COUNT; k++) {
        const act_desc *d = act_desc_of((act_kind)k);
        act_spec s;
        act_spec_init(&s, d->name);
        float p[ACT_MAX_PARAMS] = {0};
        if (d->n_params) act_params_init(s.kind, p);
        cudaMemcpy(b.params, p, sizeof p, cudaMemcpyHostToDevice);
        const float *params = d->n_params ? b.params : nullptr;
        const void *u = d->gated ? b.u : nullptr;
        void *du = d->gated ? b.du : nullptr;
        float *dparams = d->n_params ? b.dparams : nullptr;
        const size_t rr = rows, cc = cols;
        auto fwd = [&] { return actlab_cuda_forward(&s, ACT_BF16, rr, cc, b.x, u, params, b.y, nullptr); };
        auto fp8 = [&] {
            return actlab_cuda_forward_fp8(&s, ACT_BF16, rr, cc, b.x, u, params, b.scale, b.y8, b.amax, nullptr);
        };
        auto fb = [&] {
            int r = fwd();
            return r ? r : actlab_cuda_backward(&s, ACT_BF16, rr, cc, b.x, u, params, b.dy, b.dx, du, dparams, nullptr);
        };
        Row r{d->name, median_ms(fwd), median_ms(fp8), median_ms(fb), 0, 0, 0};
        if (r.fwd_ms <= 0 || r.fp8_ms <= 0 || r.fb_ms <= 0) return fail(d->name, cudaGetLastError());
        const double in = d->gated ? 2.0 : 1.0, el = (double)bytes;
        r.fwd_gbs = (in + 1.0) * el / (r.fwd_ms * 1e6);
        r.fp8_gbs = (in * el + (double)n) / (r.fp8_ms * 1e6);
        r.fb_gbs = ((in + 1.0) + (d->gated ? 5.0 : 3.0)) * el / (r.fb_ms * 1e6);
        printf("%-14s %10.4f %8.1f %5.1f%% %10.4f %8.1f %5.1f%% %10.4f %8.1f %5.1f%%\n", r.name, r.fwd_ms, r.fwd_gbs,
               100.0 * r.fwd_gbs / copy_gbs, r.fp8_ms, r.fp8_gbs, 100.0 * r.fp8_gbs / copy_gbs, r.fb_ms, r.fb_gbs,
               100.0 * r.fb_gbs / copy_gbs);
        fflush(stdout);
        out.push_back(r);
    }
    if (json_path != nullptr) {
        if (!write_json(json_path, prop.name, copy_gbs, rows, cols, out)) {
            fprintf(stderr, "actlab: error: cannot write %s\nhint: check that its folder exists and is writable\n",
                    json_path);
            return 1;
        }
        printf("wrote %s\n", json_path);
    }
    return 0;
}
