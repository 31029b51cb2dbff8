// hash.h — 64-bit FNV-1a, the checksum of every actlab file format (shards, tokenizers,
// checkpoints) and of the corpus outputs. Chainable: pass the previous result as h.
#ifndef ACTLAB_HASH_H
#define ACTLAB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_OFFSET 0xcbf29ce484222325ull

static inline uint64_t fnv1a64(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

#endif
