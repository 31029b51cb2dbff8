// bench_gemm.c — `actlab bench gemm`: the GEMM rates the training step is measured against, in
// the model's FFN shapes, through the GEMM layer's tiled entry points (as the model calls them):
// oneDNN bf16 (f32 accumulation) on bf16 codes laid out as the model's quantisation writes them,
// oneDNN f32, OpenBLAS f32. OpenBLAS picks its kernels from
// OPENBLAS_CORETYPE when the library loads, so the other setting is measured in a child process.
#include "actlab.h"
#include "bench_util.h"
#include "args.h"
#include "gemm/gemm.h"
#include "util/check.h"
#include "util/timer.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

// The anchor FFN's three products per projection: forward x·Wᵀ, dgrad dy·W, wgrad dyᵀ·x
// (N 4096 tokens, d 256, hidden 704).
enum { NTOK = 4096, DM = 256, HID = 704, REPS = 5 };

typedef enum { K_BF16, K_DNNL, K_BLAS } kind;

// The three products' operands: f32, and for bf16 the codes as the model's quantisation leaves
// them (each row's bf16 values in the first half of its f32 row: row stride 2·cols, layers.h), so
// the bf16 rate is the GEMMs' alone, with no conversion the model does not do.
typedef struct {
    const float *x, *w, *dy;
    const uint16_t *xb, *wb, *dyb;
} operands;

static void run_once(kind k, const operands *o, float *y, float *dx, float *dw) {
    if (k == K_BF16) {
        gemm_bf16(GEMM_N, GEMM_T, NTOK, HID, DM, o->xb, 2 * DM, o->wb, 2 * DM, 1.0f, 0.0f, y, HID);
        gemm_bf16(GEMM_N, GEMM_N, NTOK, DM, HID, o->dyb, 2 * HID, o->wb, 2 * DM, 1.0f, 0.0f, dx, DM);
        gemm_bf16(GEMM_T, GEMM_N, HID, DM, NTOK, o->dyb, 2 * HID, o->xb, 2 * DM, 1.0f, 1.0f, dw, DM);
    } else {
        gemm_backend_kind b = k == K_DNNL ? GEMM_ONEDNN : GEMM_OPENBLAS;
        gemm_f32_with(b, GEMM_N, GEMM_T, NTOK, HID, DM, o->x, DM, o->w, DM, 0.0f, y, HID);
        gemm_f32_with(b, GEMM_N, GEMM_N, NTOK, DM, HID, o->dy, HID, o->w, DM, 0.0f, dx, DM);
        gemm_f32_with(b, GEMM_T, GEMM_N, HID, DM, NTOK, o->dy, HID, o->x, DM, 1.0f, dw, DM);
    }
}

// v: (rows, cols) -> a new buffer of its bf16 codes with row stride 2·cols.
static uint16_t *codes_of(const float *v, int rows, int cols) {
    uint16_t *c = xaligned(sizeof(uint16_t) * 2 * (size_t)rows * cols);
    num_bf16_encode(c, 2 * (size_t)cols, v, (size_t)cols, rows, cols, NULL);
    return c;
}

// Best-of-REPS rate of the three products, GFLOP/s.
static double rate(kind k) {
    if (k == K_BF16 && !gemm_bf16_native()) return 0;
    size_t nx = (size_t)NTOK * DM, nw = (size_t)HID * DM, ny = (size_t)NTOK * HID;
    float *x = xaligned(4 * nx), *w = xaligned(4 * nw), *dy = xaligned(4 * ny), *y = xaligned(4 * ny);
    float *dx = xaligned(4 * nx), *dw = xaligned(4 * nw);
    for (size_t i = 0; i < nx; i++) x[i] = (float)(i % 13) * 0.125f;  // bf16 values, so all kinds agree
    for (size_t i = 0; i < nw; i++) w[i] = (float)(i % 7) * 0.0625f;
    for (size_t i = 0; i < ny; i++) dy[i] = (float)(i % 5) * 0.25f;
    memset(dw, 0, 4 * nw);
    operands o = {x, w, dy, NULL, NULL, NULL};
    if (k == K_BF16) o.xb = codes_of(x, NTOK, DM), o.wb = codes_of(w, HID, DM), o.dyb = codes_of(dy, NTOK, HID);
    double best = 1e30;
    for (int r = 0; r <= REPS; r++) {  // the first call creates the primitives
        double t0 = now_seconds();
        run_once(k, &o, y, dx, dw);
        double t = now_seconds() - t0;
        if (r && t < best) best = t;
    }
    free(x), free(w), free(dy), free(y), free(dx), free(dw);
    free((void *)o.xb), free((void *)o.wb), free((void *)o.dyb);
    return 3 * 2.0 * NTOK * (double)DM * HID / best / 1e9;
}

void bench_gemm_rates(bench_gemm_result *g, int threads) {
    memset(g, 0, sizeof *g);
    g->onednn_bf16 = rate(K_BF16);
    g->onednn_f32 = rate(K_DNNL);
    g->openblas_f32 = rate(K_BLAS);
    snprintf(g->openblas_core, sizeof g->openblas_core, "%s", openblas_get_corename());
    // OpenBLAS with the other OPENBLAS_CORETYPE setting: unset if set here, else forced Haswell
    const char *env = getenv("OPENBLAS_CORETYPE");
    char saved[64] = "", cmd[4200];
    if (env) snprintf(saved, sizeof saved, "%s", env);
    if (env) unsetenv("OPENBLAS_CORETYPE");
    else setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);  // popen's shell has its own
    self[len > 0 ? len : 0] = 0;
    snprintf(cmd, sizeof cmd, "'%s' bench gemm --child --threads %d", self, threads);
    FILE *p = popen(cmd, "r");
    if (!p || fscanf(p, "%lf %63s", &g->openblas_f32_other, g->openblas_core_other) != 2)
        g->openblas_f32_other = 0, snprintf(g->openblas_core_other, sizeof g->openblas_core_other, "?");
    if (p) pclose(p);
    if (env) setenv("OPENBLAS_CORETYPE", saved, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    snprintf(g->other_env, sizeof g->other_env, "%s", env ? "unset" : "Haswell");
}

json_t *bench_gemm_json(const bench_gemm_result *g) {
    json_t *o = json_object();
    json_object_set_new(o, "shape", json_string("FFN 4096x704x256: forward, dgrad, wgrad"));
    json_object_set_new(o, "onednn_bf16_gflops", json_real(g->onednn_bf16));
    json_object_set_new(o, "onednn_f32_gflops", json_real(g->onednn_f32));
    json_object_set_new(o, "openblas_f32_gflops", json_real(g->openblas_f32));
    json_object_set_new(o, "openblas_core", json_string(g->openblas_core));
    json_object_set_new(o, "openblas_f32_other_coretype_gflops", json_real(g->openblas_f32_other));
    json_object_set_new(o, "openblas_core_other", json_string(g->openblas_core_other));
    json_object_set_new(o, "other_coretype_env", json_string(g->other_env));
    return o;
}

void bench_gemm_print(const bench_gemm_result *g) {
    printf("GEMM rates, FFN shapes (4096x704x256 fwd+dgrad+wgrad, tiled as the model runs them), GFLOP/s:\n"
           "  oneDNN bf16 %.1f | oneDNN f32 %.1f | OpenBLAS f32 %.1f (core %s) | OpenBLAS f32 %.1f (core %s, "
           "OPENBLAS_CORETYPE %s, child process)\n",
           g->onednn_bf16, g->onednn_f32, g->openblas_f32, g->openblas_core, g->openblas_f32_other,
           g->openblas_core_other, g->other_env);
}

double bench_gemm_best_f32(const bench_gemm_result *g) {
    double b = g->onednn_f32;
    if (g->openblas_f32 > b) b = g->openblas_f32;
    if (g->openblas_f32_other > b) b = g->openblas_f32_other;
    return b;
}

int bench_gemm(int argc, char **argv) {
    int threads = omp_get_num_procs(), child = 0;
    for (int i = 1; i < argc; i++) {
        if (arg_is_help(argv[i])) {
            printf("usage: actlab bench gemm [--threads T] [--json FILE]\n\n"
                   "The GEMM rates `bench train` compares against, in the anchor FFN's shapes: oneDNN bf16,\n"
                   "oneDNN f32, OpenBLAS f32 with OPENBLAS_CORETYPE as set and toggled (a child process).\n");
            return 0;
        }
        if (!strcmp(argv[i], "--threads")) threads = (int)arg_long("bench gemm", argv[i], arg_value("bench gemm", argc, argv, &i), 1, 1024);
        else if (!strcmp(argv[i], "--child")) child = 1;
        else usage_error("bench gemm", "unknown option '%s'", argv[i]);
    }
    omp_set_num_threads(threads);
    if (child) {  // the parent reads "rate core"
        printf("%.3f %s\n", rate(K_BLAS), openblas_get_corename());
        return 0;
    }
    json_t *cfg = bench_configure(threads);
    json_decref(cfg);
    bench_gemm_result g;
    bench_gemm_rates(&g, threads);
    bench_gemm_print(&g);
    return 0;
}
