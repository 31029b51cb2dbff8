// testutil.h — helpers shared by the train-layer tests: seeds, temp folders, file surgery.
#ifndef ACTLAB_TRAIN_TESTUTIL_H
#define ACTLAB_TRAIN_TESTUTIL_H

#include "test_seed.h"
#include "test_tmp.h"
#include "util/rng.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cmocka teardown for fixtures whose first member is `char dir[...]`, a folder from test_tmpdir.
static inline int test_teardown_dir(void **state) {
    char *dir = *state;
    test_rmtree(dir);
    free(dir);
    return 0;
}

static inline long test_file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

// Reads a whole file (malloc'd); *n its size. NULL if missing.
static inline unsigned char *test_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    p[*n] = 0;
    fclose(f);
    return p;
}

static inline void test_spit(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

#endif
