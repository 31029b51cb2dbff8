// test_tmp.h — temporary folders for every layer's tests (beside test_seed.h): a fresh empty
// folder under $TMPDIR (or /tmp) and its removal.
#ifndef ACTLAB_TEST_TMP_H
#define ACTLAB_TEST_TMP_H

#include <stdio.h>
#include <stdlib.h>

// A new empty folder "$TMPDIR/actlab_<tag>_XXXXXX"; the path is written to buf. Exits on failure
// (a test without its folder cannot say anything).
static inline void test_tmpdir(char *buf, size_t len, const char *tag) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/actlab_%s_XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(1);
    }
}

// Writes text to dir/name (created or replaced); 0, or -1 when the file cannot be written.
static inline int test_write_file(const char *dir, const char *name, const char *text) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) || bad ? -1 : 0;
}

// Removes dir and everything in it; 0, or -1 (with a warning) if it could not.
static inline int test_rmtree(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) == 0) return 0;
    fprintf(stderr, "warning: could not remove %s\n", dir);
    return -1;
}

#endif
