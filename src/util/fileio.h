// fileio.h — the one place for whole-file reads, `mkdir -p`, error strings and growable byte
// buffers. Library code reports failures through (err, errlen) so that callers choose the hint;
// every message names the file it is about.
#ifndef ACTLAB_FILEIO_H
#define ACTLAB_FILEIO_H

#include <stddef.h>

// Formats into err (when err and errlen are non-zero) and returns -1, so that a failing path
// reads `return err_set(err, errlen, "...", ...);`.
int err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// A growable byte buffer; p is NUL-terminated after each append. Zero-initialise; byte_buf_free.
typedef struct {
    char *p;
    size_t n, cap;
} byte_buf;

void byte_buf_put(byte_buf *b, const void *s, size_t n);
void byte_buf_puts(byte_buf *b, const char *s);
void byte_buf_printf(byte_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void byte_buf_free(byte_buf *b);

// Reads a whole file into a malloc'd, NUL-terminated array (*len bytes before the NUL). NULL,
// with "cannot read '<path>': <reason>" in err, if it cannot be opened, sized or read in full.
char *file_read(const char *path, size_t *len, char *err, size_t errlen);
// Appends a whole file to b; 0, or -1 with the reason in err.
int file_read_into(const char *path, byte_buf *b, char *err, size_t errlen);

// Creates path and its missing parents (mode 0755); an existing folder is fine. 0, or -1 with
// "cannot create folder '<path>': <reason>" in err.
int mkdir_p(const char *path, char *err, size_t errlen);

#endif
