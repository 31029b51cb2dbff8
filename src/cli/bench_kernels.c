// bench_kernels.c — `actlab bench kernels`: every activation, forward and forward+backward, f32 and
// bf16 storage, against the memory-bandwidth floor of a copy measured in the same run.
#include "actlab.h"
#include "args.h"
#include "bench_util.h"
#ifdef ACTLAB_HAVE_CUDA
#include "actlab_cuda.h"
#endif
#include "util/check.h"
#include "util/rng.h"
#include "util/timer.h"

#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long rows, cols, reps;
    int threads, cuda, use_min;
    const char *json, *anchor;
} bench_opts;

static void help(void) {
    printf("usage: actlab bench kernels [--rows R] [--cols C] [--reps N] [--threads T] [--json FILE]\n"
           "                            [--anchor-json FILE]\n\n"
           "Times act_forward and act_forward+act_backward for every activation on an R x C problem\n"
           "(gated: gate and value each R x C), f32 and bf16 storage, median of N runs, beside a\n"
           "STREAM-style copy measured in the same run. 'x floor' = time / (bytes moved / copy rate):\n"
           "1.0 is the memory-bandwidth limit. Targets (PERFORMANCE.md): the cheap activations within\n"
           "2x of the floor; PowLU and PolyNorm >= 5x faster than PyTorch CPU on the same shape.\n\n"
           "options:\n"
           "  --rows R             default 4096\n"
           "  --cols C             default 2048\n"
           "  --reps N             timed runs per measurement, median reported (default 15)\n"
           "  --min                report the fastest run instead of the median, for the copy and every\n"
           "                       kernel: on a machine shared with other jobs it estimates the uncontended\n"
           "                       time, where the median measures the contention\n"
           "  --threads T          OpenMP threads (default: all cores)\n"
           "  --json FILE          results (default out/bench-kernels.json)\n"
           "  --device cpu|cuda    cuda: the fused GPU kernels, bf16, default 16384 x 8192, against a\n"
           "                       device-to-device copy (needs a build with CUDA and a GPU)\n"
           "  --anchor-json FILE   PyTorch CPU timings from scripts/torch_anchor.py kernels, for the speed-up column\n");
}

// The statistic reported over reps timed runs: the median, or (--min) the fastest. Sorts t.
static double summary(double *t, long reps, int use_min) {
    double m = bench_median(t, reps);
    return use_min ? t[0] : m;
}

// Copy rate in bytes/s, counting the bytes read plus the bytes written, as STREAM does.
static double copy_rate(float *dst, const float *src, size_t n, long reps, int use_min) {
    double *t = xmalloc((size_t)reps * sizeof(double));
    for (long r = 0; r <= reps; r++) {
        double t0 = now_seconds();
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
        if (r) t[r - 1] = now_seconds() - t0;  // the first run only warms up
    }
    double best = summary(t, reps, use_min);
    free(t);
    return 2.0 * (double)n * sizeof(float) / best;
}

typedef struct {
    void *x, *u, *dy, *y, *dx, *du;
} buffers;

static void fill(void *p, act_dtype dt, size_t n, rng_t *rng, float scale) {
    for (size_t i = 0; i < n; i++) {
        float v = scale * rng_normal(rng);
        if (dt == ACT_F32) ((float *)p)[i] = v;
        else ((uint16_t *)p)[i] = num_f32_to_bf16(v);
    }
}

// Median seconds of forward (bwd = 0) or forward + backward (bwd = 1).
static double time_op(const act_spec *s, act_dtype dt, const bench_opts *o, buffers *b, const float *params, int bwd) {
    const act_desc *d = act_desc_of(s->kind);
    float dparams[ACT_MAX_PARAMS] = {0};
    double *t = xmalloc((size_t)o->reps * sizeof(double));
    for (long r = 0; r <= o->reps; r++) {
        double t0 = now_seconds();
        act_forward(s, dt, (size_t)o->rows, (size_t)o->cols, b->x, d->gated ? b->u : NULL, params, b->y);
        if (bwd)
            act_backward(s, dt, (size_t)o->rows, (size_t)o->cols, b->x, d->gated ? b->u : NULL, params, b->dy, b->dx,
                         d->gated ? b->du : NULL, dparams);
        if (r) t[r - 1] = now_seconds() - t0;
    }
    double m = summary(t, o->reps, o->use_min);
    free(t);
    return m;
}

// PyTorch's times for one activation from the anchor's "kernels" list, if it has that activation.
static int anchor_times(json_t *anchor, const char *name, double *fwd_ms, double *fb_ms) {
    json_t *row = bench_anchor_row(anchor, "kernels", name);
    if (!row) return 0;
    *fwd_ms = json_number_value(json_object_get(row, "fwd_ms"));
    *fb_ms = json_number_value(json_object_get(row, "fwdbwd_ms"));
    return *fwd_ms > 0 && *fb_ms > 0;
}

static int is_cheap(act_kind k) {
    return k != ACT_GELU_ERF && k != ACT_POWLU && k != ACT_POWLU_SCALAR && k != ACT_POLYNORM;
}

static void parse(bench_opts *o, int argc, char **argv) {
    o->rows = 4096, o->cols = 2048, o->reps = 15, o->threads = omp_get_num_procs();
    o->json = "out/bench-kernels.json", o->anchor = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { help(); exit(0); }
        else if (!strcmp(a, "--rows")) o->rows = arg_long("bench kernels", a, arg_value("bench kernels", argc, argv, &i), 1, 1 << 20);
        else if (!strcmp(a, "--cols")) o->cols = arg_long("bench kernels", a, arg_value("bench kernels", argc, argv, &i), 1, 1 << 20);
        else if (!strcmp(a, "--reps")) o->reps = arg_long("bench kernels", a, arg_value("bench kernels", argc, argv, &i), 1, 10000);
        else if (!strcmp(a, "--threads")) o->threads = (int)arg_long("bench kernels", a, arg_value("bench kernels", argc, argv, &i), 1, 1024);
        else if (!strcmp(a, "--json")) o->json = arg_value("bench kernels", argc, argv, &i);
        else if (!strcmp(a, "--anchor-json")) o->anchor = arg_value("bench kernels", argc, argv, &i);
        else if (!strcmp(a, "--min")) o->use_min = 1;
        else if (!strcmp(a, "--device")) {
            const char *v = arg_value("bench kernels", argc, argv, &i);
            if (strcmp(v, "cpu") && strcmp(v, "cuda")) usage_error("bench kernels", "--device is cpu or cuda, not '%s'", v);
            o->cuda = !strcmp(v, "cuda");
        }
        else usage_error("bench kernels", "unknown option '%s'", a);
    }
}

// The GPU benchmark lives with the kernels (src/cuda/bench_cuda.cu); its sizes default larger.
static int bench_kernels_cuda(bench_opts *o, int rows_given, int cols_given) {
#ifdef ACTLAB_HAVE_CUDA
    return actlab_cuda_bench_kernels(o->json, rows_given ? (int)o->rows : 16384, cols_given ? (int)o->cols : 8192);
#else
    (void)o, (void)rows_given, (void)cols_given;
    die("configure with -DACTLAB_CUDA=ON on a machine with nvcc", "this actlab was built without CUDA");
#endif
}

int bench_kernels(int argc, char **argv) {
    bench_opts o;
    memset(&o, 0, sizeof o);
    parse(&o, argc, argv);
    if (o.cuda) {
        int rows_given = 0, cols_given = 0;
        for (int i = 1; i < argc; i++) rows_given |= !strcmp(argv[i], "--rows"), cols_given |= !strcmp(argv[i], "--cols");
        return bench_kernels_cuda(&o, rows_given, cols_given);
    }
    json_t *config = bench_configure(o.threads), *anchor = bench_load_anchor(o.anchor, "kernels");
    const size_t n = (size_t)o.rows * (size_t)o.cols;
    rng_t rng;
    rng_seed(&rng, 1234);
    float *c0 = xaligned(n * sizeof(float)), *c1 = xaligned(n * sizeof(float));
    fill(c1, ACT_F32, n, &rng, 1.0f);
    const double bw = copy_rate(c0, c1, n, o.reps, o.use_min);
    free(c0);
    free(c1);
    printf("actlab bench kernels: %ld x %ld, %d threads, %s of %ld runs; copy %.1f GB/s (read+write)\n", o.rows,
           o.cols, o.threads, o.use_min ? "fastest" : "median", o.reps, bw / 1e9);
    printf("%-13s %-5s %9s %7s %11s %7s %10s\n", "activation", "dtype", "fwd ms", "x floor", "fwd+bwd ms", "x floor",
           "vs torch");

    json_t *root = json_object(), *rows = json_array();
    json_object_set_new(root, "benchmark", json_string("kernels"));
    json_object_set_new(root, "rows", json_integer(o.rows));
    json_object_set_new(root, "cols", json_integer(o.cols));
    json_object_set_new(root, "config", config);
    json_object_set_new(root, "reps", json_integer(o.reps));
    json_object_set_new(root, "statistic", json_string(o.use_min ? "min" : "median"));
    json_object_set_new(root, "copy_gbs", json_real(bw / 1e9));
    int cheap_ok = 1, cheap_n = 0, torch_ok = 1, torch_n = 0;
    for (int dti = 0; dti < 2; dti++) {
        act_dtype dt = dti ? ACT_BF16 : ACT_F32;
        size_t es = act_dtype_size(dt);
        buffers b;
        void **all[6] = {&b.x, &b.u, &b.dy, &b.y, &b.dx, &b.du};
        for (int k = 0; k < 6; k++) *all[k] = xaligned(n * es);
        fill(b.x, dt, n, &rng, 2.0f);
        fill(b.u, dt, n, &rng, 1.0f);
        fill(b.dy, dt, n, &rng, 1.0f);
        for (int k = 0; k < ACT_COUNT; k++) {
            const act_desc *d = act_desc_of((act_kind)k);
            act_spec s;
            act_spec_init(&s, d->name);
            float params[ACT_MAX_PARAMS];
            act_params_init(s.kind, params);
            double tf = time_op(&s, dt, &o, &b, params, 0), tfb = time_op(&s, dt, &o, &b, params, 1);
            // Arrays streamed: forward reads x (and u), writes y; backward reads x (u) dy, writes dx (du).
            double in_f = d->gated ? 2 : 1, out_f = 1, in_b = d->gated ? 3 : 2, out_b = d->gated ? 2 : 1;
            double floor_f = (in_f + out_f) * (double)(n * es) / bw;
            double floor_fb = floor_f + (in_b + out_b) * (double)(n * es) / bw;
            double tw_f = 0, tw_fb = 0, speed = 0;
            int has_torch = dt == ACT_F32 && anchor_times(anchor, d->name, &tw_f, &tw_fb);
            if (has_torch) speed = tw_fb / (tfb * 1e3);
            char vs[32] = "";
            if (has_torch) snprintf(vs, sizeof vs, "%.1fx/%.1fx", tw_f / (tf * 1e3), speed);
            printf("%-13s %-5s %9.2f %7.2f %11.2f %7.2f %10s\n", d->name, dt ? "bf16" : "f32", tf * 1e3, tf / floor_f,
                   tfb * 1e3, tfb / floor_fb, vs);
            if (is_cheap(s.kind)) {
                cheap_n++;
                cheap_ok &= tf / floor_f <= 2.0 && tfb / floor_fb <= 2.0;
            }
            if (has_torch && (s.kind == ACT_POWLU || s.kind == ACT_POLYNORM)) {
                torch_n++;
                torch_ok &= tw_f / (tf * 1e3) >= 5.0 && speed >= 5.0;
            }
            json_t *r = json_object();
            json_object_set_new(r, "act", json_string(d->name));
            json_object_set_new(r, "dtype", json_string(dt ? "bf16" : "f32"));
            json_object_set_new(r, "fwd_ms", json_real(tf * 1e3));
            json_object_set_new(r, "fwdbwd_ms", json_real(tfb * 1e3));
            json_object_set_new(r, "fwd_floor_ms", json_real(floor_f * 1e3));
            json_object_set_new(r, "fwdbwd_floor_ms", json_real(floor_fb * 1e3));
            json_object_set_new(r, "fwd_x_floor", json_real(tf / floor_f));
            json_object_set_new(r, "fwdbwd_x_floor", json_real(tfb / floor_fb));
            if (has_torch) {
                json_object_set_new(r, "torch_fwd_ms", json_real(tw_f));
                json_object_set_new(r, "torch_fwdbwd_ms", json_real(tw_fb));
                json_object_set_new(r, "speedup_fwd_vs_torch", json_real(tw_f / (tf * 1e3)));
                json_object_set_new(r, "speedup_fwdbwd_vs_torch", json_real(speed));
            }
            json_array_append_new(rows, r);
        }
        for (int k = 0; k < 6; k++) free(*all[k]);
    }
    json_object_set_new(root, "results", rows);
    json_object_set_new(root, "target_cheap_within_2x_floor", json_boolean(cheap_ok));
    if (torch_n) json_object_set_new(root, "target_powlu_polynorm_5x_torch", json_boolean(torch_ok));
    printf("\ntarget: cheap activations within 2x of the floor (fwd and fwd+bwd, %d rows): %s\n", cheap_n,
           cheap_ok ? "met" : "NOT met");
    if (torch_n)
        printf("target: PowLU and PolyNorm >= 5x faster than PyTorch CPU (f32, fwd and fwd+bwd): %s\n",
               torch_ok ? "met" : "NOT met");
    else
        printf("target: PowLU/PolyNorm vs PyTorch not evaluated (pass --anchor-json; make bench does)\n");
    bench_write_json(root, o.json);
    json_decref(root);
    json_decref(anchor);
    return 0;
}
