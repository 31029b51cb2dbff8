// rp_buf.c — the append-only text buffer the report is assembled in (then written atomically).
#include "report/rp.h"
#include "util/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(rp_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = xmalloc(cap);
    if (b->n) memcpy(p, b->p, b->n);
    free(b->p);
    b->p = p, b->cap = cap;
}

void rp_append(rp_buf *b, const char *s, size_t n) {
    reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void rp_puts(rp_buf *b, const char *s) { rp_append(b, s, strlen(s)); }

void rp_printf(rp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len <= 0) return;
    reserve(b, (size_t)len);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

void rp_buf_free(rp_buf *b) {
    free(b->p);
    b->p = NULL, b->n = b->cap = 0;
}

int rp_read_file(const char *path, rp_buf *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) rp_append(out, chunk, k);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}
