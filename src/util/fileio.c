// fileio.c — see fileio.h.
#include "util/fileio.h"
#include "util/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int err_set(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void reserve(byte_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1) cap *= 2;
    char *grown = realloc(b->p, cap);
    if (!grown) die(NULL, "out of memory (byte buffer of %zu bytes)", cap);
    b->p = grown, b->cap = cap;
}

void byte_buf_put(byte_buf *b, const void *s, size_t n) {
    reserve(b, n);
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void byte_buf_puts(byte_buf *b, const char *s) { byte_buf_put(b, s, strlen(s)); }

void byte_buf_printf(byte_buf *b, const char *fmt, ...) {
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

void byte_buf_free(byte_buf *b) {
    free(b->p);
    b->p = NULL, b->n = b->cap = 0;
}

// Sizes the file first (one allocation for the common case), then reads until EOF so a file that
// grows or a size ftell cannot give (pipes) still reads in full.
int file_read_into(const char *path, byte_buf *b, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        int e = errno;
        fclose(f);
        return err_set(err, errlen, "cannot read '%s': cannot find its size (%s)", path, strerror(e));
    }
    reserve(b, (size_t)size);
    size_t got;
    for (;;) {
        reserve(b, 4096);
        got = fread(b->p + b->n, 1, b->cap - b->n - 1, f);
        if (!got) break;
        b->n += got;
    }
    b->p[b->n] = 0;
    int bad = ferror(f);
    fclose(f);
    if (bad) return err_set(err, errlen, "cannot read '%s': read error", path);
    return 0;
}

char *file_read(const char *path, size_t *len, char *err, size_t errlen) {
    byte_buf b = {0};
    if (file_read_into(path, &b, err, errlen)) {
        byte_buf_free(&b);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

int mkdir_p(const char *path, char *err, size_t errlen) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return err_set(err, errlen, "cannot create folder '%s': path too long", path);
    // Parents first; their failures show up as the last mkdir's error.
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(buf, 0755);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return err_set(err, errlen, "cannot create folder '%s': %s", path, strerror(errno));
    return 0;
}
