// bench_model.c — the model's training-step speed on the anchor configuration (not a test: no
// timing is asserted anywhere). Prints tokens/s, the time per section, and model FLOP utilisation
// against the measured sgemm rate. AdamW here is a plain loop standing in for the trainer's.
//
//   OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 build/tests/bench_model [act] [steps] [B] [T]
#include "model/model.h"
#include "util/check.h"
#include "util/timer.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_seconds(void) {  // this process's CPU time: immune to other processes' load
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long page_faults(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt + r.ru_majflt;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double sgemm_gflops(void) {
    int n = 1024;
    float *a = xaligned(sizeof(float) * n * n), *b = xaligned(sizeof(float) * n * n), *c = xaligned(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 6; r++) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now_seconds() - t0;
        if (r && t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * n / best / 1e9;
}

static void adamw(float *p, const float *g, float *m1, float *m2, size_t n, int t) {
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, wd = 0.1f;
    float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        m1[i] = b1 * m1[i] + (1 - b1) * g[i];
        m2[i] = b2 * m2[i] + (1 - b2) * g[i] * g[i];
        p[i] -= lr * ((m1[i] / c1) / (sqrtf(m2[i] / c2) + 1e-8f) + wd * p[i]);
    }
}

int main(int argc, char **argv) {
    model_config c;
    model_config_default(&c);
    const char *act = argc > 1 ? argv[1] : "swiglu";
    int steps = argc > 2 ? atoi(argv[2]) : 6, B = argc > 3 ? atoi(argv[3]) : 16, T = argc > 4 ? atoi(argv[4]) : 256;
    if (act_spec_init(&c.act, act) != 0 || steps < 2 || B < 1 || T < 1) {
        fprintf(stderr, "usage: bench_model [activation] [steps >= 2] [B] [T]\n");
        return 2;
    }
    c.max_seq_len = T;
    openblas_set_num_threads(omp_get_max_threads());
    double peak = sgemm_gflops();
    model *m = model_create(&c, 1);
    size_t n = model_num_params(m);
    int N = B * T;
    int32_t *tok = xmalloc(sizeof(int32_t) * N), *tgt = xmalloc(sizeof(int32_t) * N);
    for (int i = 0; i < N; i++) tok[i] = (int32_t)((i * 7919u) % c.vocab_size), tgt[i] = (int32_t)((i * 104729u + 3) % c.vocab_size);
    float *m1 = xcalloc(n, sizeof(float)), *m2 = xcalloc(n, sizeof(float));
    double *fb = xmalloc(sizeof(double) * steps), *opt = xmalloc(sizeof(double) * steps);
    double *cpu = xmalloc(sizeof(double) * steps);
    float loss = 0;
    for (int s = 0; s < steps; s++) {
        if (s == 1) model_timings_reset(m);  // step 0 warms up (allocation, page faults)
        double t0 = now_seconds(), c0 = cpu_seconds();
        long f0 = page_faults();
        loss = model_forward(m, tok, tgt, B, T);
        model_zero_grad(m);
        model_backward(m);
        double t1 = now_seconds();
        adamw(model_params(m), model_grads(m), m1, m2, n, s + 1);
        fb[s] = t1 - t0, opt[s] = now_seconds() - t1, cpu[s] = cpu_seconds() - c0;
        if (s == steps - 1) printf("page faults in the last step: %ld\n", page_faults() - f0);
    }
    qsort(fb + 1, steps - 1, sizeof(double), cmp_double);
    qsort(opt + 1, steps - 1, sizeof(double), cmp_double);
    qsort(cpu + 1, steps - 1, sizeof(double), cmp_double);
    double tfb = fb[1 + (steps - 1) / 2], topt = opt[1 + (steps - 1) / 2], flops = model_flops_per_token(m, T) * N;
    printf("activation %s, %.2fM parameters, B %d T %d, %d threads (OpenBLAS core %s), loss %.3f\n", act, n / 1e6, B, T,
           omp_get_max_threads(), openblas_get_corename(), loss);
    printf("sgemm 1024^3: %.0f GFLOP/s wall (%d threads)\n", peak, omp_get_max_threads());
    printf("fwd+bwd %.1f ms (%.0f tokens/s), AdamW %.1f ms, step %.1f ms: %.0f tokens/s\n", tfb * 1e3, N / tfb, topt * 1e3,
           (tfb + topt) * 1e3, N / (tfb + topt));
    printf("model FLOPs %.1f GFLOP/step: %.0f GFLOP/s fwd+bwd = %.0f%% of sgemm; whole step %.0f%%\n", flops / 1e9,
           flops / tfb / 1e9, 100 * flops / tfb / 1e9 / peak, 100 * flops / (tfb + topt) / 1e9 / peak);
    // On a loaded machine the wall clock counts time our threads spent descheduled. CPU time
    // does not (run with OMP_WAIT_POLICY=passive so that idle threads sleep instead of spinning):
    // CPU time / threads is what the step would take on idle cores with perfect balance.
    double tcpu = cpu[1 + (steps - 1) / 2] / omp_get_max_threads();
    printf("CPU time per step / %d threads: %.1f ms: %.0f tokens/s, %.0f GFLOP/s (an idle-machine estimate)\n",
           omp_get_max_threads(), tcpu * 1e3, N / tcpu, flops / tcpu / 1e9);
    model_timing tm[32];
    int k = model_timings(m, tm, 32);
    double sum = 0;
    for (int i = 0; i < k; i++) sum += tm[i].forward_s + tm[i].backward_s;
    printf("%-28s %10s %10s %7s   (per step, median-free averages over %d steps)\n", "section", "fwd ms", "bwd ms", "share", steps - 1);
    for (int i = 0; i < k; i++)
        printf("%-28s %10.2f %10.2f %6.1f%%\n", tm[i].name, tm[i].forward_s * 1e3 / (steps - 1), tm[i].backward_s * 1e3 / (steps - 1),
               100 * (tm[i].forward_s + tm[i].backward_s) / sum);
    model_free(m);
    free(tok), free(tgt), free(m1), free(m2), free(fb), free(opt), free(cpu);
    return 0;
}
