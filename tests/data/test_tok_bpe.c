// test_tok_bpe.c — the BPE trainer against a quadratic reference trainer, determinism, our
// tokenizer file (round trip; corrupt, truncated, foreign and malformed files refused) and
// tok_resolve("bpe:N").
#include "test_tmp.h"
#include "util/hash.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "data/shard.h"
#include "test_tok_common.h"

// Reference trainer: recount every pair of every word at each step, take the most frequent
// (ties: the smaller (left, right)), merge it everywhere left to right. Returns the merges made.
static int reference_train(const tokenizer *pre, const uint8_t *text, size_t len, int n_merges, tok_merge *out) {
    size_t cap = len + 1, nw = 0, s, e;
    int32_t **sym = malloc(cap * sizeof *sym);
    size_t *wlen = malloc(cap * sizeof *wlen);
    pretok_iter it;
    pretok_begin(&it, pre->re, text, len);
    while (pretok_next(&it, &s, &e)) {  // one entry per occurrence: counts come out the same
        sym[nw] = malloc((e - s) * sizeof **sym);
        for (size_t i = s; i < e; i++) sym[nw][i - s] = text[i];
        wlen[nw++] = e - s;
    }
    pretok_end(&it);
    int m = 0;
    for (; m < n_merges; m++) {
        u64map counts;
        u64map_init(&counts, 1024);
        uint64_t best = 0;
        int64_t best_n = 0;
        for (size_t w = 0; w < nw; w++)
            for (size_t i = 0; i + 1 < wlen[w]; i++) {
                int fresh;
                uint64_t key = tok_pair_key(sym[w][i], sym[w][i + 1]);
                int64_t *c = u64map_put(&counts, key, &fresh);
                ++*c;
                (void)fresh;
            }
        for (size_t i = 0; i < counts.cap; i++)
            if (counts.keys[i] != UINT64_MAX &&
                (counts.vals[i] > best_n || (counts.vals[i] == best_n && counts.keys[i] < best)))
                best = counts.keys[i], best_n = counts.vals[i];
        u64map_free(&counts);
        if (!best_n) break;
        int32_t a = (int32_t)(best >> 32), b = (int32_t)(best & 0xffffffffu), c = 256 + m;
        out[m] = (tok_merge){a, b, c};
        for (size_t w = 0; w < nw; w++) {
            size_t j = 0;
            for (size_t i = 0; i < wlen[w];) {
                if (i + 1 < wlen[w] && sym[w][i] == a && sym[w][i + 1] == b) sym[w][j++] = c, i += 2;
                else sym[w][j++] = sym[w][i++];
            }
            wlen[w] = j;
        }
    }
    for (size_t w = 0; w < nw; w++) free(sym[w]);
    free(sym);
    free(wlen);
    return m;
}

static tokenizer *byte_level(void) {  // no merges: only for its pre-tokeniser in the reference
    int32_t ids[256];
    for (int i = 0; i < 256; i++) ids[i] = i;
    char err[128];
    return tok_build("bytes", 257, 256, ids, NULL, 0, err, sizeof err);
}

static void test_trainer_matches_reference(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("bpe trainer vs reference"));
    tokenizer *pre = byte_level();
    assert_non_null(pre);
    size_t n = 6000;
    uint8_t *text = malloc(n);
    tok_merge ref[200];
    for (int trial = 0; trial < 8; trial++) {
        random_text(&r, text, n, trial % 4);
        int want = 20 + (int)(rng_u64(&r) % 180);
        int made = reference_train(pre, text, n, want, ref);
        tokenizer *t = tok_train_bpe((const char *)text, n, 257 + want);
        if (made < want) {  // the text cannot fill that vocabulary: the trainer must refuse
            assert_null(t);
            continue;
        }
        assert_non_null(t);
        assert_int_equal(t->n_merges, want);
        for (int m = 0; m < want; m++) {
            if (memcmp(&t->merges[m], &ref[m], sizeof ref[m]))
                fail_msg("merge %d: got (%d %d -> %d), reference (%d %d -> %d)", m, t->merges[m].left,
                         t->merges[m].right, t->merges[m].result, ref[m].left, ref[m].right, ref[m].result);
        }
        tok_free(t);
    }
    free(text);
    tok_free(pre);
}

typedef struct {
    char dir[64];
    char path[128];
    uint8_t *text;
    size_t n;
    tokenizer *t;
} fixture;

// A trained tokenizer of 600 ids on fresh random text, saved in a temporary folder.
static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    test_tmpdir(fx->dir, sizeof fx->dir, "tok_bpe");
    snprintf(fx->path, sizeof fx->path, "%s/tokenizer-bpe-600.bin", fx->dir);
    rng_t r;
    rng_seed(&r, test_seed("bpe fixture text"));
    fx->n = 200000;
    fx->text = malloc(fx->n);
    random_text(&r, fx->text, fx->n, 2);
    fx->t = tok_train_bpe((const char *)fx->text, fx->n, 600);
    if (!fx->t || tok_save_file(fx->t, fx->path)) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    if (test_rmtree(fx->dir)) return -1;
    tok_free(fx->t);
    free(fx->text);
    free(fx);
    return 0;
}

static void test_identity_and_determinism(void **state) {
    fixture *fx = *state;
    assert_string_equal(tok_name(fx->t), "bpe:600");
    assert_int_equal(tok_vocab_size(fx->t), 600);
    assert_int_equal(tok_eot(fx->t), 599);
    // Same text, same file, byte for byte.
    tokenizer *again = tok_train_bpe((const char *)fx->text, fx->n, 600);
    char path2[160];
    snprintf(path2, sizeof path2, "%s/again.bin", fx->dir);
    assert_int_equal(tok_save_file(again, path2), 0);
    size_t n1, n2;
    uint8_t *a = read_whole(fx->path, &n1), *b = read_whole(path2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_true(tok_fingerprint(again) == tok_fingerprint(fx->t));
    free(a);
    free(b);
    tok_free(again);
    // Compresses its own training text.
    int32_t *ids;
    size_t k = tok_encode(fx->t, (const char *)fx->text, fx->n, &ids);
    assert_true(k < fx->n / 2);
    free(ids);
}

static void test_roundtrip_and_reference(void **state) {
    fixture *fx = *state;
    tokenizer *loaded = tok_load_file(fx->path);
    assert_non_null(loaded);
    assert_true(tok_fingerprint(loaded) == tok_fingerprint(fx->t));
    assert_string_equal(tok_name(loaded), "bpe:600");
    check_random_texts(loaded, "bpe round trip", 40, 30000, 1);
    tok_free(loaded);
}

static void expect_refused(const char *dir, const char *what, const uint8_t *b, size_t n) {
    char path[160];
    snprintf(path, sizeof path, "%s/bad.bin", dir);
    write_whole(path, b, n);
    printf("expect a refusal (%s):\n", what);
    fflush(stdout);
    tokenizer *t = tok_load_file(path);
    if (t) fail_msg("a %s file was accepted", what);
}

static void reseal(uint8_t *b, size_t n) {  // a valid checksum over damaged contents
    uint64_t h = fnv1a64(FNV1A64_OFFSET, b, n - 8);
    for (int i = 0; i < 8; i++) b[n - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void test_bad_files_refused(void **state) {
    fixture *fx = *state;
    size_t n;
    uint8_t *good = read_whole(fx->path, &n), *b = malloc(n);
    rng_t r;
    rng_seed(&r, test_seed("bpe corrupt files"));
    for (int i = 0; i < 5; i++) {  // one flipped bit anywhere
        memcpy(b, good, n);
        size_t at = rng_u64(&r) % n;
        b[at] ^= (uint8_t)(1u << (rng_u64(&r) % 8));
        expect_refused(fx->dir, "bit-flipped", b, n);
    }
    expect_refused(fx->dir, "empty", good, 0);
    expect_refused(fx->dir, "truncated (header only)", good, 40);
    expect_refused(fx->dir, "truncated (last byte)", good, n - 1);
    memcpy(b, good, n);
    b[0] = 'X';
    expect_refused(fx->dir, "foreign magic", b, n);
    memcpy(b, good, n);
    b[8] = 9;  // version
    reseal(b, n);
    expect_refused(fx->dir, "future version", b, n);
    memcpy(b, good, n);
    size_t merge0 = 8 + 16 + 32 + 1024;
    b[merge0] = 0x57, b[merge0 + 1] = 0x02;  // merge 0's left = 599 (end-of-text): not defined yet
    reseal(b, n);
    expect_refused(fx->dir, "malformed (resealed)", b, n);
    memcpy(b, good, n);
    size_t byte7 = 8 + 16 + 32 + 7 * 4;
    b[byte7] = 8;  // bytes 7 and 8 share an id
    reseal(b, n);
    expect_refused(fx->dir, "malformed byte table (resealed)", b, n);
    free(b);
    free(good);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.bin", fx->dir);
    assert_null(tok_load_file(missing));
}

static void test_resolve_bpe(void **state) {
    fixture *fx = *state;
    tokenizer *t = tok_resolve("bpe:600", fx->dir);
    assert_non_null(t);
    assert_true(tok_fingerprint(t) == tok_fingerprint(fx->t));
    tok_free(t);
    assert_null(tok_resolve("bpe:700", fx->dir));  // not trained
    assert_null(tok_resolve("bpe:abc", fx->dir));
    assert_null(tok_resolve("bpe:100", fx->dir));
    // A file under the wrong name is refused rather than silently used.
    char path[160];
    snprintf(path, sizeof path, "%s/tokenizer-bpe-800.bin", fx->dir);
    assert_int_equal(tok_save_file(fx->t, path), 0);
    assert_null(tok_resolve("bpe:800", fx->dir));
}

static void test_small_text_refused(void **state) {
    (void)state;
    const char text[] = "abab abab";
    assert_null(tok_train_bpe(text, sizeof text - 1, 8192));
    assert_null(tok_train_bpe(text, sizeof text - 1, 100));
    tokenizer *t = tok_train_bpe(text, sizeof text - 1, 259);
    assert_non_null(t);
    int32_t *ids;
    assert_int_equal(tok_encode(t, text, sizeof text - 1, &ids), 3);  // "abab" -> [abab], " abab" -> [" ", abab]
    free(ids);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_trainer_matches_reference),
        cmocka_unit_test(test_small_text_refused),
    };
    const struct CMUnitTest trained[] = {
        cmocka_unit_test(test_identity_and_determinism),
        cmocka_unit_test(test_roundtrip_and_reference),
        cmocka_unit_test(test_bad_files_refused),
        cmocka_unit_test(test_resolve_bpe),
    };
    int failed = cmocka_run_group_tests(fixed, NULL, NULL);
    return failed | cmocka_run_group_tests(trained, setup, teardown);
}
