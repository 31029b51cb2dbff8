// tok_internal.h — what the tokenizer files (tok_*.c) share: the tokenizer struct, the hash maps,
// GPT-2's pre-tokeniser and the per-word BPE. Not part of the public contract (tokenizer.h);
// tests include it to compare against their reference implementations.
#ifndef ACTLAB_TOK_INTERNAL_H
#define ACTLAB_TOK_INTERNAL_H

#include "util/hash.h"
#include "tokenizer.h"

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define TOK_MAX_VOCAB (1 << 24)

// ---- hash maps -----------------------------------------------------------------------------
uint64_t tok_hash_bytes(const void *p, size_t n);       // fast, for the maps (not stored anywhere)
// Fingerprints and file checksums use shard_fnv1a (shard.h): FNV-1a 64, stable across machines.

// Byte string -> uint64 value. Keys are copied into an arena owned by the map.
typedef struct {
    uint64_t hash;  // 0 marks an empty slot
    size_t off;     // key bytes at arena + off
    uint32_t len;
    uint64_t val;
} strmap_slot;

typedef struct {
    strmap_slot *slots;
    size_t cap, n;  // cap: a power of two
    uint8_t *arena;
    size_t arena_n, arena_cap;
} strmap;

void strmap_init(strmap *m, size_t cap_hint);
void strmap_free(strmap *m);
uint64_t *strmap_get(const strmap *m, const void *key, size_t len);  // NULL if absent
// Inserts with value 0 when absent (*is_new = 1); returns the value's address either way.
// The address is valid until the next put.
uint64_t *strmap_put(strmap *m, const void *key, size_t len, int *is_new);
static inline const uint8_t *strmap_key(const strmap *m, const strmap_slot *s) { return m->arena + s->off; }

// uint64 key (any value but UINT64_MAX) -> int64 value.
typedef struct {
    uint64_t *keys;  // UINT64_MAX marks an empty slot
    int64_t *vals;
    size_t cap, n;
} u64map;

void u64map_init(u64map *m, size_t cap_hint);
void u64map_free(u64map *m);
int64_t *u64map_get(const u64map *m, uint64_t key);  // NULL if absent
int64_t *u64map_put(u64map *m, uint64_t key, int *is_new);

static inline uint64_t tok_pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

// ---- GPT-2 pre-tokenisation ----------------------------------------------------------------
// GPT-2's pattern, compiled for UTF-8 with Unicode properties. PCRE2_MATCH_INVALID_UTF makes
// invalid UTF-8 match nothing instead of failing: each run of bytes between two matches becomes
// one piece of its own, so every byte of the input lands in exactly one piece.
pcre2_code *pretok_compile(void);

typedef struct {
    const pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    const uint8_t *text;
    size_t len, pos;
    size_t pend_start, pend_end;  // a match found after a gap, returned next
} pretok_iter;

void pretok_begin(pretok_iter *it, const pcre2_code *re, const void *text, size_t len);
// Next piece [*start, *end); returns 0 at the end of the text.
int pretok_next(pretok_iter *it, size_t *start, size_t *end);
void pretok_end(pretok_iter *it);

// ---- GPT-2's byte characters -------------------------------------------------------------------
// GPT-2 spells token bytes as Unicode characters so that every byte is printable: printable Latin-1
// bytes stand for themselves, the other 68 get U+0100, U+0101, ... in byte order. GPT-2's files and
// Hugging Face's byte-level tokenizer.json both use this table.
void tok_byte_to_unicode(int cp_of_byte[256]);

// ---- the tokenizer ----------------------------------------------------------------------------
typedef struct { int32_t left, right, result; } tok_merge;

struct tokenizer {
    char name[32];
    int vocab_size;
    int eot;
    int32_t byte_id[256];  // id of the one-byte token of each byte value
    int n_merges;
    tok_merge *merges;     // in rank order: merges[r] has rank r
    // Derived by tok_build.
    uint32_t *tok_off;     // (vocab_size+1): bytes of id i are blob[tok_off[i] .. tok_off[i+1])
    uint8_t *blob;
    u64map ranks;          // pair key -> rank
    pcre2_code *re;
    uint64_t fingerprint;
};

// Validates and completes a tokenizer from its definition (takes ownership of merges, even on
// failure). Every id except eot must be defined exactly once: a byte or a merge whose parts are
// defined by earlier ranks. Returns NULL with the reason in err.
tokenizer *tok_build(const char *name, int vocab_size, int eot, const int32_t byte_id[256], tok_merge *merges,
                     int n_merges, char *err, size_t errlen);

// Scratch buffers reused across words by tok_bpe_word.
typedef struct {
    int32_t *id;
    int32_t *prev, *next;
    uint64_t *heap;  // (rank << 32 | position), a min-heap
    size_t cap;
} tok_scratch;

void tok_scratch_free(tok_scratch *s);
// BPE of one pre-tokenised piece: the lowest-ranked adjacent pair merges first, leftmost first
// among equals. Writes at most n ids to out and returns how many.
size_t tok_bpe_word(const tokenizer *t, const uint8_t *w, size_t n, int32_t *out, tok_scratch *s);

#endif
