// atomic.c — see atomic.h.
#include "util/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int atomic_begin(atomic_file *a, const char *path, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    if (strlen(path) >= sizeof a->path) {
        snprintf(err, errlen, "path too long: %s", path);
        return -1;
    }
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        snprintf(err, errlen, "cannot create '%s': %s (does the directory exist and is it writable?)", a->tmp,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void atomic_write(atomic_file *a, const void *p, size_t n) {
    if (!a->failed && n && fwrite(p, 1, n, a->f) != n) a->failed = errno ? errno : EIO;
}

void atomic_abort(atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}

static void fsync_dir_of(const char *path) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY);
    if (fd >= 0) {
        fsync(fd);  // best effort: some filesystems refuse fsync on directories
        close(fd);
    }
}

int atomic_commit(atomic_file *a, char *err, size_t errlen) {
    int e = a->failed;
    if (!e && fflush(a->f) != 0) e = errno;
    if (!e && fsync(fileno(a->f)) != 0) e = errno;
    if (fclose(a->f) != 0 && !e) e = errno;
    a->f = NULL;
    if (!e && rename(a->tmp, a->path) != 0) e = errno;
    if (e) {
        snprintf(err, errlen, "writing '%s' failed: %s (disk full?)", a->path, strerror(e));
        unlink(a->tmp);
        return -1;
    }
    fsync_dir_of(a->path);
    return 0;
}

int atomic_write_file(const char *path, const void *data, size_t n) {
    atomic_file a;
    char err[1200];
    if (atomic_begin(&a, path, err, sizeof err) == 0) {
        atomic_write(&a, data, n);
        if (atomic_commit(&a, err, sizeof err) == 0) return 0;
    }
    fprintf(stderr, "actlab: error: %s\n", err);
    return -1;
}

int atomic_write_text(const char *path, const char *text, char *err, size_t errlen) {
    atomic_file a;
    if (atomic_begin(&a, path, err, errlen)) return -1;
    atomic_write(&a, text, strlen(text));
    atomic_write(&a, "\n", 1);
    return atomic_commit(&a, err, errlen);
}
