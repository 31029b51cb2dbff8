// tok_core.c — the parts every byte-level BPE tokenizer shares: building one from its merges,
// encoding (pre-tokenise, then BPE per piece with a per-call word cache), decoding.
#include "util/hash.h"
#include "shard.h"
#include "tok_internal.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EOT_TEXT "<|endoftext|>"
#define MAX_TOKEN_BYTES 65536
#define MAX_BLOB_BYTES (256u << 20)
#define CACHE_MAX_WORD 64  // longer pieces are rare; they skip the cache instead of filling it

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// Identifies the definition (not the pre-tokeniser: every tokenizer here uses GPT-2's).
static uint64_t fingerprint(const tokenizer *t) {
    uint8_t b[12];
    uint64_t h = fnv1a64(FNV1A64_OFFSET, "actlab-bpe", 10);
    put_u32(b, (uint32_t)t->vocab_size);
    put_u32(b + 4, (uint32_t)t->eot);
    put_u32(b + 8, (uint32_t)t->n_merges);
    h = fnv1a64(h, b, 12);
    for (int i = 0; i < 256; i++) {
        put_u32(b, (uint32_t)t->byte_id[i]);
        h = fnv1a64(h, b, 4);
    }
    for (int r = 0; r < t->n_merges; r++) {
        put_u32(b, (uint32_t)t->merges[r].left);
        put_u32(b + 4, (uint32_t)t->merges[r].right);
        put_u32(b + 8, (uint32_t)t->merges[r].result);
        h = fnv1a64(h, b, 12);
    }
    return h;
}

#define FAIL(...)                              \
    do {                                       \
        snprintf(err, errlen, __VA_ARGS__);    \
        goto fail;                             \
    } while (0)

// Token lengths first (checking that each id is defined once, from defined parts), then the bytes.
static int build_tables(tokenizer *t, char *err, size_t errlen) {
    int V = t->vocab_size;
    int64_t *len = xmalloc((size_t)V * sizeof *len);
    for (int i = 0; i < V; i++) len[i] = -1;
    len[t->eot] = 0;
    for (int b = 0; b < 256; b++) {
        int32_t id = t->byte_id[b];
        if (id < 0 || id >= V) FAIL("byte %d has id %d, outside [0, %d)", b, id, V);
        if (len[id] >= 0) FAIL("byte %d has id %d, which is already taken", b, id);
        len[id] = 1;
    }
    u64map_init(&t->ranks, (size_t)t->n_merges);
    uint64_t total = 0;
    for (int r = 0; r < t->n_merges; r++) {
        tok_merge m = t->merges[r];
        if (m.left < 0 || m.left >= V || m.right < 0 || m.right >= V || m.result < 0 || m.result >= V)
            FAIL("merge %d (%d %d -> %d) has an id outside [0, %d)", r, m.left, m.right, m.result, V);
        if (len[m.left] <= 0 || len[m.right] <= 0)
            FAIL("merge %d (%d %d) uses an id that no earlier merge or byte defines", r, m.left, m.right);
        if (len[m.result] >= 0) FAIL("merge %d defines id %d a second time", r, m.result);
        len[m.result] = len[m.left] + len[m.right];
        if (len[m.result] > MAX_TOKEN_BYTES) FAIL("merge %d makes a token longer than %d bytes", r, MAX_TOKEN_BYTES);
        int fresh;
        int64_t *rank = u64map_put(&t->ranks, tok_pair_key(m.left, m.right), &fresh);
        if (!fresh) FAIL("merges %d and %d merge the same pair (%d %d)", (int)*rank, r, m.left, m.right);
        *rank = r;
        total += (uint64_t)len[m.result];
        if (total > MAX_BLOB_BYTES) FAIL("the tokens add up to more than %u bytes", MAX_BLOB_BYTES);
    }
    for (int i = 0; i < V; i++)
        if (len[i] < 0) FAIL("id %d is defined by no byte and no merge", i);
    t->tok_off = xmalloc(((size_t)V + 1) * sizeof *t->tok_off);
    t->tok_off[0] = 0;
    for (int i = 0; i < V; i++) t->tok_off[i + 1] = t->tok_off[i] + (uint32_t)len[i];
    t->blob = xmalloc(t->tok_off[V] + 1);
    for (int b = 0; b < 256; b++) t->blob[t->tok_off[t->byte_id[b]]] = (uint8_t)b;
    for (int r = 0; r < t->n_merges; r++) {  // parts come before the merges that use them
        tok_merge m = t->merges[r];
        uint8_t *dst = t->blob + t->tok_off[m.result];
        memcpy(dst, t->blob + t->tok_off[m.left], (size_t)len[m.left]);
        memcpy(dst + len[m.left], t->blob + t->tok_off[m.right], (size_t)len[m.right]);
    }
    free(len);
    return 0;
fail:
    free(len);
    return -1;
}

tokenizer *tok_build(const char *name, int vocab_size, int eot, const int32_t byte_id[256], tok_merge *merges,
                     int n_merges, char *err, size_t errlen) {
    tokenizer *t = xcalloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->vocab_size = vocab_size;
    t->eot = eot;
    memcpy(t->byte_id, byte_id, sizeof t->byte_id);
    t->merges = merges;
    t->n_merges = n_merges;
    if (vocab_size < 257 || vocab_size > TOK_MAX_VOCAB)
        FAIL("vocabulary size %d is outside [257, %d]", vocab_size, TOK_MAX_VOCAB);
    if (eot < 0 || eot >= vocab_size) FAIL("end-of-text id %d is outside [0, %d)", eot, vocab_size);
    if (n_merges != vocab_size - 257)
        FAIL("%d merges do not fill a vocabulary of %d (256 bytes + merges + end-of-text)", n_merges, vocab_size);
    if (build_tables(t, err, errlen)) goto fail;
    t->fingerprint = fingerprint(t);
    t->re = pretok_compile();
    return t;
fail:
    tok_free(t);
    return NULL;
}
#undef FAIL

void tok_free(tokenizer *t) {
    if (!t) return;
    free(t->merges);
    free(t->tok_off);
    free(t->blob);
    if (t->ranks.keys) u64map_free(&t->ranks);
    if (t->re) pcre2_code_free(t->re);
    free(t);
}

int tok_vocab_size(const tokenizer *t) { return t->vocab_size; }
int tok_eot(const tokenizer *t) { return t->eot; }
const char *tok_name(const tokenizer *t) { return t->name; }
uint64_t tok_fingerprint(const tokenizer *t) { return t->fingerprint; }

// ---- BPE of one piece ----------------------------------------------------------------------------

void tok_scratch_free(tok_scratch *s) {
    free(s->id);
    free(s->prev);
    free(s->next);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

static void scratch_reserve(tok_scratch *s, size_t n) {
    if (n <= s->cap) return;
    tok_scratch_free(s);
    s->cap = n < 64 ? 64 : 2 * n;
    s->id = xmalloc(s->cap * sizeof *s->id);
    s->prev = xmalloc(s->cap * sizeof *s->prev);
    s->next = xmalloc(s->cap * sizeof *s->next);
    s->heap = xmalloc(3 * s->cap * sizeof *s->heap);
}

static inline int64_t pair_rank(const tokenizer *t, int32_t a, int32_t b) {
    const int64_t *r = u64map_get(&t->ranks, tok_pair_key(a, b));
    return r ? *r : -1;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], v = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    return top;
}

// Symbols form a linked list; the heap holds (rank, left position) of every adjacent pair that
// has a merge. An entry is stale once either side merged elsewhere: its pair's rank then differs.
size_t tok_bpe_word(const tokenizer *t, const uint8_t *w, size_t n, int32_t *out, tok_scratch *s) {
    if (n <= 1) {
        if (n) out[0] = t->byte_id[w[0]];
        return n;
    }
    scratch_reserve(s, n);
    int32_t *id = s->id, *prev = s->prev, *next = s->next;
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        id[i] = t->byte_id[w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t r = pair_rank(t, id[i], id[i + 1]);
        if (r >= 0) heap_push(s->heap, &hn, (uint64_t)r << 32 | i);
    }
    while (hn) {
        uint64_t e = heap_pop(s->heap, &hn);
        int64_t r = (int64_t)(e >> 32);
        int32_t p = (int32_t)(e & 0xffffffffu), q = next[p];
        if (id[p] < 0 || q < 0 || pair_rank(t, id[p], id[q]) != r) continue;
        id[p] = t->merges[r].result;
        id[q] = -1;
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = p;
        if (prev[p] >= 0) {
            int64_t r2 = pair_rank(t, id[prev[p]], id[p]);
            if (r2 >= 0) heap_push(s->heap, &hn, (uint64_t)r2 << 32 | (uint32_t)prev[p]);
        }
        if (next[p] >= 0) {
            int64_t r2 = pair_rank(t, id[p], id[next[p]]);
            if (r2 >= 0) heap_push(s->heap, &hn, (uint64_t)r2 << 32 | (uint32_t)p);
        }
    }
    size_t k = 0;
    for (int32_t p = 0; p >= 0; p = next[p]) out[k++] = id[p];
    return k;
}

// ---- encode / decode -----------------------------------------------------------------------------

typedef struct {
    int32_t *v;
    size_t n, cap;
} ids_vec;

static void ids_reserve(ids_vec *a, size_t extra) {
    if (a->n + extra <= a->cap) return;
    while (a->n + extra > a->cap) a->cap = a->cap ? 2 * a->cap : 1024;
    int32_t *v = realloc(a->v, a->cap * sizeof *v);
    if (!v) die("the machine is out of memory: encode the text in smaller pieces", "growing %zu ids failed", a->cap);
    a->v = v;
}

size_t tok_encode(const tokenizer *t, const char *text, size_t len, int32_t **ids) {
    ids_vec out = {0}, cached = {0};  // cached: the ids of every cached word, back to back
    ids_reserve(&out, len / 3 + 16);
    strmap cache;
    strmap_init(&cache, len < 32768 ? len / 8 : 4096);
    tok_scratch scratch = {0};
    pretok_iter it;
    pretok_begin(&it, t->re, text, len);
    size_t s, e;
    while (pretok_next(&it, &s, &e)) {
        const uint8_t *w = (const uint8_t *)text + s;
        size_t n = e - s;
        ids_reserve(&out, n);
        if (n == 1) {
            out.v[out.n++] = t->byte_id[w[0]];
            continue;
        }
        if (n > CACHE_MAX_WORD) {
            out.n += tok_bpe_word(t, w, n, out.v + out.n, &scratch);
            continue;
        }
        int fresh;
        uint64_t *slot = strmap_put(&cache, w, n, &fresh);
        if (!fresh) {  // value: offset into cached << 8 | count (count <= CACHE_MAX_WORD)
            size_t off = (size_t)(*slot >> 8), k = (size_t)(*slot & 0xff);
            memcpy(out.v + out.n, cached.v + off, k * sizeof *out.v);
            out.n += k;
            continue;
        }
        size_t k = tok_bpe_word(t, w, n, out.v + out.n, &scratch);
        ids_reserve(&cached, k);
        memcpy(cached.v + cached.n, out.v + out.n, k * sizeof *out.v);
        *slot = (uint64_t)cached.n << 8 | k;
        cached.n += k;
        out.n += k;
    }
    pretok_end(&it);
    tok_scratch_free(&scratch);
    strmap_free(&cache);
    free(cached.v);
    *ids = out.v;
    return out.n;
}

char *tok_decode(const tokenizer *t, const int32_t *ids, size_t n, size_t *len) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->vocab_size) {
            fprintf(stderr, "actlab: error: token %zu has id %d, outside %s's vocabulary [0, %d)\n", i, ids[i],
                    t->name, t->vocab_size);
            return NULL;
        }
        total += ids[i] == t->eot ? sizeof EOT_TEXT - 1 : t->tok_off[ids[i] + 1] - t->tok_off[ids[i]];
    }
    char *out = xmalloc(total + 1), *p = out;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == t->eot) {
            memcpy(p, EOT_TEXT, sizeof EOT_TEXT - 1);
            p += sizeof EOT_TEXT - 1;
            continue;
        }
        uint32_t a = t->tok_off[ids[i]], b = t->tok_off[ids[i] + 1];
        memcpy(p, t->blob + a, b - a);
        p += b - a;
    }
    *p = 0;
    if (len) *len = total;
    return out;
}

// Cut before an ASCII letter that follows a lone "\n" (itself after a visible ASCII character):
// that "\n" is a piece of its own whether or not the text goes on (a longer whitespace run would
// let the look-ahead (?!\S) see across the cut), and the letter starts a piece either way, as the
// pattern looks behind nowhere. So the pieces, and the ids, on each side are those of the whole.
size_t tok_split_point(const char *text, size_t len, size_t from) {
    for (size_t i = from < 2 ? 2 : from; i < len; i++) {
        unsigned char c = (unsigned char)text[i], before = (unsigned char)text[i - 2];
        if (text[i - 1] == '\n' && (c | 0x20) >= 'a' && (c | 0x20) <= 'z' && before > ' ' && before < 0x7f) return i;
    }
    return len;
}
