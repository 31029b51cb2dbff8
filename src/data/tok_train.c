// tok_train.c — trains a byte-level BPE on a text: ids 0-255 are the bytes, merge r makes id
// 256 + r, and the last id is end-of-text. Pieces come from GPT-2's pre-tokeniser.
//
// The text is pre-tokenised once into distinct words with counts. Each step merges the most
// frequent adjacent pair (ties: the smaller (left, right) ids, so the same text always gives the
// same file), visiting only the words that contain it (a per-pair list of words) and updating the
// pair counts around each merge site. A max-heap with lazy deletion picks the next pair: an entry
// whose count went stale is re-queued with the current count when it reaches the top.
#include "tok_internal.h"
#include "util/check.h"
#include "util/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t *v;
    uint32_t n, cap;
} u32vec;

typedef struct {
    int64_t count;
    uint64_t key;
} heap_entry;

typedef struct {
    // Distinct words of two or more bytes, their symbols back to back (shrinking as they merge).
    size_t nw;
    int32_t *sym;
    size_t *woff;
    uint32_t *wlen;
    int64_t *wcount;
    uint32_t *wstamp;  // 1 + the last merge step that visited the word
    // Pairs by number; index maps a pair key to its number.
    u64map index;
    size_t np, pcap;
    uint64_t *pkey;
    int64_t *pcount;
    u32vec *pwords;    // words that contained the pair when it appeared (may hold stale entries)
    uint32_t *pstamp;  // 1 + the last merge step that raised its count
    // Pairs whose count rose during the current step, to queue once the step is done.
    u32vec raised;
    heap_entry *heap;
    size_t hn, hcap;
} trainer;

static void vec_push(u32vec *a, uint32_t x) {
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 4;
        uint32_t *v = realloc(a->v, a->cap * sizeof *v);
        if (!v) die("the machine is out of memory: train on a smaller text", "growing a pair's word list failed");
        a->v = v;
    }
    a->v[a->n++] = x;
}

static void *grow(void *p, size_t n, size_t size) {
    void *q = realloc(p, n * size);
    if (!q) die("the machine is out of memory: train on a smaller text", "growing BPE training tables to %zu items", n);
    return q;
}

// ---- max-heap of (count, key): larger count first, then the smaller key ------------------------------

static inline int heap_before(heap_entry x, heap_entry y) {
    return x.count > y.count || (x.count == y.count && x.key < y.key);
}

static void heap_push(trainer *tr, int64_t count, uint64_t key) {
    if (tr->hn == tr->hcap) {
        tr->hcap = tr->hcap ? 2 * tr->hcap : 1024;
        tr->heap = grow(tr->heap, tr->hcap, sizeof *tr->heap);
    }
    heap_entry e = {count, key};
    size_t i = tr->hn++;
    while (i && heap_before(e, tr->heap[(i - 1) / 2])) {
        tr->heap[i] = tr->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    tr->heap[i] = e;
}

static heap_entry heap_pop(trainer *tr) {
    heap_entry top = tr->heap[0], e = tr->heap[--tr->hn];
    size_t i = 0, n = tr->hn;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(tr->heap[c + 1], tr->heap[c])) c++;
        if (!heap_before(tr->heap[c], e)) break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    tr->heap[i] = e;
    return top;
}

// ---- pairs ---------------------------------------------------------------------------------------------

static uint32_t pair_number(trainer *tr, int32_t a, int32_t b) {
    int fresh;
    uint64_t key = tok_pair_key(a, b);
    int64_t *slot = u64map_put(&tr->index, key, &fresh);
    if (!fresh) return (uint32_t)*slot;
    if (tr->np == tr->pcap) {
        tr->pcap = tr->pcap ? 2 * tr->pcap : 1 << 16;
        tr->pkey = grow(tr->pkey, tr->pcap, sizeof *tr->pkey);
        tr->pcount = grow(tr->pcount, tr->pcap, sizeof *tr->pcount);
        tr->pwords = grow(tr->pwords, tr->pcap, sizeof *tr->pwords);
        tr->pstamp = grow(tr->pstamp, tr->pcap, sizeof *tr->pstamp);
    }
    size_t p = tr->np++;
    tr->pkey[p] = key;
    tr->pcount[p] = 0;
    tr->pwords[p] = (u32vec){0};
    tr->pstamp[p] = 0;
    *slot = (int64_t)p;
    return (uint32_t)p;
}

// Adds d to a pair's count. A pair that gains (only pairs with the new id do) remembers the word
// and is queued at the end of the step.
static void pair_add(trainer *tr, int32_t a, int32_t b, int64_t d, uint32_t word, uint32_t step) {
    uint32_t p = pair_number(tr, a, b);
    tr->pcount[p] += d;
    if (d <= 0) return;
    u32vec *ws = &tr->pwords[p];
    if (!ws->n || ws->v[ws->n - 1] != word) vec_push(ws, word);
    if (tr->pstamp[p] != step + 1) {
        tr->pstamp[p] = step + 1;
        vec_push(&tr->raised, p);
    }
}

// ---- words ---------------------------------------------------------------------------------------------

static void count_words(trainer *tr, const char *text, size_t len) {
    strmap words;
    strmap_init(&words, 1 << 16);
    pcre2_code *re = pretok_compile();
    pretok_iter it;
    pretok_begin(&it, re, text, len);
    progress_t prog;
    progress_start(&prog, "bpe: counting words (MB)", (len + (1 << 20) - 1) >> 20);
    size_t s, e, pieces = 0;
    while (pretok_next(&it, &s, &e)) {
        if (e - s < 2) continue;  // a single byte has no pair to merge
        int fresh;
        (*strmap_put(&words, text + s, e - s, &fresh))++;
        if (++pieces % 65536 == 0) progress_update(&prog, e >> 20, NULL);
    }
    pretok_end(&it);
    pcre2_code_free(re);
    char extra[64];
    snprintf(extra, sizeof extra, "%zu distinct words", words.n);
    progress_finish(&prog, extra);

    tr->nw = words.n;
    tr->sym = xmalloc((words.arena_n + 1) * sizeof *tr->sym);
    tr->woff = xmalloc((words.n + 1) * sizeof *tr->woff);
    tr->wlen = xmalloc((words.n + 1) * sizeof *tr->wlen);
    tr->wcount = xmalloc((words.n + 1) * sizeof *tr->wcount);
    tr->wstamp = xcalloc(words.n + 1, sizeof *tr->wstamp);
    size_t w = 0, off = 0;
    for (size_t i = 0; i < words.cap; i++) {
        const strmap_slot *sl = &words.slots[i];
        if (!sl->hash) continue;
        const uint8_t *k = strmap_key(&words, sl);
        for (uint32_t j = 0; j < sl->len; j++) tr->sym[off + j] = k[j];
        tr->woff[w] = off;
        tr->wlen[w] = sl->len;
        tr->wcount[w] = (int64_t)sl->val;
        off += sl->len;
        w++;
    }
    strmap_free(&words);
}

static void count_pairs(trainer *tr) {
    u64map_init(&tr->index, 1 << 16);
    for (size_t w = 0; w < tr->nw; w++) {
        const int32_t *s = tr->sym + tr->woff[w];
        for (uint32_t i = 0; i + 1 < tr->wlen[w]; i++) {
            uint32_t p = pair_number(tr, s[i], s[i + 1]);
            tr->pcount[p] += tr->wcount[w];
            u32vec *ws = &tr->pwords[p];
            if (!ws->n || ws->v[ws->n - 1] != (uint32_t)w) vec_push(ws, (uint32_t)w);
        }
    }
    for (size_t p = 0; p < tr->np; p++) heap_push(tr, tr->pcount[p], tr->pkey[p]);
}

// Replaces every (a, b) in word w by c, left to right, and moves the counts of the pairs around
// each site: (prev, a) becomes (prev, c) and (b, next) becomes (c, next). prev may already be a c
// from this same word, which makes back-to-back sites come out right.
static void merge_word(trainer *tr, uint32_t w, int32_t a, int32_t b, int32_t c, uint32_t step) {
    int32_t *s = tr->sym + tr->woff[w];
    uint32_t L = tr->wlen[w], j = 0;
    int64_t wc = tr->wcount[w];
    for (uint32_t i = 0; i < L;) {
        if (i + 1 < L && s[i] == a && s[i + 1] == b) {
            if (j > 0) {
                pair_add(tr, s[j - 1], a, -wc, w, step);
                pair_add(tr, s[j - 1], c, wc, w, step);
            }
            if (i + 2 < L) {
                pair_add(tr, b, s[i + 2], -wc, w, step);
                pair_add(tr, c, s[i + 2], wc, w, step);
            }
            pair_add(tr, a, b, -wc, w, step);
            s[j++] = c;
            i += 2;
        } else {
            s[j++] = s[i++];
        }
    }
    tr->wlen[w] = j;
}

static void trainer_free(trainer *tr) {
    free(tr->sym);
    free(tr->woff);
    free(tr->wlen);
    free(tr->wcount);
    free(tr->wstamp);
    for (size_t p = 0; p < tr->np; p++) free(tr->pwords[p].v);
    free(tr->pwords);
    free(tr->pkey);
    free(tr->pcount);
    free(tr->pstamp);
    free(tr->raised.v);
    free(tr->heap);
    if (tr->index.keys) u64map_free(&tr->index);
}

// The most frequent pair still present, or -1 when no pair is left.
static int64_t next_pair(trainer *tr) {
    while (tr->hn) {
        heap_entry e = heap_pop(tr);
        uint32_t p = (uint32_t)*u64map_get(&tr->index, e.key);
        int64_t now = tr->pcount[p];
        if (now == e.count && now > 0) return p;
        if (now > 0 && now < e.count) heap_push(tr, now, e.key);  // a rise queued its own entry
    }
    return -1;
}

tokenizer *tok_train_bpe(const char *text, size_t len, int vocab_size) {
    if (vocab_size < 257 || vocab_size > 65536) {
        fprintf(stderr, "actlab: error: BPE vocabulary size %d is outside [257, 65536]\n", vocab_size);
        return NULL;
    }
    int n_merges = vocab_size - 257;
    trainer tr = {0};
    count_words(&tr, text, len);
    count_pairs(&tr);
    tok_merge *merges = xmalloc(((size_t)n_merges + 1) * sizeof *merges);
    progress_t prog;
    progress_start(&prog, "bpe: merges", (size_t)n_merges);
    for (int m = 0; m < n_merges; m++) {
        int64_t p = next_pair(&tr);
        if (p < 0) {
            fprintf(stderr,
                    "actlab: error: the training text (%zu bytes) allows only %d merges; a vocabulary of %d needs %d\n"
                    "  hint: train on more text or ask for a smaller vocabulary\n",
                    len, m, vocab_size, n_merges);
            free(merges);
            trainer_free(&tr);
            return NULL;
        }
        int32_t a = (int32_t)(tr.pkey[p] >> 32), b = (int32_t)(tr.pkey[p] & 0xffffffffu), c = 256 + m;
        merges[m] = (tok_merge){a, b, c};
        int64_t count = tr.pcount[p];
        tr.raised.n = 0;
        // Only pairs with c gain words during the step, so (a, b)'s list is final: take it over.
        u32vec ws = tr.pwords[p];
        tr.pwords[p] = (u32vec){0};
        for (uint32_t k = 0; k < ws.n; k++) {
            uint32_t w = ws.v[k];
            if (tr.wstamp[w] == (uint32_t)m + 1) continue;
            tr.wstamp[w] = (uint32_t)m + 1;
            merge_word(&tr, w, a, b, c, (uint32_t)m);
        }
        free(ws.v);
        for (uint32_t k = 0; k < tr.raised.n; k++) {
            uint32_t q = tr.raised.v[k];
            if (tr.pcount[q] > 0) heap_push(&tr, tr.pcount[q], tr.pkey[q]);
        }
        if ((m & 15) == 0) {
            char extra[64];
            snprintf(extra, sizeof extra, "pair count %lld", (long long)count);
            progress_update(&prog, (size_t)m, extra);
        }
    }
    progress_finish(&prog, NULL);
    trainer_free(&tr);
    int32_t byte_id[256];
    for (int i = 0; i < 256; i++) byte_id[i] = i;
    char name[32], err[256];
    snprintf(name, sizeof name, "bpe:%d", vocab_size);
    tokenizer *t = tok_build(name, vocab_size, vocab_size - 1, byte_id, merges, n_merges, err, sizeof err);
    if (!t) fprintf(stderr, "actlab: error: BPE training produced an invalid tokenizer: %s\n", err);
    return t;
}
