// test_shard.c — token shards (round trip, each kind of damage refused with its own message) and
// the batch loader (determinism, shifted targets, resume from a copied state).
#include "test_seed.h"
#include "test_tmp.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "data/shard.h"
#include "util/rng.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t g_seed;
static char g_dir[256];

static void path_in_dir(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", g_dir, name); }

static int32_t *random_ids(size_t n, int vocab, rng_t *r) {
    int32_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = (int32_t)(rng_u64(r) % (uint64_t)vocab);
    return ids;
}

static void write_ok(const char *path, size_t n, int32_t **ids_out) {
    rng_t r;
    rng_seed(&r, g_seed);
    int32_t *ids = random_ids(n, 65536, &r);
    assert_int_equal(shard_write(path, "bpe:8192", 0x1234abcdULL, ids, n), 0);
    if (ids_out) *ids_out = ids;
    else free(ids);
}

// Rewrites one byte of the file at off (XOR with mask).
static void flip_byte(const char *path, long off, unsigned char mask) {
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ mask, f);
    fclose(f);
}

static void expect_refused(const char *path, const char *needle) {
    shard s;
    char err[512] = "";
    assert_int_equal(shard_read(path, &s, err, sizeof err), -1);
    if (!strstr(err, needle)) fail_msg("message '%s' lacks '%s'", err, needle);
    assert_non_null(strstr(err, path));  // says which file
}

static void test_round_trip(void **state) {
    (void)state;
    char path[300];
    path_in_dir(path, sizeof path, "rt.bin");
    for (size_t n = 0; n < 2000; n = n * 3 + 1) {
        int32_t *ids;
        write_ok(path, n, &ids);
        shard s;
        char err[512];
        assert_int_equal(shard_read_expect(path, 0x1234abcdULL, &s, err, sizeof err), 0);
        assert_int_equal(s.n_tokens, n);
        assert_string_equal(s.tokenizer, "bpe:8192");
        assert_int_equal(s.fingerprint, 0x1234abcdULL);
        for (size_t i = 0; i < n; i++) assert_int_equal(s.tokens[i], ids[i]);
        shard_free(&s);
        free(ids);
    }
    // The extremes of the uint16 range survive; one past it is refused at write time.
    int32_t edge[3] = {0, 65535, 1};
    assert_int_equal(shard_write(path, "gpt2", 7, edge, 3), 0);
    shard s;
    char err[512];
    assert_int_equal(shard_read(path, &s, err, sizeof err), 0);
    assert_int_equal(s.tokens[1], 65535);
    shard_free(&s);
    int32_t big[2] = {1, 65536};
    assert_int_equal(shard_write(path, "gpt2", 7, big, 2), -1);
    int32_t neg[1] = {-1};
    assert_int_equal(shard_write(path, "gpt2", 7, neg, 1), -1);
}

static void test_same_bytes(void **state) {
    (void)state;
    char a[300], b[300];
    path_in_dir(a, sizeof a, "a.bin");
    path_in_dir(b, sizeof b, "b.bin");
    write_ok(a, 777, NULL);
    write_ok(b, 777, NULL);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int ca, cb;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        assert_int_equal(ca, cb);
    } while (ca != EOF);
    fclose(fa);
    fclose(fb);
}

static void test_truncated(void **state) {
    (void)state;
    char path[300];
    path_in_dir(path, sizeof path, "trunc.bin");
    write_ok(path, 1000, NULL);
    assert_int_equal(truncate(path, SHARD_HEADER_BYTES + 2 * 1000 - 1), 0);
    expect_refused(path, "truncated");
    assert_int_equal(truncate(path, 40), 0);
    expect_refused(path, "truncated");
}

static void test_flipped_byte(void **state) {
    (void)state;
    char path[300];
    path_in_dir(path, sizeof path, "flip.bin");
    rng_t r;
    rng_seed(&r, g_seed ^ 1);
    for (int k = 0; k < 20; k++) {
        write_ok(path, 1000, NULL);
        // Anywhere in the payload, or in the tokenizer name / fingerprint fields of the header.
        long off = k % 2 ? SHARD_HEADER_BYTES + (long)(rng_u64(&r) % 2000) : 16 + (long)(rng_u64(&r) % 40);
        flip_byte(path, off, (unsigned char)(1u << (rng_u64(&r) % 8)));
        expect_refused(path, "checksum mismatch");
    }
}

static void test_wrong_magic(void **state) {
    (void)state;
    char path[300];
    path_in_dir(path, sizeof path, "magic.bin");
    write_ok(path, 10, NULL);
    flip_byte(path, 0, 0x20);
    expect_refused(path, "bad magic");
}

static void test_wrong_version(void **state) {
    (void)state;
    char path[300];
    path_in_dir(path, sizeof path, "version.bin");
    write_ok(path, 10, NULL);
    flip_byte(path, 8, 0x03);  // version 1 -> 2
    expect_refused(path, "format version 2");
}

static void test_wrong_tokenizer(void **state) {
    (void)state;
    char path[300];
    path_in_dir(path, sizeof path, "tok.bin");
    write_ok(path, 10, NULL);
    shard s;
    char err[512] = "";
    assert_int_equal(shard_read_expect(path, 0x1234abceULL, &s, err, sizeof err), -1);
    if (!strstr(err, "written by tokenizer 'bpe:8192'")) fail_msg("message: %s", err);
    assert_null(s.tokens);
}

static void test_missing_file(void **state) {
    (void)state;
    shard s;
    char err[512] = "";
    assert_int_equal(shard_read("/nonexistent/x.bin", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open shard"));
}

// A shard holding 0,1,2,...,n-1 (mod 65536) makes positions visible in the batches.
static shard counting_shard(size_t n) {
    shard s = {.n_tokens = n};
    strcpy(s.tokenizer, "test");
    s.tokens = malloc(n * sizeof *s.tokens);
    for (size_t i = 0; i < n; i++) s.tokens[i] = (uint16_t)i;
    return s;
}

static void test_loader_targets_shifted(void **state) {
    (void)state;
    shard s = counting_shard(5000);
    int B = 4, T = 16;
    int32_t x[64], y[64];
    for (int mode = 0; mode < 2; mode++) {
        loader ld;
        loader_init(&ld, &s, mode, g_seed);
        for (int step = 0; step < 50; step++) {
            assert_int_equal(loader_next(&ld, B, T, x, y), 0);
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++) {
                    assert_int_equal(y[b * T + t], x[b * T + t] + 1);  // next token
                    if (t) assert_int_equal(x[b * T + t], x[b * T + t - 1] + 1);  // contiguous window
                }
        }
    }
    shard_free(&s);
}

static void test_loader_deterministic_and_resumable(void **state) {
    (void)state;
    shard s = counting_shard(3000);
    int B = 3, T = 8;
    for (int mode = 0; mode < 2; mode++) {
        loader a, b;
        loader_init(&a, &s, mode, g_seed);
        loader_init(&b, &s, mode, g_seed);
        int32_t xa[24], ya[24], xb[24], yb[24];
        for (int step = 0; step < 20; step++) {
            loader_next(&a, B, T, xa, ya);
            loader_next(&b, B, T, xb, yb);
            assert_memory_equal(xa, xb, sizeof xa);
        }
        loader saved = a;  // what a checkpoint stores
        int32_t cont[10][24];
        for (int step = 0; step < 10; step++) loader_next(&a, B, T, cont[step], ya);
        for (int step = 0; step < 10; step++) {
            loader_next(&saved, B, T, xb, yb);
            assert_memory_equal(cont[step], xb, sizeof xb);
        }
    }
    // Another seed gives other random windows.
    loader a, c;
    loader_init(&a, &s, 1, g_seed);
    loader_init(&c, &s, 1, g_seed + 1);
    int32_t xa[24], xc[24], y[24];
    loader_next(&a, B, T, xa, y);
    loader_next(&c, B, T, xc, y);
    assert_memory_not_equal(xa, xc, sizeof xa);
    shard_free(&s);
}

static void test_loader_sequential_wraps(void **state) {
    (void)state;
    shard s = counting_shard(100);
    loader ld;
    loader_init(&ld, &s, 0, 0);
    int32_t x[10], y[10];
    // 100 tokens hold 9 windows of 10 (+1 target); the 10th batch starts again at 0.
    for (int k = 0; k < 9; k++) {
        assert_int_equal(loader_next(&ld, 1, 10, x, y), 0);
        assert_int_equal(x[0], 10 * k);
    }
    assert_int_equal(loader_next(&ld, 1, 10, x, y), 0);
    assert_int_equal(x[0], 0);
    // Too short for one window: refused.
    assert_int_equal(loader_next(&ld, 1, 100, x, y), -1);
    shard_free(&s);
}

static void test_loader_random_covers_ends(void **state) {
    (void)state;
    shard s = counting_shard(40);
    loader ld;
    loader_init(&ld, &s, 1, g_seed);
    int32_t x[8], y[8];
    int seen_first = 0, seen_last = 0;
    for (int k = 0; k < 2000; k++) {
        loader_next(&ld, 1, 8, x, y);
        assert_true(x[0] >= 0 && y[7] <= 39);
        seen_first |= x[0] == 0;
        seen_last |= y[7] == 39;
    }
    assert_true(seen_first && seen_last);
    shard_free(&s);
}

int main(void) {
    g_seed = test_seed("test_shard");
    test_tmpdir(g_dir, sizeof g_dir, "test_shard");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flipped_byte),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_wrong_tokenizer),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_loader_targets_shifted),
        cmocka_unit_test(test_loader_deterministic_and_resumable),
        cmocka_unit_test(test_loader_sequential_wraps),
        cmocka_unit_test(test_loader_random_covers_ends),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_rmtree(g_dir);
    return rc;
}
