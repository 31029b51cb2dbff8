// bench_main.c — actlab_cuda_bench: a stand-alone driver of actlab_cuda_bench_kernels for
// scripts/gpu_check.sh (the user-facing command is `actlab bench kernels --device cuda`).
#include "actlab_cuda.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc > 4 || (argc > 1 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: actlab_cuda_bench [JSON_PATH [ROWS [COLS]]]\n"
                        "  times every activation's CUDA kernels (bf16, default 16384 x 8192) against a\n"
                        "  device-to-device copy and writes JSON to JSON_PATH\n");
        return 2;
    }
    const char *json = argc > 1 ? argv[1] : NULL;
    int rows = argc > 2 ? atoi(argv[2]) : 16384, cols = argc > 3 ? atoi(argv[3]) : 8192;
    return actlab_cuda_bench_kernels(json, rows, cols);
}
