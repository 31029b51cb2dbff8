// shard.h — binary token shards and the batch loader that reads them.
// File: a fixed header (magic "ACTLSHRD", format version, tokenizer name and fingerprint, token
// count, payload checksum) followed by the tokens as little-endian uint16. Truncated, corrupt or
// mismatched shards are refused with a message saying which and why.
// (Contract shared by the data and train layers.)
#ifndef ACTLAB_SHARD_H
#define ACTLAB_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define SHARD_VERSION 1
#define SHARD_HEADER_BYTES 128

typedef struct {
    char tokenizer[32];     // tok_name() of the tokenizer that wrote it
    uint64_t fingerprint;   // tok_fingerprint() of that tokenizer
    uint64_t n_tokens;
    uint16_t *tokens;       // n_tokens ids
} shard;

// Writes atomically (temp file + rename). Returns 0, or -1 with a message on stderr.
int shard_write(const char *path, const char *tok_name, uint64_t fingerprint, const int32_t *ids, size_t n);
// Reads and validates (magic, version, size, checksum). Returns 0, or -1 with the reason in err.
int shard_read(const char *path, shard *out, char *err, size_t errlen);
// Also refuses a shard written by another tokenizer than expected_fingerprint.
int shard_read_expect(const char *path, uint64_t expected_fingerprint, shard *out, char *err, size_t errlen);
void shard_free(shard *s);

// Deterministic batches of (B,T) inputs and next-token targets from one shard. Its whole state is
// the small struct below, so a checkpoint can store it and resume bitwise.
typedef struct {
    const shard *src;
    uint64_t pos;       // next token offset (sequential mode)
    uint64_t rng[4];    // xoshiro state (random-window mode)
    int random;         // 1: random windows (training); 0: sequential, wrapping (evaluation)
} loader;

void loader_init(loader *ld, const shard *src, int random, uint64_t seed);
// tokens, targets: (B,T). Returns 0, or -1 if the shard holds fewer than T+1 tokens.
int loader_next(loader *ld, int B, int T, int32_t *tokens, int32_t *targets);

#endif
