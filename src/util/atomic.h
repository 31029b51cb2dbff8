// atomic.h — write a file so that readers see either the old file or the complete new one:
// a temp file in the same directory, fsync, rename over the target, fsync of the directory.
#ifndef ACTLAB_ATOMIC_H
#define ACTLAB_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    char path[1024], tmp[1100];
    int failed;   // set by atomic_write on a short write; commit then refuses
} atomic_file;

// Returns 0, or -1 with the reason in err.
int atomic_begin(atomic_file *a, const char *path, char *err, size_t errlen);
void atomic_write(atomic_file *a, const void *p, size_t n);
// fsync + rename; on any failure removes the temp file and returns -1 with the reason.
int atomic_commit(atomic_file *a, char *err, size_t errlen);
void atomic_abort(atomic_file *a);   // removes the temp file, leaves the target untouched
// All of it for one buffer. Returns 0, or -1 after printing the reason on stderr.
int atomic_write_file(const char *path, const void *data, size_t n);
// A text file: text then a newline. Returns 0, or -1 with the reason in err.
int atomic_write_text(const char *path, const char *text, char *err, size_t errlen);

#endif
