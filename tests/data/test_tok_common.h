// test_tok_common.h — helpers shared by the tokenizer tests: a replayable seed, random byte
// strings that mix ASCII words, valid multi-byte UTF-8 and broken sequences, and the reference
// (quadratic, obviously correct) BPE of one piece, and cmocka checks built on them (include
// cmocka.h first).
#ifndef ACTLAB_TEST_TOK_COMMON_H
#define ACTLAB_TEST_TOK_COMMON_H

#include "test_seed.h"
#include "data/tok_internal.h"
#include "util/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// n random bytes in one of four styles: uniform bytes, English-like words, UTF-8 text with some
// truncated or stray continuation bytes, and whitespace-heavy text.
static inline void random_text(rng_t *r, uint8_t *out, size_t n, int style) {
    static const char *words[] = {"the", " the", "of", " and", "ing", " it's", "'s", " 42", "1999", "\n",
                                  "  ", "\t", ".", ",", "!?", " naïve", "é", "日本", "😀", " Ω", "\r\n", "   "};
    static const uint8_t broken[][3] = {{0xC3, 0, 0}, {0xE6, 0x97, 0}, {0x80, 0, 0}, {0xFF, 0, 0}, {0xF0, 0x9F, 0}};
    static const int broken_len[] = {1, 2, 1, 1, 2};
    size_t k = 0;
    while (k < n) {
        uint64_t x = rng_u64(r);
        const uint8_t *src;
        size_t len;
        uint8_t one;
        if (style == 0 || (style == 2 && x % 7 == 0)) {
            if (style == 0) {
                one = (uint8_t)(x >> 8);
                src = &one;
                len = 1;
            } else {
                int b = (int)((x >> 8) % 5);
                src = broken[b];
                len = (size_t)broken_len[b];
            }
        } else if (style == 3 && x % 2) {
            src = (const uint8_t *)"  \n \t   ";
            len = 1 + (x >> 8) % 8;
        } else {
            const char *w = words[(x >> 8) % (sizeof words / sizeof *words)];
            src = (const uint8_t *)w;
            len = strlen(w);
        }
        for (size_t i = 0; i < len && k < n; i++) out[k++] = src[i];
    }
}

static inline void assert_decodes_to(const tokenizer *t, const int32_t *ids, size_t k, const void *text, size_t n) {
    size_t len;
    char *back = tok_decode(t, ids, k, &len);
    assert_non_null(back);
    assert_int_equal(len, n);
    assert_memory_equal(back, text, n);
    free(back);
}

// Reference BPE of one piece: repeatedly merge the lowest-ranked adjacent pair, leftmost first.
static inline size_t reference_bpe_word(const tokenizer *t, const uint8_t *w, size_t n, int32_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = t->byte_id[w[i]];
    size_t k = n;
    for (;;) {
        int64_t best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            int64_t *r = u64map_get(&t->ranks, tok_pair_key(out[i], out[i + 1]));
            if (r && (best < 0 || *r < best)) best = *r, at = i;
        }
        if (best < 0) return k;
        out[at] = t->merges[best].result;
        memmove(out + at + 1, out + at + 2, (k - at - 2) * sizeof *out);
        k--;
    }
}

// Encodes text piece by piece with the reference BPE; *ids is malloc'd.
static inline size_t reference_encode(const tokenizer *t, const uint8_t *text, size_t len, int32_t **ids) {
    int32_t *out = malloc((len + 1) * sizeof *out);
    size_t k = 0, s, e;
    pretok_iter it;
    pretok_begin(&it, t->re, text, len);
    while (pretok_next(&it, &s, &e)) k += reference_bpe_word(t, text + s, e - s, out + k);
    pretok_end(&it);
    *ids = out;
    return k;
}

// Whole files, for the tests' fixtures.
static inline uint8_t *read_whole(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    b[*n] = 0;
    fclose(f);
    return b;
}

static inline void write_whole(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

// Fresh random texts of every style (seed printed): the ids are the reference BPE's (when
// with_reference), never end-of-text, and decode to the same bytes.
static inline void check_random_texts(const tokenizer *t, const char *label, int trials, size_t max_len,
                                      int with_reference) {
    rng_t r;
    rng_seed(&r, test_seed(label));
    uint8_t *text = malloc(max_len);
    for (int trial = 0; trial < trials; trial++) {
        size_t n = rng_u64(&r) % max_len;
        random_text(&r, text, n, trial % 4);
        int32_t *ids;
        size_t k = tok_encode(t, (const char *)text, n, &ids);
        for (size_t i = 0; i < k; i++) assert_true(ids[i] >= 0 && ids[i] < tok_vocab_size(t) && ids[i] != tok_eot(t));
        if (with_reference) {
            int32_t *ref;
            assert_int_equal(reference_encode(t, text, n, &ref), k);
            assert_memory_equal(ref, ids, k * sizeof *ids);
            free(ref);
        }
        assert_decodes_to(t, ids, k, text, n);
        free(ids);
    }
    free(text);
}

#endif
