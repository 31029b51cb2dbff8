// test_corpus.c — the corpus text processing on literal inputs: each package's markup stripper,
// dictd index parsing, normalisation, chunking and the train/validation split.
#include "test_seed.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "data/corpus_sources.h"
#include "data/corpus_text.h"
#include "util/rng.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_seed;

static char *run(void (*fn)(byte_buf *, const char *, size_t), const char *in) {
    byte_buf b = {0};
    fn(&b, in, strlen(in));
    return b.p ? b.p : calloc(1, 1);
}

static void expect(void (*fn)(byte_buf *, const char *, size_t), const char *in, const char *want) {
    char *got = run(fn, in);
    if (strcmp(got, want)) fail_msg("input:\n%s\ngot:\n%s\nwant:\n%s", in, got, want);
    free(got);
}

static void test_gcide(void **state) {
    (void)state;
    expect(corpus_strip_gcide,
           "Abaca \\Ab\"a*ca\\ ([a^]b\"[.a]*k[.a]), n. [The native name.]\n"
           "   The Manila-hemp plant ({Musa textilis}); also, its fiber. See\n"
           "   {Manila hemp} under {Manila}.\n"
           "   [1913 Webster]\n",
           "Abaca, n. [The native name.]\n"
           "The Manila-hemp plant (Musa textilis); also, its fiber. See\n"
           "Manila hemp under Manila.\n");
    // Accent codes become letters, named characters UTF-8; ordinary brackets stay.
    expect(corpus_strip_gcide, "   AS. b[ae]c, f[=e]t [R.] [Obs.] [imac]\n", "AS. b\xc3\xa6" "c, fet [R.] [Obs.] \xc4\xab\n");
    expect(corpus_strip_gcide, "Foo \\Foo\\ adj.\n", "Foo adj.\n");
}

static void test_foldoc_jargon(void **state) {
    (void)state;
    expect(corpus_strip_foldoc, "abstract data type\n\n   <programming> A {stack}.\n\n   (2003-07-03)\n",
           "abstract data type\n\n<programming> A stack.\n\n");
    expect(corpus_strip_braces, "   :BASIC: n.\n   See {Pascal}. (2003-07-03)\n", ":BASIC: n.\nSee Pascal. (2003-07-03)\n");
}

static void test_wordnet(void **state) {
    (void)state;
    expect(corpus_wordnet_glosses,
           "  1 This software and database is being provided to you\n"
           "00002137 03 n 02 abstraction 0 abstract_entity 0 010 @ 00001740 n 0000 | a general concept  \n"
           "00001740 00 a 02 able(a) 0 capable 0 001 ! 00002098 a 0101 | (usually followed by `to') able\n",
           "abstraction, abstract entity: a general concept\n"
           "able, capable: (usually followed by `to') able\n");
}

static void test_brown(void **state) {
    (void)state;
    expect(corpus_untag_brown,
           "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, (/( yes/rb )/) ./.\n\n\n\tOk/uh ?/.\n",
           "The jury said \"no evidence\", (yes).\nOk?\n");
    expect(corpus_untag_brown, "\tand/or/cc 1/2/cd\n", "and/or 1/2\n");
}

static void test_fortunes(void **state) {
    (void)state;
    expect(corpus_fortunes_paragraphs, "one\n%\ntwo\n  -- x\n%\n", "one\n\ntwo\n  -- x\n\n");
}

static void test_bible_books(void **state) {
    (void)state;
    const char *in = "\nGenesis 1\n\n  1 In the beginning.\n  2 And so.\nGenesis 2\n  1 More.\n"
                     "1 Samuel 1\n  1 Now.\nRevelation 1\n  1 End.\n";
    corpus_docs d = {0};
    corpus_sink sink = {&d, 0};
    corpus_split_bible_books(in, strlen(in), corpus_sink_add, &sink);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.docs[0].id, "kjv/Genesis");
    assert_string_equal(d.docs[0].text, "Genesis 1\n\n1 In the beginning.\n2 And so.\nGenesis 2\n1 More.\n");
    assert_string_equal(d.docs[1].id, "kjv/1 Samuel");
    assert_string_equal(d.docs[2].text, "Revelation 1\n1 End.\n");
    corpus_docs_free(&d);
}

static void test_dictd_index(void **state) {
    (void)state;
    // dictd's digits: A-Z = 0-25, a-z = 26-51, 0-9 = 52-61, + = 62, / = 63; most significant first.
    assert_int_equal(corpus_dictd_b64("B", 1), 1);
    assert_int_equal(corpus_dictd_b64("BA", 2), 64);
    assert_int_equal(corpus_dictd_b64("5I", 2), 57 * 64 + 8);
    assert_int_equal(corpus_dictd_b64("//", 2), 4095);
    assert_int_equal(corpus_dictd_b64("A!", 2), -1);
    assert_int_equal(corpus_dictd_b64("", 0), -1);
    // Out of order, one entry shared by two headwords, one nested in another, metadata, one past
    // the end: offsets 100 (Bk) len 50 (y), 10 (K) len 20 (U), 110 (Bu) len 5 (F), 990 (Pe).
    const char *index = "00-database-info\tA\tK\nzeta\tBk\ty\nalpha\tK\tU\nalso\tK\tU\ninner\tBu\tF\n"
                        "past\tPe\ty\n";
    size_t n;
    corpus_span *e = corpus_dictd_entries(index, strlen(index), 1000, &n);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].off, 10);
    assert_int_equal(e[0].len, 20);
    assert_int_equal(e[1].off, 100);
    assert_int_equal(e[1].len, 50);
    free(e);
}

static void test_normalise_and_chunk(void **state) {
    (void)state;
    corpus_docs d = {0};
    const char *in = "\n\n  \r\nline one  \r\n\n\n\nline two\t\n\n\n";
    corpus_add(&d, 0, "x", in, strlen(in));
    corpus_add(&d, 0, "empty", "\n \n\t\n", 5);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.docs[0].text, "line one\n\nline two\n");
    corpus_docs_free(&d);

    // Chunks end at blank lines, cover all the text, and stay near the size asked for.
    char text[4000];
    size_t n = 0;
    rng_t r;
    rng_seed(&r, g_seed);
    while (n < 3800) {
        int words = 1 + (int)(rng_u64(&r) % 30);
        for (int w = 0; w < words && n < 3800; w++) n += (size_t)snprintf(text + n, sizeof text - n, &" w%d"[!w], w);
        n += (size_t)snprintf(text + n, sizeof text - n, "\n\n");
    }
    corpus_add_chunked(&d, 0, "c", text, n, 500);
    size_t total = 0;
    for (size_t i = 0; i < d.n; i++) {
        total += d.docs[i].len + 1;  // normalisation removed the trailing blank line
        assert_true(d.docs[i].len <= 500);
        char want[32];
        snprintf(want, sizeof want, "c/%zu", i);
        assert_string_equal(d.docs[i].id, want);
    }
    assert_true(d.n >= 8);
    assert_int_equal(total, n);
    corpus_docs_free(&d);
}

static void test_split(void **state) {
    (void)state;
    int n_src;
    const corpus_source *src = corpus_sources(&n_src);
    int kjv = corpus_source_index("kjv"), brown = corpus_source_index("brown");
    assert_true(kjv >= 0 && brown >= 0 && src[kjv].train_only && !src[brown].train_only);
    assert_int_equal(corpus_source_index("nope"), -1);
    corpus_docs d = {0};
    char id[64];
    for (int i = 0; i < 4000; i++) {
        snprintf(id, sizeof id, "doc/%d", i);
        corpus_add(&d, i % 2 ? kjv : brown, id, "text\n", 5);
    }
    static char big[CORPUS_VAL_MAX_DOC + 2];
    memset(big, 'x', sizeof big - 1);
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "big/%d", i);
        corpus_add(&d, brown, id, big, sizeof big - 1);
    }
    corpus_split(&d, src, 0.2);
    int val = 0, brown_docs = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (d.docs[i].source == kjv) assert_int_equal(d.docs[i].val, 0);  // the Bible stays on one side
        if (d.docs[i].len > CORPUS_VAL_MAX_DOC) assert_int_equal(d.docs[i].val, 0);
        if (d.docs[i].source == brown && d.docs[i].len <= CORPUS_VAL_MAX_DOC) brown_docs++, val += d.docs[i].val;
    }
    // 2000 eligible documents at 20%: far outside 300..500 would mean a broken hash.
    assert_true(val > 300 && val < 500);
    // A document's side depends on its id alone: reordering the list changes nothing.
    int first = d.docs[0].val;
    corpus_doc tmp = d.docs[0];
    d.docs[0] = d.docs[d.n - 51];
    d.docs[d.n - 51] = tmp;
    corpus_split(&d, src, 0.2);
    assert_int_equal(d.docs[d.n - 51].val, first);
    size_t tlen, vlen;
    char *t = corpus_join(&d, 0, &tlen), *v = corpus_join(&d, 1, &vlen);
    assert_int_equal(vlen, (size_t)val * 6);  // "text\n" + the blank line after each
    free(t), free(v);
    corpus_docs_free(&d);
}

int main(void) {
    g_seed = test_seed("test_corpus");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcide),       cmocka_unit_test(test_foldoc_jargon),
        cmocka_unit_test(test_wordnet),     cmocka_unit_test(test_brown),
        cmocka_unit_test(test_fortunes),    cmocka_unit_test(test_bible_books),
        cmocka_unit_test(test_dictd_index), cmocka_unit_test(test_normalise_and_chunk),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
