// bench_util.c — see bench_util.h.
#include "bench_util.h"
#include "util/check.h"
#include "util/fileio.h"
#include "util/timer.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// OpenBLAS's own entry points (declared in its cblas.h on Debian, repeated to be explicit).
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
char *openblas_get_corename(void);

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *t, long n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return t[n / 2];
}

json_t *bench_configure(int threads) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    const char *forced = getenv("OPENBLAS_CORETYPE");
    printf("config: %d threads (OpenMP and OpenBLAS); OpenBLAS core %s (%s)%s%s\n", threads, openblas_get_corename(),
           openblas_get_config(), forced ? "; OPENBLAS_CORETYPE forced to " : "", forced ? forced : "");
    json_t *c = json_object();
    json_object_set_new(c, "threads", json_integer(threads));
    json_object_set_new(c, "openblas_core", json_string(openblas_get_corename()));
    json_object_set_new(c, "openblas_config", json_string(openblas_get_config()));
    json_object_set_new(c, "openblas_coretype_env", forced ? json_string(forced) : json_null());
    return c;
}

double bench_sgemm_gflops(void) {
    const int n = 1024, reps = 7;
    float *a = xaligned(sizeof(float) * n * n), *b = xaligned(sizeof(float) * n * n), *c = xaligned(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now_seconds() - t0;
        if (r && t < best) best = t;  // the first call warms OpenBLAS's buffers up
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

json_t *bench_load_anchor(const char *path, const char *part) {
    if (!path) return NULL;
    json_error_t err;
    json_t *a = json_load_file(path, 0, &err);
    if (!a) die("produce it with scripts/torch_anchor.py (make bench does)", "cannot read %s: %s (line %d)", path, err.text,
                err.line);
    if (!json_is_array(json_object_get(a, part)))
        die("produce it with scripts/torch_anchor.py (make bench does)", "%s has no '%s' list", path, part);
    return a;
}

json_t *bench_anchor_row(json_t *anchor, const char *part, const char *name) {
    size_t i;
    json_t *row;
    json_array_foreach(anchor ? json_object_get(anchor, part) : NULL, i, row) {
        const char *act = json_string_value(json_object_get(row, "act"));
        if (act && !strcmp(act, name)) return row;
    }
    return NULL;
}

void bench_write_json(json_t *root, const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash) {
        char dir[512];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        mkdir_p(dir, NULL, 0);  // a failure shows as the write's error below
    }
    if (json_dump_file(root, path, JSON_INDENT(1))) die("check that the folder is writable", "cannot write %s", path);
    printf("wrote %s\n", path);
}
