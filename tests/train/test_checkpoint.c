// test_checkpoint.c — round trip, and a clear refusal for every kind of bad checkpoint.
#include "train/checkpoint.h"
#include "util/hash.h"
#include "util/rng.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

enum { N = 1000 };

typedef struct {
    char dir[256], path[600];  // dir first: test_teardown_dir
    ckpt_meta meta;
    float p[N], m[N], v[N], st[5];
} fixture;

static void fill_meta(ckpt_meta *meta, rng_t *r) {
    memset(meta, 0, sizeof *meta);
    model_config *c = &meta->cfg;
    c->vocab_size = 512; c->d_model = 64; c->n_layers = 2; c->n_heads = 4; c->n_kv_heads = 2;
    c->max_seq_len = 128; c->ffn_hidden = 0; c->tied_embeddings = 1;
    c->rope_theta = 10000; c->norm_eps = 1e-5f; c->init_std = 0.02f;
    act_spec_init(&c->act, "powlu");
    snprintf(meta->tokenizer, sizeof meta->tokenizer, "bpe:512");
    meta->tok_fingerprint = rng_u64(r);
    meta->n_params = N;
    meta->step = 77; meta->opt_t = 75; meta->bad_streak = 2;
    meta->loader_pos = 12345; meta->loader_random = 1; meta->seed = 42;
    for (int i = 0; i < 4; i++) meta->loader_rng[i] = rng_u64(r), meta->rng[i] = rng_u64(r);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    test_tmpdir(f->dir, sizeof f->dir, "ckpt");
    snprintf(f->path, sizeof f->path, "%s/c.bin", f->dir);
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    fill_meta(&f->meta, &r);
    for (int i = 0; i < N; i++) f->p[i] = rng_normal(&r), f->m[i] = rng_normal(&r), f->v[i] = rng_uniform(&r);
    for (int i = 0; i < 5; i++) f->st[i] = rng_normal(&r);
    f->meta.state_len = 5;
    char err[512];
    assert_int_equal(ckpt_write(f->path, &f->meta, f->p, f->m, f->v, f->st, "{\"a\": 1}\n", err, sizeof err), 0);
    *state = f;
    return 0;
}

static void test_round_trip(void **state) {
    fixture *f = *state;
    ckpt c;
    char err[512];
    assert_int_equal(ckpt_read(f->path, &c, err, sizeof err), 0);
    assert_memory_equal(c.params, f->p, sizeof f->p);
    assert_memory_equal(c.m, f->m, sizeof f->m);
    assert_memory_equal(c.v, f->v, sizeof f->v);
    assert_int_equal(c.meta.state_len, 5);
    assert_memory_equal(c.state, f->st, sizeof f->st);
    assert_string_equal(c.config_json, "{\"a\": 1}\n");
    assert_int_equal(c.meta.step, 77);
    assert_int_equal(c.meta.opt_t, 75);
    assert_int_equal(c.meta.bad_streak, 2);
    assert_int_equal(c.meta.loader_pos, 12345);
    assert_memory_equal(c.meta.loader_rng, f->meta.loader_rng, sizeof c.meta.loader_rng);
    assert_memory_equal(c.meta.rng, f->meta.rng, sizeof c.meta.rng);
    assert_string_equal(c.meta.tokenizer, "bpe:512");
    assert_int_equal(ckpt_check_match(&c.meta, &f->meta.cfg, f->meta.tok_fingerprint, err, sizeof err), 0);
    ckpt_free(&c);
    // The atomic write leaves no temp file behind.
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') files++;
    closedir(d);
    assert_int_equal(files, 1);
}

// Reads f->path after `mutate` changed its bytes; expects a refusal whose message holds `needle`.
static void expect_refusal(fixture *f, const char *needle) {
    ckpt c;
    char err[512] = "";
    assert_int_equal(ckpt_read(f->path, &c, err, sizeof err), -1);
    printf("refused as expected: %s\n", err);
    assert_non_null(strstr(err, needle));
}

static void flip_byte(const char *path, long at) {
    size_t n = 0;
    unsigned char *p = test_slurp(path, &n);
    p[at < 0 ? (long)n + at : at] ^= 0x40;
    test_spit(path, p, n);
    free(p);
}

static void test_refuses_bad_magic(void **state) {
    fixture *f = *state;
    flip_byte(f->path, 0);
    expect_refusal(f, "not an actlab checkpoint");
}

static void test_refuses_other_version(void **state) {
    fixture *f = *state;
    flip_byte(f->path, 8);
    expect_refusal(f, "format version");
}

// A version-1 file (no trainer state) is still read: built from a version-2 one without state by
// dropping the header's last field (state_len) and fixing version and checksum.
static void test_reads_version_1(void **state) {
    fixture *f = *state;
    char err[512];
    f->meta.state_len = 0;
    assert_int_equal(ckpt_write(f->path, &f->meta, f->p, f->m, f->v, NULL, "{}", err, sizeof err), 0);
    size_t n = 0;
    unsigned char *b = test_slurp(f->path, &n);
    uint32_t version = 1, hbytes;
    memcpy(&hbytes, b + 12, 4);
    hbytes -= 8;
    memcpy(b + 8, &version, 4);
    memcpy(b + 12, &hbytes, 4);
    memmove(b + 16 + hbytes, b + 16 + hbytes + 8, n - (16 + hbytes + 8));
    n -= 8;
    uint64_t hsum = fnv1a64(FNV1A64_OFFSET, b + 16, hbytes);
    memcpy(b + 16 + hbytes, &hsum, 8);
    test_spit(f->path, b, n);
    free(b);
    ckpt c;
    assert_int_equal(ckpt_read(f->path, &c, err, sizeof err), 0);
    assert_int_equal(c.meta.state_len, 0);
    assert_null(c.state);
    assert_memory_equal(c.params, f->p, sizeof f->p);
    assert_int_equal(c.meta.step, 77);
    ckpt_free(&c);
}

static void test_refuses_corrupt_header(void **state) {
    fixture *f = *state;
    flip_byte(f->path, 30);
    expect_refusal(f, "header checksum");
}

static void test_refuses_corrupt_payload(void **state) {
    fixture *f = *state;
    flip_byte(f->path, -100);
    expect_refusal(f, "payload checksum");
}

static void test_refuses_truncated(void **state) {
    fixture *f = *state;
    size_t n = 0;
    unsigned char *p = test_slurp(f->path, &n);
    test_spit(f->path, p, n - 5);
    free(p);
    expect_refusal(f, "truncated");
    p = malloc(10);
    memcpy(p, "ACTLCKPT\1\0", 10);
    test_spit(f->path, p, 10);
    free(p);
    expect_refusal(f, "truncated");
}

static void test_refuses_trailing_bytes(void **state) {
    fixture *f = *state;
    FILE *fp = fopen(f->path, "ab");
    fputs("junk", fp);
    fclose(fp);
    expect_refusal(f, "trailing bytes");
}

static void test_refuses_missing_file(void **state) {
    fixture *f = *state;
    snprintf(f->path, sizeof f->path, "%s/none.bin", f->dir);
    expect_refusal(f, "cannot open");
}

static void test_refuses_mismatch(void **state) {
    fixture *f = *state;
    ckpt_meta meta;
    char err[512];
    assert_int_equal(ckpt_read_meta(f->path, &meta, err, sizeof err), 0);
    model_config other = f->meta.cfg;
    other.d_model = 96;
    assert_int_equal(ckpt_check_match(&meta, &other, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "d_model is 64 in the checkpoint, 96 here"));
    other = f->meta.cfg;
    act_spec_init(&other.act, "swiglu");
    assert_int_equal(ckpt_check_match(&meta, &other, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "activation is powlu in the checkpoint, swiglu here"));
    other = f->meta.cfg;
    act_spec_set(&other.act, "m", 2);
    assert_int_equal(ckpt_check_match(&meta, &other, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "powlu's m is 3 in the checkpoint, 2 here"));
    assert_int_equal(ckpt_check_match(&meta, &f->meta.cfg, f->meta.tok_fingerprint ^ 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "tokenizer bpe:512"));
}

static void test_write_into_missing_folder_fails_cleanly(void **state) {
    fixture *f = *state;
    char path[700], err[512] = "";
    snprintf(path, sizeof path, "%s/no/such/dir/c.bin", f->dir);
    assert_int_equal(ckpt_write(path, &f->meta, f->p, NULL, NULL, f->st, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_bad_magic, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_other_version, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_reads_version_1, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_corrupt_header, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_corrupt_payload, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_truncated, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_trailing_bytes, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_missing_file, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refuses_mismatch, setup, test_teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_into_missing_folder_fails_cleanly, setup, test_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
