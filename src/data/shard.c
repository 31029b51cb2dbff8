// shard.c — token shard files; see shard.h for the contract.
//
// Layout (all integers little-endian, whatever the host):
//   0  char[8]  magic "ACTLSHRD"
//   8  u32      format version (SHARD_VERSION)
//  12  u32      header size in bytes (SHARD_HEADER_BYTES)
//  16  char[32] tokenizer name, NUL-padded
//  48  u64      tokenizer fingerprint
//  56  u64      token count
//  64  u64      checksum: FNV-1a 64 over header bytes [0,64) then the payload
//  72  zeros up to SHARD_HEADER_BYTES (reserved; must read back as zero)
//  then token count x u16
// The checksum covers the header too, so a flipped bit in the name or the count is caught.
#include "util/hash.h"
#include "util/atomic.h"
#include "data/shard.h"
#include "util/check.h"
#include "util/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char SHARD_MAGIC[8] = {'A', 'C', 'T', 'L', 'S', 'H', 'R', 'D'};

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

// Tokens as little-endian u16 bytes, so the file is the same on any host.
static unsigned char *pack_tokens(const int32_t *ids, size_t n) {
    unsigned char *buf = xmalloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = (unsigned char)(ids[i] & 0xff);
        buf[2 * i + 1] = (unsigned char)((ids[i] >> 8) & 0xff);
    }
    return buf;
}

static void fill_header(unsigned char h[SHARD_HEADER_BYTES], const char *tok_name, uint64_t fingerprint,
                        const unsigned char *payload, size_t n) {
    memset(h, 0, SHARD_HEADER_BYTES);
    memcpy(h, SHARD_MAGIC, 8);
    put_u32(h + 8, SHARD_VERSION);
    put_u32(h + 12, SHARD_HEADER_BYTES);
    memcpy(h + 16, tok_name, strlen(tok_name));
    put_u64(h + 48, fingerprint);
    put_u64(h + 56, (uint64_t)n);
    uint64_t sum = fnv1a64(FNV1A64_OFFSET, h, 64);
    put_u64(h + 64, fnv1a64(sum, payload, 2 * n));
}

int shard_write(const char *path, const char *tok_name, uint64_t fingerprint, const int32_t *ids, size_t n) {
    if (strlen(tok_name) >= 32) {
        fprintf(stderr, "actlab: error: shard '%s': tokenizer name '%s' is longer than 31 bytes\n", path, tok_name);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] > 65535) {
            fprintf(stderr,
                    "actlab: error: shard '%s': token %zu has id %d, outside 0..65535 (shards store uint16)\n"
                    "  hint: use a tokenizer with at most 65536 ids\n",
                    path, i, (int)ids[i]);
            return -1;
        }
    unsigned char *payload = pack_tokens(ids, n);
    unsigned char *file = xmalloc(SHARD_HEADER_BYTES + 2 * n);
    fill_header(file, tok_name, fingerprint, payload, n);
    memcpy(file + SHARD_HEADER_BYTES, payload, 2 * n);
    int rc = atomic_write_file(path, file, SHARD_HEADER_BYTES + 2 * n);  // temp file + rename
    free(file);
    free(payload);
    return rc;
}

// Checks everything that can be checked from the header and the file size alone.
static int check_header(const char *path, const unsigned char *h, long fsize, char *err, size_t errlen) {
    if (memcmp(h, SHARD_MAGIC, 8) != 0) {
        err_set(err, errlen, "'%s' is not an actlab token shard (bad magic; expected \"ACTLSHRD\")", path);
        return -1;
    }
    uint32_t version = get_u32(h + 8), hbytes = get_u32(h + 12);
    if (version != SHARD_VERSION) {
        err_set(err, errlen,
                "shard '%s' has format version %u, this build reads version %d: regenerate it with 'actlab data'",
                path, version, SHARD_VERSION);
        return -1;
    }
    if (hbytes != SHARD_HEADER_BYTES) {
        err_set(err, errlen, "shard '%s' is corrupt: header size %u, expected %d", path, hbytes, SHARD_HEADER_BYTES);
        return -1;
    }
    uint64_t n = get_u64(h + 56);
    uint64_t want = SHARD_HEADER_BYTES + 2 * n;
    if (n > ((uint64_t)1 << 60) || (uint64_t)fsize != want) {
        err_set(err, errlen,
                "shard '%s' is %s: header says %llu tokens (%llu bytes) but the file has %ld bytes: "
                "regenerate it with 'actlab data'",
                path, (uint64_t)fsize < want ? "truncated" : "corrupt (trailing bytes)", (unsigned long long)n,
                (unsigned long long)want, fsize);
        return -1;
    }
    return 0;
}

int shard_read(const char *path, shard *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, errlen, "cannot open shard '%s': %s (run 'actlab data' first?)", path, strerror(errno));
        return -1;
    }
    struct stat st;
    unsigned char h[SHARD_HEADER_BYTES];
    if (fstat(fileno(f), &st) != 0 || st.st_size < SHARD_HEADER_BYTES) {
        err_set(err, errlen, "shard '%s' is truncated: %lld bytes, shorter than the %d-byte header", path,
                (long long)st.st_size, SHARD_HEADER_BYTES);
        fclose(f);
        return -1;
    }
    if (fread(h, 1, sizeof h, f) != sizeof h) {
        err_set(err, errlen, "cannot read the header of shard '%s'", path);
        fclose(f);
        return -1;
    }
    if (check_header(path, h, (long)st.st_size, err, errlen) != 0) {
        fclose(f);
        return -1;
    }
    uint64_t n = get_u64(h + 56);
    unsigned char *payload = xmalloc(2 * n);
    size_t got = fread(payload, 2, n, f);
    fclose(f);
    uint64_t sum = fnv1a64(fnv1a64(FNV1A64_OFFSET, h, 64), payload, 2 * got);
    // Checked after the checksum (which a flipped bit in the name already fails): a file with a
    // valid checksum but garbage in the reserved bytes or an unterminated name is still refused.
    int reserved_clean = h[16 + 31] == 0;
    for (int i = 72; i < SHARD_HEADER_BYTES; i++) reserved_clean &= h[i] == 0;
    if (got != n || sum != get_u64(h + 64) || !reserved_clean) {
        if (got == n && sum == get_u64(h + 64))
            err_set(err, errlen, "shard '%s' is corrupt: unterminated tokenizer name or non-zero reserved header bytes",
                    path);
        else
            err_set(err, errlen,
                    "shard '%s' is corrupt: checksum mismatch (stored %016llx, computed %016llx): "
                    "regenerate it with 'actlab data'",
                    path, (unsigned long long)get_u64(h + 64), (unsigned long long)sum);
        free(payload);
        return -1;
    }
    memcpy(out->tokenizer, h + 16, 32);
    out->fingerprint = get_u64(h + 48);
    out->n_tokens = n;
    out->tokens = xmalloc(2 * (n ? n : 1));
    for (uint64_t i = 0; i < n; i++) out->tokens[i] = (uint16_t)(payload[2 * i] | (payload[2 * i + 1] << 8));
    free(payload);
    return 0;
}

int shard_read_expect(const char *path, uint64_t expected_fingerprint, shard *out, char *err, size_t errlen) {
    if (shard_read(path, out, err, errlen) != 0) return -1;
    if (out->fingerprint != expected_fingerprint) {
        err_set(err, errlen,
                "shard '%s' was written by tokenizer '%s' (fingerprint %016llx), not the one expected "
                "(fingerprint %016llx): regenerate it with 'actlab data --tokenizer ...' or pick the matching tokenizer",
                path, out->tokenizer, (unsigned long long)out->fingerprint, (unsigned long long)expected_fingerprint);
        shard_free(out);
        return -1;
    }
    return 0;
}

void shard_free(shard *s) {
    free(s->tokens);
    s->tokens = NULL;
    s->n_tokens = 0;
}
