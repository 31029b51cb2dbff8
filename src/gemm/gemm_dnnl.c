// gemm_dnnl.c — oneDNN matmul primitives for one row tile, single-threaded, cached per shape.
//
// Why single-threaded primitives: oneDNN picks its blocking (and so its summation order) from
// the thread count it sees when a primitive is created, and Debian's libdnnl2 threads with
// OpenMP (libgomp). Creating and running every primitive with the calling thread's OpenMP
// thread count set to 1 makes the result a function of the shape alone; gemm.c threads across
// row tiles instead, as it does for OpenBLAS.
//
// Creating a primitive costs milliseconds (JIT), so primitives live in a cache keyed by
// everything that shapes them; the model's products have a handful of shapes. The scratchpad is
// user-managed, one buffer per OpenMP thread number, so tiles can run concurrently.
#include "gemm_dnnl.h"

#include "util/check.h"

#include <dnnl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    gemm_dnnl_key key;
    dnnl_primitive_t prim;
    size_t scratch_bytes;
} cached;

static dnnl_engine_t engine;
static cached **cache;  // entries stay put: callers hold pointers across later creations
static int n_cached, cap_cached;

// Per OpenMP thread number: a stream and a scratchpad. Held in globals rather than thread-local
// storage so that they stay reachable (a forked child, e.g. a test's, has no worker threads).
typedef struct {
    dnnl_stream_t stream;
    void *scratch;
    size_t scratch_bytes;
} per_thread;
static per_thread *slots;
static int n_slots;

static void ok(dnnl_status_t s, const char *what) {
    if (s != dnnl_success)
        die("oneDNN (libdnnl2) must support this matmul on this CPU; scripts/setup.sh installs libdnnl-dev",
            "oneDNN %s failed with status %d", what, (int)s);
}

// The calling thread's OpenMP thread count set to 1 around fn-like sections (see the top).
static int single_begin(void) {
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    return saved;
}
static void single_end(int saved) { omp_set_num_threads(saved); }

static void ensure_engine(void) {
    if (!engine) ok(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine creation");
}

// (rows, cols) of element type dt, transposed storage when t: stride 1 along rows.
static void matrix_md(dnnl_memory_desc_t *md, int rows, int cols, int ld, int t, dnnl_data_type_t dt) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {t ? 1 : ld, t ? ld : 1};
    ok(dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides), "memory descriptor");
}

static cached *create(const gemm_dnnl_key *k) {
    dnnl_data_type_t dt = k->bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t a, b, c;
    matrix_md(&a, k->M, k->K, k->lda, k->ta, dt);
    matrix_md(&b, k->K, k->N, k->ldb, k->tb, dt);
    matrix_md(&c, k->M, k->N, k->ldc, 0, dnnl_f32);
    dnnl_matmul_desc_t desc;
    ok(dnnl_matmul_desc_init(&desc, &a, &b, NULL, &c), "matmul descriptor");
    dnnl_primitive_attr_t attr;
    ok(dnnl_primitive_attr_create(&attr), "attribute creation");
    ok(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
    if (k->scaled) {
        const float runtime = DNNL_RUNTIME_F32_VAL;
        ok(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &runtime), "output scales");
    }
    if (k->accumulate) {
        dnnl_post_ops_t po;
        ok(dnnl_post_ops_create(&po), "post-ops creation");
        ok(dnnl_post_ops_append_sum(po, 1.0f), "sum post-op");
        ok(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
        dnnl_post_ops_destroy(po);
    }
    dnnl_primitive_desc_t pd;
    int saved = single_begin();
    ok(dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL), "matmul primitive descriptor");
    if (n_cached == cap_cached) {
        cap_cached = cap_cached ? 2 * cap_cached : 32;
        cache = realloc(cache, (size_t)cap_cached * sizeof *cache);
        if (!cache) die("free some memory", "out of memory for the oneDNN primitive cache");
    }
    cached *e = cache[n_cached++] = xmalloc(sizeof *e);
    e->key = *k;
    ok(dnnl_primitive_create(&e->prim, pd), "matmul primitive");
    single_end(saved);
    e->scratch_bytes = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return e;
}

const gemm_dnnl_prim *gemm_dnnl_get(const gemm_dnnl_key *k) {
    ensure_engine();
    int want = omp_get_max_threads();  // the team the caller's tile loop may use
    if (want > n_slots) {
        slots = realloc(slots, (size_t)want * sizeof *slots);
        if (!slots) die("free some memory", "out of memory for oneDNN's per-thread state");
        memset(slots + n_slots, 0, (size_t)(want - n_slots) * sizeof *slots);
        n_slots = want;
    }
    for (int i = 0; i < n_cached; i++)
        if (!memcmp(&cache[i]->key, k, sizeof *k)) return (const gemm_dnnl_prim *)cache[i];
    return (const gemm_dnnl_prim *)create(k);
}

static dnnl_memory_t wrap(const dnnl_memory_desc_t *md, const void *p) {
    dnnl_memory_t m;
    ok(dnnl_memory_create(&m, md, engine, (void *)p), "memory creation");
    return m;
}

void gemm_dnnl_run(const gemm_dnnl_prim *p, const void *A, const void *B, float *C, float alpha) {
    const cached *e = (const cached *)p;
    const gemm_dnnl_key *k = &e->key;
    int tid = omp_get_thread_num();
    if (tid >= n_slots) die("call gemm_dnnl_get before each parallel loop", "gemm_dnnl_run: thread %d has no slot", tid);
    per_thread *t = &slots[tid];
    int saved = single_begin();
    if (!t->stream) ok(dnnl_stream_create(&t->stream, engine, dnnl_stream_default_flags), "stream creation");
    if (e->scratch_bytes > t->scratch_bytes) {
        free(t->scratch);
        t->scratch = xaligned(e->scratch_bytes);
        t->scratch_bytes = e->scratch_bytes;
    }
    dnnl_data_type_t dt = k->bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t a, b, c, s, sc;
    matrix_md(&a, k->M, k->K, k->lda, k->ta, dt);
    matrix_md(&b, k->K, k->N, k->ldb, k->tb, dt);
    matrix_md(&c, k->M, k->N, k->ldc, 0, dnnl_f32);
    dnnl_dims_t one = {1}, bytes = {(dnnl_dim_t)(e->scratch_bytes ? e->scratch_bytes : 1)};
    ok(dnnl_memory_desc_init_by_tag(&sc, 1, one, dnnl_f32, dnnl_a), "scale descriptor");
    ok(dnnl_memory_desc_init_by_tag(&s, 1, bytes, dnnl_u8, dnnl_a), "scratchpad descriptor");
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, wrap(&a, A)}, {DNNL_ARG_WEIGHTS, wrap(&b, B)}, {DNNL_ARG_DST, wrap(&c, C)},
                               {DNNL_ARG_SCRATCHPAD, wrap(&s, t->scratch)}, {DNNL_ARG_ATTR_OUTPUT_SCALES, NULL}};
    int nargs = 4;
    if (k->scaled) args[nargs++].memory = wrap(&sc, &alpha);
    ok(dnnl_primitive_execute(e->prim, t->stream, nargs, args), "matmul execution");
    ok(dnnl_stream_wait(t->stream), "stream wait");
    for (int i = 0; i < nargs; i++) dnnl_memory_destroy(args[i].memory);
    single_end(saved);
}
