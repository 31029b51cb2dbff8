// tok_hf.c — a tokenizer as Hugging Face tokenizers files: tokenizer.json (byte-level BPE, the
// same pipeline GPT-2's own tokenizer.json describes), tokenizer_config.json and
// special_tokens_map.json. Token strings use GPT-2's byte characters, so the vocabulary and the
// merges read like GPT-2's whichever tokenizer (gpt2 or a trained bpe:N) they come from.
#include "tok_internal.h"
#include "util/atomic.h"
#include "util/check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EOT_TEXT "<|endoftext|>"

// Token id -> its bytes spelt in GPT-2's byte characters (UTF-8; every character is below U+0800,
// so at most two bytes per token byte). The end-of-text id is spelt "<|endoftext|>".
static char **token_strings(const tokenizer *t) {
    int cp[256];
    tok_byte_to_unicode(cp);
    char **s = xmalloc((size_t)t->vocab_size * sizeof *s);
    for (int id = 0; id < t->vocab_size; id++) {
        if (id == t->eot) {
            s[id] = xmalloc(sizeof EOT_TEXT);
            memcpy(s[id], EOT_TEXT, sizeof EOT_TEXT);
            continue;
        }
        uint32_t a = t->tok_off[id], b = t->tok_off[id + 1];
        char *p = s[id] = xmalloc(2 * (size_t)(b - a) + 1);
        for (uint32_t i = a; i < b; i++) {
            int c = cp[t->blob[i]];
            if (c < 0x80) *p++ = (char)c;
            else *p++ = (char)(0xC0 | (c >> 6)), *p++ = (char)(0x80 | (c & 0x3F));
        }
        *p = 0;
    }
    return s;
}

static void free_strings(char **s, int n) {
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

// vocab: token string -> id, in id order. tokenizer.json keys tokens by their string, so two ids
// with the same bytes (possible in principle for a trained BPE) cannot be written: refused.
static json_t *vocab_json(const tokenizer *t, char **str, char *err, size_t errlen) {
    json_t *v = json_object();
    for (int id = 0; id < t->vocab_size; id++) {
        json_t *prev = json_object_get(v, str[id]);
        if (prev) {
            snprintf(err, errlen, "ids %d and %d are the same string '%.40s', which tokenizer.json cannot hold",
                     (int)json_integer_value(prev), id, str[id]);
            json_decref(v);
            return NULL;
        }
        json_object_set_new(v, str[id], json_integer(id));
    }
    return v;
}

// merges in rank order as [left, right] pairs (the format of tokenizers 0.20+, which older
// readers and tokenizers.js also accept; unlike "left right" it needs no rule about spaces).
static json_t *merges_json(const tokenizer *t, char **str) {
    json_t *m = json_array();
    for (int r = 0; r < t->n_merges; r++)
        json_array_append_new(m, json_pack("[s,s]", str[t->merges[r].left], str[t->merges[r].right]));
    return m;
}

// The GPT-2 pipeline: no normaliser; ByteLevel pre-tokeniser with GPT-2's regex and no prefix
// space (actlab adds none); BPE with neither unknown token nor byte fallback (every byte is a
// token); ByteLevel post-processor (adds nothing) and decoder. End-of-text is the one special token.
static json_t *tokenizer_json(const tokenizer *t, json_t *vocab, json_t *merges) {
    json_t *bytelevel = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                  "trim_offsets", 1, "use_regex", 1);
    json_t *eot = json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", t->eot, "content", EOT_TEXT,
                            "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0, "special", 1);
    json_t *model = json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE", "dropout",
                              "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", 0,
                              "byte_fallback", 0, "ignore_merges", 0, "vocab", vocab, "merges", merges);
    return json_pack("{s:s, s:n, s:n, s:[o], s:n, s:O, s:O, s:o, s:o}", "version", "1.0", "truncation", "padding",
                     "added_tokens", eot, "normalizer", "pre_tokenizer", bytelevel, "post_processor", bytelevel,
                     "decoder", bytelevel, "model", model);
}

// For transformers' AutoTokenizer: the generic fast tokenizer over tokenizer.json, end-of-text as
// bos/eos/unk like GPT-2, nothing added around the text, decoding without space clean-up so that
// decode(encode(text)) gives the text back.
static json_t *tokenizer_config_json(const tokenizer *t, int model_max_length) {
    char id[16];
    snprintf(id, sizeof id, "%d", t->eot);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:{s:{s:s, s:b, s:b, s:b, s:b, s:b}}}",
                          "tokenizer_class", "PreTrainedTokenizerFast", "bos_token", EOT_TEXT, "eos_token", EOT_TEXT,
                          "unk_token", EOT_TEXT, "add_bos_token", 0, "add_eos_token", 0,
                          "clean_up_tokenization_spaces", 0, "added_tokens_decoder", id, "content", EOT_TEXT,
                          "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0, "special", 1);
    if (model_max_length > 0) json_object_set_new(c, "model_max_length", json_integer(model_max_length));
    return c;
}

static int save_json(const char *dir, const char *name, json_t *j, size_t flags, char *err, size_t errlen) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = json_dumps(j, flags | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!text) {
        snprintf(err, errlen, "cannot format %s (out of memory?)", path);
        return -1;
    }
    int r = atomic_write_text(path, text, err, errlen);
    free(text);
    return r;
}

int tok_save_hf(const tokenizer *t, const char *dir, int model_max_length, char *err, size_t errlen) {
    char **str = token_strings(t);
    json_t *vocab = vocab_json(t, str, err, errlen);
    if (!vocab) {
        free_strings(str, t->vocab_size);
        return -1;
    }
    json_t *tj = tokenizer_json(t, vocab, merges_json(t, str));
    free_strings(str, t->vocab_size);
    // tokenizer.json is compact (GPT-2's is 1.3 MB that way); the small files are indented to read.
    if (save_json(dir, "tokenizer.json", tj, JSON_COMPACT, err, errlen)) return -1;
    if (save_json(dir, "tokenizer_config.json", tokenizer_config_json(t, model_max_length), JSON_INDENT(2), err,
                  errlen))
        return -1;
    json_t *map = json_pack("{s:s, s:s, s:s}", "bos_token", EOT_TEXT, "eos_token", EOT_TEXT, "unk_token", EOT_TEXT);
    return save_json(dir, "special_tokens_map.json", map, JSON_INDENT(2), err, errlen);
}
