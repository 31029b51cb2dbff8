// bench_attention.c — `actlab bench attention`: the attention core alone (the model's
// attention_forward / attention_backward, RoPE included), at a chosen head shape and thread count,
// against the oneDNN f32 GEMM rate measured in the same run. `bench train --sections` gives the
// same core's time inside a training step; this isolates it, e.g. to compare tile changes.
// (layers.h is the model's internal header: the benchmark times a layer the public API hides.)
#include "args.h"
#include "bench_util.h"
#include "model/layers.h"
#include "util/check.h"
#include "util/rng.h"
#include "util/timer.h"

#include <jansson.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long batch, seq, heads, kv_heads, head_dim, reps;
    int threads, rope;
    const char *json;
} att_opts;

static void help(void) {
    printf("usage: actlab bench attention [--batch B] [--seq T] [--heads H] [--kv-heads K] [--head-dim D]\n"
           "                              [--rope 0|1] [--threads T] [--reps N] [--json FILE]\n\n"
           "Times the model's causal attention core (packing, Q·Kᵀ, softmax, P·V and their backward with\n"
           "the probabilities recomputed; RoPE applied inside, as the model runs it) on random inputs:\n"
           "median and fastest of N runs per direction, after one warm-up. GFLOP/s counts the causal\n"
           "products as the model's MFU does (forward 2·B·H·T·(T+1)·D, backward twice that), beside the\n"
           "oneDNN f32 GEMM rate in the FFN's shapes measured in the same run.\n\n"
           "options:\n"
           "  --batch B      default 16 (the anchor's)\n"
           "  --seq T        default 256\n"
           "  --heads H      query heads, default 4\n"
           "  --kv-heads K   default H (grouped-query attention when K < H; H a multiple of K)\n"
           "  --head-dim D   default 64 (the suite's model: --seq 128 --head-dim 32)\n"
           "  --rope 0|1     RoPE inside the core (default 1, as in the model)\n"
           "  --threads T    OpenMP threads (default: all cores)\n"
           "  --reps N       timed runs per direction (default 15)\n"
           "  --json FILE    results (default out/bench-attention.json)\n");
}

static void parse(att_opts *o, int argc, char **argv) {
    *o = (att_opts){16, 256, 4, 0, 64, 15, omp_get_num_procs(), 1, "out/bench-attention.json"};
    const char *cmd = "bench attention";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) {
            help();
            exit(0);
        }
        if (!strcmp(a, "--batch")) o->batch = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1 << 16);
        else if (!strcmp(a, "--seq")) o->seq = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1 << 16);
        else if (!strcmp(a, "--heads")) o->heads = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1024);
        else if (!strcmp(a, "--kv-heads")) o->kv_heads = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1024);
        else if (!strcmp(a, "--head-dim")) o->head_dim = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 2, 1024);
        else if (!strcmp(a, "--rope")) o->rope = (int)arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 0, 1);
        else if (!strcmp(a, "--threads")) o->threads = (int)arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1024);
        else if (!strcmp(a, "--reps")) o->reps = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 100000);
        else if (!strcmp(a, "--json")) o->json = arg_value(cmd, argc, argv, &i);
        else usage_error(cmd, "unknown option '%s'", a);
    }
    if (!o->kv_heads) o->kv_heads = o->heads;
    if (o->heads % o->kv_heads) usage_error(cmd, "--heads %ld is not a multiple of --kv-heads %ld", o->heads, o->kv_heads);
    if (o->head_dim % 2) usage_error(cmd, "--head-dim %ld must be even (RoPE rotates pairs)", o->head_dim);
    if ((double)o->batch * o->seq * (o->heads + 2 * o->kv_heads) * o->head_dim > 1e9)
        usage_error(cmd, "the problem is too large (%ld x %ld x %ld heads of %ld)", o->batch, o->seq,
                    o->heads + 2 * o->kv_heads, o->head_dim);
}

static float *normal_array(size_t n, rng_t *g) {
    float *x = xaligned(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = rng_normal(g);
    return x;
}

// The statistics of reps runs, in ms: [0] median, [1] fastest. Sorts t.
static void ms_stats(double *t, long reps, double out[2]) {
    out[0] = 1e3 * bench_median(t, reps);
    out[1] = 1e3 * t[0];
}

int bench_attention(int argc, char **argv) {
    att_opts o;
    parse(&o, argc, argv);
    json_t *root = json_object();
    json_object_set_new(root, "benchmark", json_string("attention"));
    json_object_set_new(root, "config", bench_configure(o.threads));
    int B = (int)o.batch, T = (int)o.seq, H = (int)o.heads, K = (int)o.kv_heads, D = (int)o.head_dim;
    size_t nin = (size_t)B * T * (H + 2 * K) * D, nout = (size_t)B * T * H * D;
    rng_t g;
    rng_seed(&g, 1);
    float *qkv = normal_array(nin, &g), *dout = normal_array(nout, &g);
    float *out = xaligned(sizeof(float) * nout), *dqkv = xaligned(sizeof(float) * nin);
    float *lse = xaligned(sizeof(float) * (size_t)B * H * T);
    float *cs = xaligned(sizeof(float) * (size_t)T * (D / 2)), *sn = xaligned(sizeof(float) * (size_t)T * (D / 2));
    rope_table(cs, sn, T, D, 10000.0f);
    const float *c = o.rope ? cs : NULL, *s = o.rope ? sn : NULL;
    double *tf = xmalloc(sizeof(double) * (size_t)o.reps), *tb = xmalloc(sizeof(double) * (size_t)o.reps);
    for (long r = 0; r <= o.reps; r++) {  // run 0 warms the caches and the threads
        double t0 = now_seconds();
        attention_forward(out, lse, qkv, B, T, H, K, D, c, s);
        double t1 = now_seconds();
        attention_backward(dqkv, dout, qkv, out, lse, B, T, H, K, D, c, s);
        double t2 = now_seconds();
        if (r) tf[r - 1] = t1 - t0, tb[r - 1] = t2 - t1;
    }
    double f[2], b[2];
    ms_stats(tf, o.reps, f);
    ms_stats(tb, o.reps, b);
    bench_gemm_result gr;
    bench_gemm_rates(&gr, o.threads);
    double flops_fwd = 2.0 * B * H * (double)T * (T + 1) * D;  // Q·Kᵀ and P·V over (T+1)/2 keys on average
    double gf_f = flops_fwd / (f[0] * 1e-3) / 1e9, gf_b = 2 * flops_fwd / (b[0] * 1e-3) / 1e9;
    printf("actlab bench attention: B %d, T %d, %d query heads, %d kv heads, head dim %d, RoPE %s; %ld runs\n", B, T,
           H, K, D, o.rope ? "inside" : "off", o.reps);
    printf("  forward   median %8.2f ms  fastest %8.2f ms  %6.1f GFLOP/s (%4.1f%% of the oneDNN f32 GEMM rate %.1f)\n",
           f[0], f[1], gf_f, 100 * gf_f / gr.onednn_f32, gr.onednn_f32);
    printf("  backward  median %8.2f ms  fastest %8.2f ms  %6.1f GFLOP/s (%4.1f%%)\n", b[0], b[1], gf_b,
           100 * gf_b / gr.onednn_f32);
    json_object_set_new(root, "shape", json_pack("{s:i,s:i,s:i,s:i,s:i,s:b}", "batch", B, "seq", T, "heads", H,
                                                 "kv_heads", K, "head_dim", D, "rope", o.rope));
    json_object_set_new(root, "reps", json_integer(o.reps));
    json_object_set_new(root, "forward", json_pack("{s:f,s:f,s:f}", "median_ms", f[0], "fastest_ms", f[1], "gflops", gf_f));
    json_object_set_new(root, "backward", json_pack("{s:f,s:f,s:f}", "median_ms", b[0], "fastest_ms", b[1], "gflops", gf_b));
    json_object_set_new(root, "gemm", bench_gemm_json(&gr));
    bench_write_json(root, o.json);
    json_decref(root);
    free(qkv), free(dout), free(out), free(dqkv), free(lse), free(cs), free(sn), free(tf), free(tb);
    return 0;
}
