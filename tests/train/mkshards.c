// mkshards.c — test helper: `mkshards DIR` trains a 300-id BPE tokenizer on generated sentences
// and writes DIR/tokenizer-bpe-300.bin, DIR/train.bin, DIR/val.bin and DIR/sample.txt, so the
// CLI can be exercised end to end without the corpus packages.
#include "data/shard.h"
#include "data/tokenizer.h"
#include "util/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *WORDS[] = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "red", "ball",
                              "under", "big", "tree", "with", "green", "hat", "small", "bird", "sang", "in", "sun"};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mkshards DIR\n");
        return 2;
    }
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    rng_t r;
    rng_seed(&r, 99);
    while (len + 64 < cap - 1) {
        // Short sentences from a bigram-ish walk: learnable structure for a tiny model.
        size_t w = rng_u64(&r) % N_WORDS;
        for (int k = 0; k < 8 && len + 64 < cap - 1; k++) {
            len += (size_t)snprintf(text + len, cap - len, "%s%s", k ? " " : "", WORDS[w]);
            w = (w * 7 + 3 + (rng_u64(&r) % 3)) % N_WORDS;
        }
        len += (size_t)snprintf(text + len, cap - len, ".\n");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/sample.txt", argv[1]);
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    fwrite(text, 1, 4000, f);
    fclose(f);
    tokenizer *t = tok_train_bpe(text, len, 300);
    if (!t) return 1;
    snprintf(path, sizeof path, "%s/tokenizer-bpe-300.bin", argv[1]);
    if (tok_save_file(t, path)) return 1;
    int32_t *ids;
    size_t n = tok_encode(t, text, len, &ids), nval = n / 10;
    snprintf(path, sizeof path, "%s/train.bin", argv[1]);
    if (shard_write(path, tok_name(t), tok_fingerprint(t), ids, n - nval)) return 1;
    snprintf(path, sizeof path, "%s/val.bin", argv[1]);
    if (shard_write(path, tok_name(t), tok_fingerprint(t), ids + n - nval, nval)) return 1;
    printf("mkshards: %zu tokens (%zu validation) with %s\n", n, nval, tok_name(t));
    free(ids);
    free(text);
    tok_free(t);
    return 0;
}
