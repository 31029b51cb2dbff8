// test_cuda_kernels.c — every CUDA kernel against the CPU reference (act_forward/act_backward):
// fresh random inputs each run (seed printed, ACTLAB_SEED replays), sizes that are not multiples
// of the vector width, misaligned pointers (the scalar path, which must give the same bits as the
// vector path), outputs poisoned with NaN before each call, NaN/inf/edge inputs, bitwise
// run-to-run determinism, and the FP8 E4M3 forward against an encoder written here.
// Without a CUDA device it prints "skipped: no CUDA device" and exits 77 (CTest's skip code).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "actlab.h"
#include "actlab_cuda.h"
#include "util/rng.h"
#include "cuda_test_util.h"

#include <cuda_runtime_api.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_seed;
static rng_t g_rng;

#define CK(call)                                                                                          \
    do {                                                                                                  \
        cudaError_t e_ = (call);                                                                          \
        if (e_ != cudaSuccess) fail_msg("%s:%d: %s: %s", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
    } while (0)
#define CKA(call)                                                                                         \
    do {                                                                                                  \
        int e_ = (call);                                                                                  \
        if (e_ != 0) fail_msg("%s:%d: %s: %s", __FILE__, __LINE__, #call, actlab_cuda_strerror(e_));     \
    } while (0)

// ---- storage helpers: host values are f32, already representable in the case's dtype -------

static size_t esz(act_dtype dt) { return dt == ACT_F32 ? 4 : 2; }

static void *to_storage(act_dtype dt, const float *v, size_t n) {
    void *p = malloc(n * esz(dt) + 1);
    if (dt == ACT_F32) memcpy(p, v, n * 4);
    else num_f32_to_bf16_array(v, p, n);
    return p;
}

static void from_storage(act_dtype dt, const void *p, float *v, size_t n) {
    if (dt == ACT_F32) memcpy(v, p, n * 4);
    else num_bf16_to_f32_array(p, v, n);
}

static float round_dt(act_dtype dt, float v) { return dt == ACT_F32 ? v : num_bf16_to_f32(num_f32_to_bf16(v)); }

// A device array of n elements starting `off` elements past a 256-byte boundary (off = 1 makes
// every access misaligned for 16-byte vectors). dev_free takes the pointer dev_alloc returned.
typedef struct {
    char *base;
    void *p;
} dbuf;

static dbuf dev_alloc(size_t bytes, size_t off_bytes) {
    dbuf b;
    CK(cudaMalloc((void **)&b.base, bytes + off_bytes + 16));
    b.p = b.base + off_bytes;
    return b;
}
static void dev_free(dbuf b) { CK(cudaFree(b.base)); }
static dbuf dev_upload(const void *host, size_t bytes, size_t off_bytes) {
    dbuf b = dev_alloc(bytes, off_bytes);
    CK(cudaMemcpy(b.p, host, bytes, cudaMemcpyHostToDevice));
    return b;
}
static dbuf dev_poisoned(size_t bytes, size_t off_bytes) {  // 0xFF.. is NaN in f32, bf16 and E4M3
    dbuf b = dev_alloc(bytes, off_bytes);
    CK(cudaMemset(b.base, 0xFF, bytes + off_bytes + 16));
    return b;
}
static void download(void *host, dbuf b, size_t bytes) { CK(cudaMemcpy(host, b.p, bytes, cudaMemcpyDeviceToHost)); }

// GPU against CPU: f32 within a few ulps, bf16 within one bf16 ulp (docs/cuda.md).
static int compare(const char *what, const char *act, act_dtype dt, const float *ref, const float *got, size_t n,
                   const float *in) {
    return dt == ACT_F32 ? cmp_arrays(what, act, "f32", 1e-5, 1e-6, ref, got, n, in)
                         : cmp_arrays(what, act, "bf16", 1.0 / 128, 1e-4, ref, got, n, in);
}

// ---- OCP FP8 E4M3 reference encoder: RNE, saturating to ±448, NaN -> 0x7F -----------------

static uint8_t e4m3_encode(float v) {
    if (isnan(v)) return 0x7F;
    const uint8_t sign = signbit(v) ? 0x80 : 0x00;
    const float a = fabsf(v);
    if (a >= 448.0f) return sign | 0x7E;
    if (a < 0.015625f) return sign | (uint8_t)nearbyintf(a * 512.0f);  // subnormals: k·2^-9 (k = 8 is 2^-6)
    int e;
    const float f = frexpf(a, &e);  // a = f·2^e, f in [0.5, 1)
    int E = e - 1, mant = (int)nearbyintf((2.0f * f - 1.0f) * 8.0f);
    if (mant == 8) mant = 0, E++;
    int code = ((E + 7) << 3) | mant;
    return sign | (uint8_t)(code > 0x7E ? 0x7E : code);
}

static int e4m3_is_nan(uint8_t c) { return (c & 0x7F) == 0x7F; }

// The GPU code must be the encoding of y·scale, allowing for y within `margin` relative of the
// value the GPU held (its f32 y may differ from `y` by a few ulps or, for bf16 inputs, by its
// approximate math).
static int fp8_ok(uint8_t got, float y, float scale, double margin) {
    const float v = y * scale;
    const uint8_t c0 = e4m3_encode(v);
    if (e4m3_is_nan(c0) || e4m3_is_nan(got)) return e4m3_is_nan(c0) && e4m3_is_nan(got);
    if (got == c0 || ((got | c0) & 0x7F) == 0) return 1;  // equal, or +0 / −0
    return got == e4m3_encode((float)(v * (1.0 - margin))) || got == e4m3_encode((float)(v * (1.0 + margin)));
}

// ---- one test case ----------------------------------------------------------------------------

typedef struct {
    act_spec s;
    const act_desc *d;
    act_dtype dt;
    size_t rows, cols, n;
    float *x, *u, *dy;  // host inputs, representable in dt
    float params[ACT_MAX_PARAMS], dparams0[ACT_MAX_PARAMS];
} tcase;

// Inputs: mostly N(0, 2.5²), plus magnitudes spread log-uniformly over 1e-6 .. 1e4 (PowLU's tiny
// and huge regions, both sides of SwiGLU-Clip's limit). PolyNorm rows stay moderate.
static float draw(int wide) {
    float r = rng_uniform(&g_rng);
    if (wide && r < 0.1f) {
        float mag = powf(10.0f, -6.0f + 10.0f * rng_uniform(&g_rng));
        return rng_uniform(&g_rng) < 0.5f ? -mag : mag;
    }
    return 2.5f * rng_normal(&g_rng);
}

static tcase make_case(act_kind kind, act_dtype dt, size_t rows, size_t cols) {
    tcase c;
    memset(&c, 0, sizeof c);
    c.d = act_desc_of(kind);
    assert_non_null(c.d);
    assert_int_equal(act_spec_init(&c.s, c.d->name), 0);
    c.dt = dt, c.rows = rows, c.cols = cols, c.n = rows * cols;
    c.x = malloc(c.n * sizeof(float));
    c.u = malloc(c.n * sizeof(float));
    c.dy = malloc(c.n * sizeof(float));
    for (size_t i = 0; i < c.n; i++) {
        c.x[i] = round_dt(dt, draw(!c.d->rowwise));
        c.u[i] = round_dt(dt, draw(0));
        c.dy[i] = round_dt(dt, rng_normal(&g_rng));
    }
    if (c.d->n_params) {
        act_params_init(kind, c.params);
        for (int k = 0; k < c.d->n_params; k++) c.params[k] += 0.2f * rng_normal(&g_rng);
    }
    for (int k = 0; k < ACT_MAX_PARAMS; k++) c.dparams0[k] = rng_normal(&g_rng);
    return c;
}

static void free_case(tcase *c) {
    free(c->x);
    free(c->u);
    free(c->dy);
}

// GPU results of one case: forward y, backward dx/du/dparams, FP8 codes and amax.
typedef struct {
    float *y, *dx, *du, dparams[ACT_MAX_PARAMS], amax;
    uint8_t *y8;
} results;

static void free_results(results *r) {
    free(r->y);
    free(r->dx);
    free(r->du);
    free(r->y8);
}

static results run_gpu(const tcase *c, size_t off, float scale) {
    const size_t bytes = c->n * esz(c->dt), ob = off * esz(c->dt);
    results r;
    memset(&r, 0, sizeof r);
    void *hx = to_storage(c->dt, c->x, c->n), *hu = to_storage(c->dt, c->u, c->n), *hdy = to_storage(c->dt, c->dy, c->n);
    dbuf x = dev_upload(hx, bytes, ob), u = dev_upload(hu, bytes, ob), dy = dev_upload(hdy, bytes, ob);
    dbuf y = dev_poisoned(bytes, ob), dx = dev_poisoned(bytes, ob), du = dev_poisoned(bytes, ob);
    dbuf y8 = dev_poisoned(c->n, off), params = dev_upload(c->params, sizeof c->params, 0);
    dbuf dparams = dev_upload(c->dparams0, sizeof c->dparams0, 0), sc = dev_upload(&scale, sizeof scale, 0);
    dbuf amax = dev_poisoned(sizeof(float), 0);
    const void *up = c->d->gated ? u.p : NULL;
    const float *pp = c->d->n_params ? params.p : NULL;
    CKA(actlab_cuda_forward(&c->s, c->dt, c->rows, c->cols, x.p, up, pp, y.p, NULL));
    CKA(actlab_cuda_backward(&c->s, c->dt, c->rows, c->cols, x.p, up, pp, dy.p, dx.p, c->d->gated ? du.p : NULL,
                             c->d->n_params ? dparams.p : NULL, NULL));
    CKA(actlab_cuda_forward_fp8(&c->s, c->dt, c->rows, c->cols, x.p, up, pp, sc.p, y8.p, amax.p, NULL));
    CK(cudaDeviceSynchronize());
    void *tmp = malloc(bytes);
    r.y = malloc(c->n * sizeof(float));
    r.dx = malloc(c->n * sizeof(float));
    r.du = malloc(c->n * sizeof(float));
    r.y8 = malloc(c->n);
    download(tmp, y, bytes), from_storage(c->dt, tmp, r.y, c->n);
    download(tmp, dx, bytes), from_storage(c->dt, tmp, r.dx, c->n);
    if (c->d->gated) download(tmp, du, bytes), from_storage(c->dt, tmp, r.du, c->n);
    download(r.y8, y8, c->n);
    download(r.dparams, dparams, sizeof r.dparams);
    download(&r.amax, amax, sizeof r.amax);
    free(tmp);
    free(hx), free(hu), free(hdy);
    dbuf all[] = {x, u, dy, y, dx, du, y8, params, dparams, sc, amax};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) dev_free(all[i]);
    return r;
}

// CPU reference of the case, in the case's dtype.
static results run_cpu(const tcase *c) {
    results r;
    memset(&r, 0, sizeof r);
    const size_t bytes = c->n * esz(c->dt);
    void *hx = to_storage(c->dt, c->x, c->n), *hu = c->d->gated ? to_storage(c->dt, c->u, c->n) : NULL;
    void *hdy = to_storage(c->dt, c->dy, c->n), *y = malloc(bytes), *dx = malloc(bytes), *du = malloc(bytes);
    const float *pp = c->d->n_params ? c->params : NULL;
    memcpy(r.dparams, c->dparams0, sizeof r.dparams);
    act_forward(&c->s, c->dt, c->rows, c->cols, hx, hu, pp, y);
    act_backward(&c->s, c->dt, c->rows, c->cols, hx, hu, pp, hdy, dx, c->d->gated ? du : NULL, r.dparams);
    r.y = malloc(c->n * sizeof(float));
    r.dx = malloc(c->n * sizeof(float));
    r.du = malloc(c->n * sizeof(float));
    from_storage(c->dt, y, r.y, c->n);
    from_storage(c->dt, dx, r.dx, c->n);
    if (c->d->gated) from_storage(c->dt, du, r.du, c->n);
    free(hx), free(hu), free(hdy), free(y), free(dx), free(du);
    return r;
}

// y in f32 from the case's (dt-valued) inputs, which is what the FP8 kernel scales: the GPU's own
// f32 forward for f32 cases (same math), the CPU's f32 forward for bf16 cases.
static float *y_f32(const tcase *c) {
    float *y = malloc(c->n * sizeof(float));
    const float *pp = c->d->n_params ? c->params : NULL;
    if (c->dt == ACT_BF16) {
        act_forward(&c->s, ACT_F32, c->rows, c->cols, c->x, c->d->gated ? c->u : NULL, pp, y);
        return y;
    }
    tcase f = *c;
    results g = run_gpu(&f, 0, 1.0f);
    memcpy(y, g.y, c->n * sizeof(float));
    free_results(&g);
    return y;
}

static int check_fp8(const tcase *c, const results *g, float scale) {
    float *y = y_f32(c);
    const double margin = c->dt == ACT_F32 ? 1e-6 : 1e-4;
    int bad = 0;
    uint32_t mx = 0;
    for (size_t i = 0; i < c->n; i++) {
        uint32_t b;
        float a = fabsf(y[i]);
        memcpy(&b, &a, 4);
        if (b > mx) mx = b;
        if (!fp8_ok(g->y8[i], y[i], scale, margin) && bad++ < 5)
            printf("  %s fp8: [%zu] y %.9g scale %g: gpu 0x%02x, expected 0x%02x\n", c->d->name, i, y[i], scale,
                   g->y8[i], e4m3_encode(y[i] * scale));
    }
    float want;
    memcpy(&want, &mx, 4);
    int amax_ok = isnan(want) ? isnan(g->amax) : (g->amax == want || fabs(g->amax - want) <= margin * want);
    if (!amax_ok) printf("  %s fp8: amax gpu %.9g, expected %.9g\n", c->d->name, g->amax, want), bad++;
    free(y);
    return bad;
}

static int bits_equal(const void *a, const void *b, size_t n) { return memcmp(a, b, n) == 0; }

static int same_results(const tcase *c, const results *a, const results *b) {
    const size_t n = c->n * sizeof(float);
    return bits_equal(a->y, b->y, n) && bits_equal(a->dx, b->dx, n) &&
           (!c->d->gated || bits_equal(a->du, b->du, n)) && bits_equal(a->dparams, b->dparams, sizeof a->dparams) &&
           bits_equal(a->y8, b->y8, c->n) && bits_equal(&a->amax, &b->amax, 4);
}

// Compares the GPU with the CPU on one case, then re-runs it (determinism) and misaligned (the
// scalar path must give the same bits as the vector path).
static int check_case(tcase *c, int edge) {
    const char *name = c->d->name;
    results cpu = run_cpu(c);
    double ymax = 0;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(cpu.y[i]) && fabs(cpu.y[i]) > ymax) ymax = fabs(cpu.y[i]);
    // A scale that saturates the largest few values sometimes, and exercises subnormals.
    const float scale = ymax > 0 ? (float)(448.0 / ymax * (0.25 + 1.5 * rng_uniform(&g_rng))) : 1.0f;
    results g = run_gpu(c, 0, scale);
    int bad = compare("forward y", name, c->dt, cpu.y, g.y, c->n, c->x);
    bad += compare("backward dx", name, c->dt, cpu.dx, g.dx, c->n, c->x);
    if (c->d->gated) bad += compare("backward du", name, c->dt, cpu.du, g.du, c->n, c->u);
    for (int k = 0; k < c->d->n_params; k++) {
        double r = cpu.dparams[k], v = g.dparams[k];
        if (!(v == r || fabs(v - r) <= 1e-5 * (fabs(r) + 1.0)) && !(edge && isnan(r) && isnan(v)))
            printf("  %s dparams[%d]: gpu %.9g, cpu %.9g\n", name, k, v, r), bad++;
    }
    bad += check_fp8(c, &g, scale);
    results again = run_gpu(c, 0, scale);
    if (!same_results(c, &g, &again)) printf("  %s: a second run gave different bits\n", name), bad++;
    results mis = run_gpu(c, 1, scale);
    if (!same_results(c, &g, &mis)) printf("  %s: misaligned pointers gave different bits\n", name), bad++;
    if (bad)
        printf("FAIL %s %s %zux%zu (seed %llu)\n", name, c->dt == ACT_F32 ? "f32" : "bf16", c->rows, c->cols,
               (unsigned long long)g_seed);
    free_results(&cpu), free_results(&g), free_results(&again), free_results(&mis);
    return bad;
}

// ---- tests --------------------------------------------------------------------------------------

static const size_t kShapes[][2] = {{1, 1}, {1, 7}, {3, 1000}, {2, 4099}, {5, 333}, {2, 9001}};

static void test_random_inputs(void **state) {
    (void)state;
    int bad = 0;
    for (int dt = ACT_F32; dt <= ACT_BF16; dt++)
        for (int k = 0; k < ACT_COUNT; k++)
            for (size_t s = 0; s < sizeof kShapes / sizeof kShapes[0]; s++) {
                tcase c = make_case((act_kind)k, (act_dtype)dt, kShapes[s][0], kShapes[s][1]);
                bad += check_case(&c, 0);
                free_case(&c);
            }
    assert_int_equal(bad, 0);
}

// Every edge value as x or z, paired with every edge value as u (gated), with finite dy.
static void test_edge_inputs(void **state) {
    (void)state;
    int bad = 0;
    for (int dt = ACT_F32; dt <= ACT_BF16; dt++)
        for (int k = 0; k < ACT_COUNT; k++) {
            const act_desc *d = act_desc_of((act_kind)k);
            tcase c = make_case((act_kind)k, (act_dtype)dt, d->rowwise ? 4 : cuda_test_n_edge, d->rowwise ? 11 : cuda_test_n_edge);
            for (size_t i = 0; i < c.n; i++) {
                c.x[i] = round_dt(c.dt, cuda_test_edge[i % cuda_test_n_edge]);
                c.u[i] = round_dt(c.dt, cuda_test_edge[(i / cuda_test_n_edge) % cuda_test_n_edge]);
            }
            if (d->rowwise) {  // rows: finite moderate, huge, zeros and tiny, one NaN
                for (size_t i = 0; i < 11; i++) {
                    c.x[i] = round_dt(c.dt, 0.3f * (float)i - 1.0f);
                    c.x[11 + i] = round_dt(c.dt, i % 3 ? 3.0f : (i % 2 ? -1e15f : 1e20f));
                    c.x[22 + i] = round_dt(c.dt, i % 2 ? 0.0f : 1e-30f);
                    c.x[33 + i] = round_dt(c.dt, i == 5 ? NAN : 1.0f);
                }
            }
            bad += check_case(&c, 1);
            free_case(&c);
        }
    assert_int_equal(bad, 0);
}

// Bad arguments are refused with ACTLAB_CUDA_EINVAL, never launched.
static void test_invalid_arguments(void **state) {
    (void)state;
    act_spec s;
    assert_int_equal(act_spec_init(&s, "swiglu"), 0);
    float *p;
    CK(cudaMalloc((void **)&p, 64));
    assert_int_equal(actlab_cuda_forward(&s, ACT_F32, 1, 4, p, NULL, NULL, p, NULL), ACTLAB_CUDA_EINVAL);
    assert_int_equal(actlab_cuda_forward(NULL, ACT_F32, 1, 4, p, p, NULL, p, NULL), ACTLAB_CUDA_EINVAL);
    assert_int_equal(actlab_cuda_forward(&s, (act_dtype)7, 1, 4, p, p, NULL, p, NULL), ACTLAB_CUDA_EINVAL);
    assert_int_equal(act_spec_init(&s, "polynorm"), 0);
    assert_int_equal(actlab_cuda_backward(&s, ACT_F32, 1, 4, p, NULL, NULL, p, p, NULL, NULL, NULL),
                     ACTLAB_CUDA_EINVAL);
    assert_int_equal(actlab_cuda_forward(&s, ACT_F32, 0, 4, NULL, NULL, NULL, NULL, NULL), 0);
    CK(cudaFree(p));
}

int main(void) {
    if (!actlab_cuda_available()) {
        printf("skipped: no CUDA device\n");
        return 77;
    }
    g_seed = cuda_test_seed(&g_rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_inputs),
        cmocka_unit_test(test_edge_inputs),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
