// cmd_bench.c — `actlab bench WHAT`: dispatches to one benchmark.
#include "args.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

int bench_kernels(int argc, char **argv);
int bench_train(int argc, char **argv);
int bench_gemm(int argc, char **argv);
int bench_attention(int argc, char **argv);

static void bench_help(void) {
    printf("usage: actlab bench WHAT [options]   (actlab bench WHAT --help for each)\n\n"
           "  kernels   every activation's forward and forward+backward time against a memory-copy\n"
           "            floor measured in the same run (and PyTorch's, with --anchor-json)\n"
           "  train     training-step throughput of the anchor model per activation and precision, against\n"
           "            the GEMM rates measured in the same run (and PyTorch's, with --anchor-json)\n"
           "  gemm      the GEMM rates alone: oneDNN bf16 and f32, OpenBLAS f32 (FFN shapes)\n"
           "  attention the attention core alone (forward, backward, RoPE inside) at a chosen head shape,\n"
           "            beside the oneDNN f32 GEMM rate\n\n"
           "Every figure is a ratio against a baseline measured in the same run; results go to JSON.\n");
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2 || arg_is_help(argv[1])) {
        bench_help();
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "kernels")) return bench_kernels(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return bench_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gemm")) return bench_gemm(argc - 1, argv + 1);
    if (!strcmp(argv[1], "attention")) return bench_attention(argc - 1, argv + 1);
    usage_error("bench", "unknown benchmark '%s'", argv[1]);
}
