// tok_map.c — open-addressing hash maps for the tokenizers: byte strings (pre-token words) and
// 64-bit keys (pairs of ids). Linear probing at a load factor of at most 1/2.
#include "tok_internal.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

// Words are short: eight bytes per multiply, then one strong finaliser.
uint64_t tok_hash_bytes(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0x2545f4914f6cdd1dULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, b + i, 8);
        h = (h ^ v) * 0x100000001b3ULL;
        h ^= h >> 31;
    }
    uint64_t tail = 0;
    for (size_t k = 0; i + k < n; k++) tail |= (uint64_t)b[i + k] << (8 * k);
    return mix64(h ^ tail);
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

// ---- strmap ------------------------------------------------------------------------------------

void strmap_init(strmap *m, size_t cap_hint) {
    m->cap = pow2_at_least(2 * cap_hint);
    m->n = 0;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    m->arena_cap = 4096;
    m->arena_n = 0;
    m->arena = xmalloc(m->arena_cap);
}

void strmap_free(strmap *m) {
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static inline uint64_t nonzero_hash(const void *key, size_t len) {
    uint64_t h = tok_hash_bytes(key, len);
    return h ? h : 1;
}

static strmap_slot *strmap_find(const strmap *m, const void *key, size_t len, uint64_t h) {
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (!s->hash) return s;
        if (s->hash == h && s->len == len && !memcmp(m->arena + s->off, key, len)) return s;
    }
}

uint64_t *strmap_get(const strmap *m, const void *key, size_t len) {
    strmap_slot *s = strmap_find(m, key, len, nonzero_hash(key, len));
    return s->hash ? &s->val : NULL;
}

static void strmap_grow(strmap *m) {
    strmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->cap *= 2;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].hash) continue;
        size_t mask = m->cap - 1, j = old[i].hash & mask;
        while (m->slots[j].hash) j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

uint64_t *strmap_put(strmap *m, const void *key, size_t len, int *is_new) {
    if (2 * (m->n + 1) > m->cap) strmap_grow(m);
    uint64_t h = nonzero_hash(key, len);
    strmap_slot *s = strmap_find(m, key, len, h);
    *is_new = !s->hash;
    if (s->hash) return &s->val;
    if (m->arena_n + len > m->arena_cap) {
        while (m->arena_n + len > m->arena_cap) m->arena_cap *= 2;
        uint8_t *a = realloc(m->arena, m->arena_cap);
        if (!a) die("the machine is out of memory", "growing a word table to %zu bytes failed", m->arena_cap);
        m->arena = a;
    }
    memcpy(m->arena + m->arena_n, key, len);
    *s = (strmap_slot){.hash = h, .off = m->arena_n, .len = (uint32_t)len, .val = 0};
    m->arena_n += len;
    m->n++;
    return &s->val;
}

// ---- u64map ------------------------------------------------------------------------------------

void u64map_init(u64map *m, size_t cap_hint) {
    m->cap = pow2_at_least(2 * cap_hint);
    m->n = 0;
    m->keys = xmalloc(m->cap * sizeof *m->keys);
    memset(m->keys, 0xff, m->cap * sizeof *m->keys);
    m->vals = xmalloc(m->cap * sizeof *m->vals);
}

void u64map_free(u64map *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static inline size_t u64map_slot(const u64map *m, uint64_t key) {
    size_t mask = m->cap - 1;
    size_t i = mix64(key) & mask;
    while (m->keys[i] != key && m->keys[i] != UINT64_MAX) i = (i + 1) & mask;
    return i;
}

int64_t *u64map_get(const u64map *m, uint64_t key) {
    size_t i = u64map_slot(m, key);
    return m->keys[i] == key ? &m->vals[i] : NULL;
}

static void u64map_grow(u64map *m) {
    u64map bigger;
    u64map_init(&bigger, m->cap);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == UINT64_MAX) continue;
        size_t j = u64map_slot(&bigger, m->keys[i]);
        bigger.keys[j] = m->keys[i];
        bigger.vals[j] = m->vals[i];
    }
    bigger.n = m->n;
    u64map_free(m);
    *m = bigger;
}

int64_t *u64map_put(u64map *m, uint64_t key, int *is_new) {
    if (2 * (m->n + 1) > m->cap) u64map_grow(m);
    size_t i = u64map_slot(m, key);
    *is_new = m->keys[i] != key;
    if (*is_new) {
        m->keys[i] = key;
        m->vals[i] = 0;
        m->n++;
    }
    return &m->vals[i];
}
