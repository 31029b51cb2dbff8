// bench_util.h — what every `actlab bench` shares: medians, the GEMM rates (bench_gemm.c), the
// BLAS/thread configuration (set deliberately, reported), the PyTorch anchor file, writing the JSON.
#ifndef ACTLAB_BENCH_UTIL_H
#define ACTLAB_BENCH_UTIL_H

#include <jansson.h>

double bench_median(double *t, long n);  // sorts t
// Sets OpenMP and OpenBLAS to `threads` threads and returns a JSON object describing the
// configuration (threads, OpenBLAS core and config, OPENBLAS_CORETYPE), also printed on stdout.
json_t *bench_configure(int threads);
// The anchor JSON written by scripts/torch_anchor.py PART, or NULL when path is NULL; dies if unreadable.
json_t *bench_load_anchor(const char *path, const char *part);
// The row of a list in the anchor whose "act" is name, or NULL.
json_t *bench_anchor_row(json_t *anchor, const char *part, const char *name);
// Writes root to path (creating its folder) and prints the path.
void bench_write_json(json_t *root, const char *path);

// GEMM rates in the model's FFN shapes, GFLOP/s (bench_gemm.c); 0 where not available.
typedef struct {
    double onednn_bf16, onednn_f32, openblas_f32;
    double openblas_f32_other;  // OpenBLAS with the other OPENBLAS_CORETYPE setting (child process)
    char openblas_core[32], openblas_core_other[64], other_env[16];
} bench_gemm_result;
void bench_gemm_rates(bench_gemm_result *g, int threads);
void bench_gemm_print(const bench_gemm_result *g);
json_t *bench_gemm_json(const bench_gemm_result *g);
// The fastest f32 rate of the three.
double bench_gemm_best_f32(const bench_gemm_result *g);

#endif
