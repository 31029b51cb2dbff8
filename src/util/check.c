// check.c — see check.h.
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char g_die_context[64];

void die_set_context(const char *ctx) { snprintf(g_die_context, sizeof g_die_context, "%s", ctx ? ctx : ""); }

void die(const char *hint, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "actlab: error: %s", g_die_context);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (hint && *hint) fprintf(stderr, "  hint: %s\n", hint);
    exit(1);
}

void *check_malloc(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) die("the machine is out of memory: try a smaller batch or model",
                "malloc of %zu bytes failed (%s:%d)", n, file, line);
    return p;
}

void *check_calloc(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die("the machine is out of memory: try a smaller batch or model",
                "calloc of %zu x %zu bytes failed (%s:%d)", n, size, file, line);
    return p;
}

void *check_aligned(size_t n, const char *file, int line) {
    size_t rounded = (n + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) die("the machine is out of memory: try a smaller batch or model",
                "aligned allocation of %zu bytes failed (%s:%d)", n, file, line);
    return p;
}

FILE *check_fopen(const char *path, const char *mode, const char *file, int line) {
    FILE *f = fopen(path, mode);
    if (!f) {
        int e = errno;
        die(mode[0] == 'r' ? "check the path; was the file created by an earlier step?"
                           : "check that the directory exists and is writable",
            "cannot open '%s' (mode %s): %s (%s:%d)", path, mode, strerror(e), file, line);
    }
    return f;
}

void check_fread(void *p, size_t size, size_t n, FILE *f, const char *path, const char *file, int line) {
    size_t got = fread(p, size, n, f);
    if (got != n)
        die("the file is truncated or corrupt: regenerate it",
            "short read from '%s': wanted %zu items of %zu bytes, got %zu%s (%s:%d)", path, n, size, got,
            ferror(f) ? " (I/O error)" : " (end of file)", file, line);
}

void check_fwrite(const void *p, size_t size, size_t n, FILE *f, const char *path, const char *file, int line) {
    if (fwrite(p, size, n, f) != n) {
        int e = errno;
        die("is the disk full?", "write to '%s' failed: %s (%s:%d)", path, strerror(e), file, line);
    }
}

void check_fclose(FILE *f, const char *path, const char *file, int line) {
    if (fclose(f) != 0) {
        int e = errno;
        die("is the disk full?", "closing '%s' failed: %s (%s:%d)", path, strerror(e), file, line);
    }
}
