// check.h — checked allocation and file I/O. On failure they print what failed, where in our
// code, and a hint for the user, then exit(1): callers never see a NULL or a short read.
#ifndef ACTLAB_CHECK_H
#define ACTLAB_CHECK_H

#include <stdio.h>
#include <stddef.h>

void *check_malloc(size_t n, const char *file, int line);
void *check_calloc(size_t n, size_t size, const char *file, int line);
void *check_aligned(size_t n, const char *file, int line);  // 64-byte aligned, free() it
FILE *check_fopen(const char *path, const char *mode, const char *file, int line);
void check_fread(void *p, size_t size, size_t n, FILE *f, const char *path, const char *file, int line);
void check_fwrite(const void *p, size_t size, size_t n, FILE *f, const char *path, const char *file, int line);
void check_fclose(FILE *f, const char *path, const char *file, int line);
// Prints "actlab: error: <msg>" plus an optional hint line, then exits with status 1.
// Text put before every later die() message, e.g. "rank 1 of 4: " in a multi-rank run ("" or NULL: none).
void die_set_context(const char *ctx);
void die(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#define xmalloc(n) check_malloc((n), __FILE__, __LINE__)
#define xcalloc(n, s) check_calloc((n), (s), __FILE__, __LINE__)
#define xaligned(n) check_aligned((n), __FILE__, __LINE__)
#define xfopen(p, m) check_fopen((p), (m), __FILE__, __LINE__)
#define xfread(p, s, n, f, path) check_fread((p), (s), (n), (f), (path), __FILE__, __LINE__)
#define xfwrite(p, s, n, f, path) check_fwrite((p), (s), (n), (f), (path), __FILE__, __LINE__)
#define xfclose(f, path) check_fclose((f), (path), __FILE__, __LINE__)

#endif
