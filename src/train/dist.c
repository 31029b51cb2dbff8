// dist.c — see dist.h. Everything outside ACTLAB_HAVE_MPI is the one-rank fallback.
#include "train/dist.h"
#include "util/check.h"
#include "util/timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Did mpirun/mpiexec (Open MPI, MPICH/Hydra) or srun start this process as one rank of a job?
static int launched_as_rank(void) {
    static const char *const VARS[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
    for (size_t i = 0; i < sizeof VARS / sizeof VARS[0]; i++)
        if (getenv(VARS[i])) return 1;
    const char *st = getenv("SLURM_STEP_NUM_TASKS");  // srun without an MPI plugin variable
    return st && atoi(st) > 1;
}

// The rank count the launcher announced (1 if none), read before or without MPI.
static int launched_size(void) {
    static const char *const VARS[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof VARS / sizeof VARS[0]; i++) {
        const char *v = getenv(VARS[i]);
        if (v && atoi(v) > 1) return atoi(v);
    }
    return 1;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

#ifdef ACTLAB_HAVE_MPI
#include <limits.h>
#include <mpi.h>

static int g_started, g_rank, g_size = 1, g_local = 1;
static char g_library[MPI_MAX_LIBRARY_VERSION_STRING];

static void check_mpi(int rc, const char *what) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    die("another rank probably failed first: see its message above", "%s: %s", what, msg);
}

int dist_init(void) {
    if (g_started || !launched_as_rank()) return g_size;
    int have = 0;
    MPI_Initialized(&have);
    if (!have) check_mpi(MPI_Init(NULL, NULL), "MPI_Init");
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    // srun without a PMI plugin that this MPI speaks starts N singletons, each a whole run.
    if (g_size == 1 && launched_size() > 1)
        die("launch with 'srun --mpi=pmix' (see 'srun --mpi=list') or with mpirun",
            "the launcher started %d tasks but MPI sees only this one", launched_size());
    // Ranks sharing this host share its cores (the default thread count divides them).
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &g_local);
    MPI_Comm_free(&node);
    if (g_size > 1) {
        char ctx[64];
        snprintf(ctx, sizeof ctx, "rank %d of %d: ", g_rank, g_size);
        die_set_context(ctx);
    }
    return g_size;
}

void dist_detach(void) {
    g_started = 0;
    g_rank = 0;
    g_size = g_local = 1;
    die_set_context(NULL);
}

void dist_finalize(void) {
    if (!g_started) return;
    MPI_Finalize();
    g_started = 0;
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
int dist_local_size(void) { return g_local; }

const char *dist_library(void) {
    int len = 0;
    MPI_Get_library_version(g_library, &len);
    char *nl = strpbrk(g_library, ",\n");  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
    if (nl) *nl = 0;
    return g_library;
}

// Rank 0 receives at most this many floats at a time (a bounded buffer for any model size).
#define SUM_CHUNK ((size_t)1 << 20)
#define TAG_SUM 17

static double g_sum_s;
static size_t g_sum_n;

double dist_sum_seconds(void) { return g_sum_s; }

void dist_print_summary(double wall_s, long steps) {
    if (g_rank != 0 || g_size == 1 || steps <= 0) return;
    double mb = (double)g_sum_n * sizeof(float) / 1e6;
    fprintf(stderr,
            "gradient sum over %d ranks: %.3f s of %.3f s (%.1f%%), %.1f ms per step; per step each rank sends "
            "and receives %.1f MB (rank 0 receives %.1f MB)\n",
            g_size, g_sum_s, wall_s, wall_s > 0 ? 100.0 * g_sum_s / wall_s : 0.0, 1e3 * g_sum_s / (double)steps, mb,
            mb * (g_size - 1));
}

static void sum_to_root_then_broadcast(float *x, size_t n);

void dist_sum_floats(float *x, size_t n) {
    if (g_size == 1) return;
    double t0 = now_seconds();
    sum_to_root_then_broadcast(x, n);
    g_sum_s += now_seconds() - t0;
    g_sum_n = n;
}

static void sum_to_root_then_broadcast(float *x, size_t n) {
    float *buf = g_rank == 0 ? xmalloc((n < SUM_CHUNK ? n : SUM_CHUNK) * sizeof(float) + 1) : NULL;
    for (size_t off = 0; off < n; off += SUM_CHUNK) {
        int len = (int)(n - off < SUM_CHUNK ? n - off : SUM_CHUNK);
        if (g_rank != 0) {
            check_mpi(MPI_Send(x + off, len, MPI_FLOAT, 0, TAG_SUM, MPI_COMM_WORLD), "gradient send");
            continue;
        }
        // Rank order, one whole vector at a time: element i is ((x0 + x1) + x2) + ... on any thread count.
        for (int src = 1; src < g_size; src++) {
            check_mpi(MPI_Recv(buf, len, MPI_FLOAT, src, TAG_SUM, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                      "gradient receive");
            float *y = x + off;
#pragma omp parallel for schedule(static)
            for (int i = 0; i < len; i++) y[i] += buf[i];
        }
    }
    free(buf);
    // A broadcast copies bits, so whichever tree the library picks, every rank ends with rank 0's sum.
    for (size_t off = 0; off < n; off += SUM_CHUNK) {
        int len = (int)(n - off < SUM_CHUNK ? n - off : SUM_CHUNK);
        check_mpi(MPI_Bcast(x + off, len, MPI_FLOAT, 0, MPI_COMM_WORLD), "gradient broadcast");
    }
}

double dist_sum_double(double x) {
    if (g_size == 1) return x;
    double *all = xmalloc((size_t)g_size * sizeof(double));
    check_mpi(MPI_Allgather(&x, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, MPI_COMM_WORLD), "loss gather");
    double s = 0;
    for (int r = 0; r < g_size; r++) s += all[r];  // rank order on every rank: the same bits everywhere
    free(all);
    return s;
}

void dist_gather_floats(const float *x, size_t n, float *all) {
    if (g_size == 1) {
        memcpy(all, x, n * sizeof(float));
        return;
    }
    if (n > INT_MAX) die("use a smaller --batch for telemetry over MPI", "dist_gather_floats: %zu values", n);
    check_mpi(MPI_Gather(x, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD), "telemetry gather");
}

void dist_max_floats(float *x, size_t n) {
    if (g_size == 1 || n == 0) return;
    if (n > INT_MAX) die("this is a bug: reduce fewer values at a time", "dist_max_floats: %zu values", n);
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD), "amax reduction");
}

void dist_sum_u64(uint64_t *x, size_t n) {
    if (g_size == 1 || n == 0) return;
    if (n > INT_MAX) die("this is a bug: reduce fewer values at a time", "dist_sum_u64: %zu values", n);
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD), "counter sum");
}

int dist_max_int(int v) {
    if (g_size == 1) return v;
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "status agreement");
    return v;
}

char *dist_bcast_string(const char *s) {
    if (g_size == 1) return s ? copy_string(s) : NULL;
    // The length first (-1: NULL), so the other ranks can size their buffer.
    long long len = g_rank == 0 ? (s ? (long long)strlen(s) : -1) : 0;
    check_mpi(MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "string length broadcast");
    if (len < 0) return NULL;
    if (len > INT_MAX) die("this is a bug: broadcast shorter text", "dist_bcast_string: %lld bytes", len);
    char *out = xmalloc((size_t)len + 1);
    if (g_rank == 0) memcpy(out, s, (size_t)len);
    check_mpi(MPI_Bcast(out, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD), "string broadcast");
    out[len] = 0;
    return out;
}

#define TAG_NOTICE 18

static MPI_Request *g_notice_sends, g_barrier = MPI_REQUEST_NULL;
static int g_notice_value, g_notices_in;

void dist_notify_others(int value) {
    if (g_size == 1 || g_notice_sends) return;  // one notice per rank until settled
    g_notice_value = value;  // the send buffer must outlive the sends
    g_notice_sends = xmalloc((size_t)g_size * sizeof *g_notice_sends);
    for (int r = 0; r < g_size; r++)
        if (r == g_rank) g_notice_sends[r] = MPI_REQUEST_NULL;
        else check_mpi(MPI_Isend(&g_notice_value, 1, MPI_INT, r, TAG_NOTICE, MPI_COMM_WORLD, &g_notice_sends[r]),
                       "notice send");
}

int dist_poll_notice(int *from) {
    if (g_size == 1) return 0;
    int there = 0, value = 0;
    MPI_Status st;
    check_mpi(MPI_Iprobe(MPI_ANY_SOURCE, TAG_NOTICE, MPI_COMM_WORLD, &there, &st), "notice probe");
    if (!there) return 0;
    check_mpi(MPI_Recv(&value, 1, MPI_INT, st.MPI_SOURCE, TAG_NOTICE, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "notice receive");
    g_notices_in++;
    *from = st.MPI_SOURCE;
    return value;
}

void dist_notices_settle(int senders) {
    if (g_size == 1) return;
    // A notice sent before the barrier may still be on its way: it will arrive, so wait for it.
    for (int want = senders - (g_notice_sends != NULL); g_notices_in < want; g_notices_in++) {
        int value;
        check_mpi(MPI_Recv(&value, 1, MPI_INT, MPI_ANY_SOURCE, TAG_NOTICE, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                  "notice receive");
    }
    if (g_notice_sends)
        check_mpi(MPI_Waitall(g_size, g_notice_sends, MPI_STATUSES_IGNORE), "notice send completion");
    free(g_notice_sends);
    g_notice_sends = NULL;
    g_notices_in = 0;
}

void dist_barrier_begin(void) {
    if (g_size > 1 && g_barrier == MPI_REQUEST_NULL) check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &g_barrier), "barrier");
}

int dist_barrier_done(void) {
    if (g_barrier == MPI_REQUEST_NULL) return 1;
    int done = 0;
    check_mpi(MPI_Test(&g_barrier, &done, MPI_STATUS_IGNORE), "barrier test");  // frees it when done
    return done;
}

#else  // no MPI in this build: one rank

// N copies of a one-rank build would each train the whole run into the same folder: refuse.
int dist_init(void) {
    if (launched_as_rank() && launched_size() > 1)
        die("rebuild with MPI (cmake -DACTLAB_MPI=ON, libopenmpi-dev installed), or run without mpirun/srun",
            "this actlab was built without MPI but was started as one of %d ranks", launched_size());
    return 1;
}
void dist_detach(void) {}
void dist_finalize(void) {}
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_local_size(void) { return 1; }
const char *dist_library(void) { return NULL; }
void dist_sum_floats(float *x, size_t n) { (void)x, (void)n; }
double dist_sum_seconds(void) { return 0; }
void dist_print_summary(double wall_s, long steps) { (void)wall_s, (void)steps; }
double dist_sum_double(double x) { return x; }
void dist_gather_floats(const float *x, size_t n, float *all) { memcpy(all, x, n * sizeof(float)); }
void dist_max_floats(float *x, size_t n) { (void)x, (void)n; }
void dist_sum_u64(uint64_t *x, size_t n) { (void)x, (void)n; }
int dist_max_int(int v) { return v; }
char *dist_bcast_string(const char *s) { return s ? copy_string(s) : NULL; }
void dist_notify_others(int value) { (void)value; }
int dist_poll_notice(int *from) { (void)from; return 0; }
void dist_notices_settle(int senders) { (void)senders; }
void dist_barrier_begin(void) {}
int dist_barrier_done(void) { return 1; }

#endif
