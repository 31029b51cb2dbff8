// cmd_data.c — `actlab data`: extracts the corpus from installed packages, splits it by document,
// trains or loads the tokenizer, and writes train.txt, val.txt, token shards and a manifest.
// Deterministic: the same packages and flags give the same bytes (the checksums it prints).
#include "util/hash.h"
#include "util/atomic.h"
#include "args.h"
#include "commands.h"
#include "data/corpus_sources.h"
#include "data/shard.h"
#include "data/tokenizer.h"
#include "util/check.h"
#include "util/fileio.h"
#include "util/progress.h"
#include "util/timer.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *data_dir, *tokenizer, *sources, *root, *npm_root;
    double min_bytes, val_fraction;
} data_opts;

static void usage(FILE *out) {
    int n;
    const corpus_source *s = corpus_sources(&n);
    fprintf(out,
            "usage: actlab data [options]\n\n"
            "Extracts English text from the installed corpus packages (scripts/setup.sh demo installs\n"
            "them), splits it by document into training and validation text, tokenizes both, and writes\n"
            "  DIR/train.txt DIR/val.txt        the text (documents separated by a blank line)\n"
            "  DIR/train.bin DIR/val.bin        token shards (documents separated by end-of-text)\n"
            "  DIR/tokenizer-bpe-N.bin          the trained tokenizer (--tokenizer bpe:N)\n"
            "  DIR/manifest.json                sources, licences, sizes, split rule, checksums\n"
            "The same inputs give the same bytes; the FNV-1a 64 checksum of each output is printed.\n\n"
            "options:\n"
            "  --data-dir DIR        output folder (default data)\n"
            "  --tokenizer SPEC      gpt2 | bpe:N (train a byte-level BPE of N ids; default bpe:8192)\n"
            "  --sources LIST        comma-separated subset of the sources below (default: all)\n"
            "  --source-root DIR     where the Debian packages are installed (default /)\n"
            "  --npm-root DIR        where the npm packages are (default .deps/npm/node_modules)\n"
            "  --min-bytes N         refuse a corpus of fewer bytes (default 50e6)\n"
            "  --val-fraction F      share of documents hashed to validation (default 0.015)\n"
            "  -h, --help            this help\n\nsources:\n");
    for (int i = 0; i < n; i++)
        fprintf(out, "  %-12s %s package %s; %s%s\n", s[i].name, s[i].registry, s[i].package, s[i].licence,
                s[i].train_only ? "; training side only" : "");
}

// Returns 1 if --help was asked for; usage errors exit with status 2 (args.h).
static int parse_args(int argc, char **argv, data_opts *o) {
    *o = (data_opts){"data", "bpe:8192", NULL, "/", ".deps/npm/node_modules", 50e6, 0.015};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) return 1;
        const char **str = !strcmp(a, "--data-dir")      ? &o->data_dir
                           : !strcmp(a, "--tokenizer")   ? &o->tokenizer
                           : !strcmp(a, "--sources")     ? &o->sources
                           : !strcmp(a, "--source-root") ? &o->root
                           : !strcmp(a, "--npm-root")    ? &o->npm_root
                                                         : NULL;
        if (str) {
            *str = arg_value("data", argc, argv, &i);
        } else if (!strcmp(a, "--min-bytes")) {
            o->min_bytes = arg_double("data", a, arg_value("data", argc, argv, &i));
            if (o->min_bytes < 0) usage_error("data", "--min-bytes must be >= 0");
        } else if (!strcmp(a, "--val-fraction")) {
            o->val_fraction = arg_double("data", a, arg_value("data", argc, argv, &i));
            if (!(o->val_fraction > 0 && o->val_fraction <= 0.5)) usage_error("data", "--val-fraction must be in (0, 0.5]");
        } else {
            usage_error("data", "unknown option '%s'", a);
        }
    }
    if (strcmp(o->tokenizer, "gpt2") && strncmp(o->tokenizer, "bpe:", 4))
        usage_error("data", "unknown tokenizer '%s': use gpt2 or bpe:N", o->tokenizer);
    return 0;
}

// used[s] = 1 for each selected source.
static void select_sources(const char *list, int *used) {
    int n;
    corpus_sources(&n);
    for (int i = 0; i < n; i++) used[i] = list == NULL;
    if (!list) return;
    char *copy = strdup(list), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = corpus_source_index(tok);
        if (k < 0) usage_error("data", "unknown source '%s' (actlab data --help lists them)", tok);
        used[k] = 1;
    }
    free(copy);
}

static void extract_all(const data_opts *o, const int *used, corpus_docs *docs) {
    int n;
    const corpus_source *src = corpus_sources(&n);
    corpus_paths paths = {o->root, o->npm_root};
    progress_t p;
    progress_start(&p, "extract", (size_t)n);
    for (int s = 0; s < n; s++) {
        if (!used[s]) continue;
        char err[2048] = "";
        progress_update(&p, (size_t)s, src[s].name);
        if (src[s].extract(&paths, s, docs, err, sizeof err) != 0) {
            fflush(stdout);
            fprintf(stderr, "\nactlab: error: source '%s': %s\n", src[s].name, err);
            exit(1);
        }
    }
    progress_finish(&p, NULL);
}

static uint64_t checksum(const void *p, size_t n) { return fnv1a64(FNV1A64_OFFSET, p, n); }

static char *path_in(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

// Writes one text side and records it in the manifest's "files".
static void write_text(const char *dir, const char *name, const char *text, size_t len, json_t *files) {
    char *path = path_in(dir, name);
    if (atomic_write_file(path, text, len) != 0) exit(1);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)checksum(text, len));
    printf("  %-22s %12zu bytes  fnv1a64 %s\n", path, len, hex);
    json_object_set_new(files, name, json_pack("{s:I, s:s}", "bytes", (json_int_t)len, "fnv1a64", hex));
    free(path);
}

static tokenizer *get_tokenizer(const data_opts *o, const char *train, size_t len, json_t *manifest) {
    tokenizer *t;
    if (!strcmp(o->tokenizer, "gpt2")) {
        t = tok_resolve("gpt2", o->data_dir);
    } else {
        char *end;
        long n = strtol(o->tokenizer + 4, &end, 10);
        if (*end || n < 257 || n > 65536)
            die("use bpe:N with 257 <= N <= 65536 (shards store uint16 ids)", "bad tokenizer '%s'", o->tokenizer);
        double t0 = now_seconds();
        printf("training a byte-level BPE of %ld ids on %zu bytes of training text\n", n, len);
        t = tok_train_bpe(train, len, (int)n);
        if (!t) die(NULL, "training the BPE tokenizer failed");
        char name[64];
        snprintf(name, sizeof name, "tokenizer-bpe-%ld.bin", n);
        char *path = path_in(o->data_dir, name);
        if (tok_save_file(t, path) != 0) exit(1);
        printf("  %-22s trained in %.1f s\n", path, now_seconds() - t0);
        json_object_set_new(manifest, "tokenizer_file", json_string(name));
        free(path);
    }
    if (!t) exit(1);
    if (tok_vocab_size(t) > 65536) die("use a tokenizer of at most 65536 ids", "tokenizer '%s' has %d ids", tok_name(t), tok_vocab_size(t));
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)tok_fingerprint(t));
    json_object_set_new(manifest, "tokenizer", json_pack("{s:s, s:i, s:i, s:s}", "name", tok_name(t), "vocab_size",
                                                         tok_vocab_size(t), "eot", tok_eot(t), "fingerprint", hex));
    return t;
}

// Tokenizes one side's documents (in parallel: documents are independent), each followed by
// end-of-text, in document order. Returns the ids; *n their count.
static int32_t *encode_side(const tokenizer *t, const corpus_docs *d, int val, size_t *n_out) {
    size_t nd = 0, bytes = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->docs[i].val == val) nd++, bytes += d->docs[i].len;
    size_t *which = xmalloc((nd ? nd : 1) * sizeof *which), k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->docs[i].val == val) which[k++] = i;
    int32_t **ids = xcalloc(nd ? nd : 1, sizeof *ids);
    size_t *counts = xcalloc(nd ? nd : 1, sizeof *counts), done = 0;
    progress_t p;
    progress_start(&p, val ? "encode val" : "encode train", bytes);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t j = 0; j < nd; j++) {
        const corpus_doc *doc = &d->docs[which[j]];
        counts[j] = tok_encode(t, doc->text, doc->len, &ids[j]);
#pragma omp critical
        {
            done += doc->len;
            progress_update(&p, done, NULL);
        }
    }
    progress_finish(&p, NULL);
    size_t total = nd;
    for (size_t j = 0; j < nd; j++) total += counts[j];
    int32_t *all = xmalloc((total ? total : 1) * sizeof *all), *q = all;
    for (size_t j = 0; j < nd; j++) {
        memcpy(q, ids[j], counts[j] * sizeof *q);
        q += counts[j];
        *q++ = tok_eot(t);
        free(ids[j]);
    }
    free(ids), free(counts), free(which);
    *n_out = total;
    return all;
}

static void write_shard(const data_opts *o, const char *name, const tokenizer *t, const int32_t *ids, size_t n,
                        size_t text_bytes, json_t *files) {
    char *path = path_in(o->data_dir, name);
    if (shard_write(path, tok_name(t), tok_fingerprint(t), ids, n) != 0) exit(1);
    size_t len;
    char *bytes = corpus_read_file(path, &len);
    if (!bytes) die(NULL, "cannot read back '%s'", path);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)checksum(bytes, len));
    printf("  %-22s %12zu tokens (%.2f bytes/token)  fnv1a64 %s\n", path, n, n ? (double)text_bytes / n : 0.0, hex);
    json_object_set_new(files, name, json_pack("{s:I, s:I, s:s}", "tokens", (json_int_t)n, "bytes", (json_int_t)len,
                                               "fnv1a64", hex));
    free(bytes);
    free(path);
}

static void print_sources(const corpus_docs *d, const int *used) {
    int n;
    const corpus_source *src = corpus_sources(&n);
    printf("%-12s %10s %14s %12s\n", "source", "documents", "bytes", "val bytes");
    for (int s = 0; s < n; s++) {
        if (!used[s]) continue;
        size_t docs = 0, bytes = 0, vbytes = 0;
        for (size_t i = 0; i < d->n; i++)
            if (d->docs[i].source == s) docs++, bytes += d->docs[i].len, vbytes += d->docs[i].val ? d->docs[i].len : 0;
        printf("%-12s %10zu %14zu %12zu\n", src[s].name, docs, bytes, vbytes);
    }
}

int cmd_data(int argc, char **argv) {
    data_opts o;
    int n_src;
    if (parse_args(argc, argv, &o)) {
        usage(stdout);
        return 0;
    }
    corpus_sources(&n_src);
    int *used = xcalloc((size_t)n_src, sizeof *used);
    select_sources(o.sources, used);
    char err[512];
    if (mkdir_p(o.data_dir, err, sizeof err)) die("check the path and its permissions", "%s", err);
    double t0 = now_seconds();

    corpus_docs docs = {0};
    extract_all(&o, used, &docs);
    corpus_split(&docs, corpus_sources(NULL), o.val_fraction);
    size_t train_len, val_len;
    char *train = corpus_join(&docs, 0, &train_len), *val = corpus_join(&docs, 1, &val_len);
    print_sources(&docs, used);
    if ((double)(train_len + val_len) < o.min_bytes)
        die("install every corpus package with 'scripts/setup.sh demo', or lower --min-bytes",
            "the corpus has %zu bytes, fewer than --min-bytes %.0f", train_len + val_len, o.min_bytes);
    if (val_len == 0) die("raise --val-fraction or add sources", "no document went to validation");
    printf("validation: %zu of %zu bytes (%.2f%%)\n", val_len, train_len + val_len,
           100.0 * (double)val_len / (double)(train_len + val_len));

    json_t *manifest = corpus_manifest(&docs, corpus_sources(NULL), n_src, used, o.val_fraction), *files = json_object();
    write_text(o.data_dir, "train.txt", train, train_len, files);
    write_text(o.data_dir, "val.txt", val, val_len, files);
    tokenizer *t = get_tokenizer(&o, train, train_len, manifest);
    size_t n_train, n_val;
    int32_t *train_ids = encode_side(t, &docs, 0, &n_train);
    write_shard(&o, "train.bin", t, train_ids, n_train, train_len, files);
    free(train_ids);
    int32_t *val_ids = encode_side(t, &docs, 1, &n_val);
    write_shard(&o, "val.bin", t, val_ids, n_val, val_len, files);
    free(val_ids);

    json_object_set_new(manifest, "files", files);
    char *json = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    size_t jlen = strlen(json);
    char *withnl = xmalloc(jlen + 2);
    memcpy(withnl, json, jlen);
    withnl[jlen] = '\n';
    char *mpath = path_in(o.data_dir, "manifest.json");
    if (atomic_write_file(mpath, withnl, jlen + 1) != 0) exit(1);
    printf("  %-22s %12zu bytes  fnv1a64 %016llx\n", mpath, jlen + 1, (unsigned long long)checksum(withnl, jlen + 1));
    printf("done in %.1f s\n", now_seconds() - t0);

    free(mpath), free(withnl), free(json);
    json_decref(manifest);
    tok_free(t);
    free(train), free(val), free(used);
    corpus_docs_free(&docs);
    return 0;
}
