// corpus.c — document lists, normalisation, the train/validation split, the manifest and file I/O
// for `actlab data`. The source table and its extractors sit on top, in corpus_sources.c.
#include "util/hash.h"
#include "data/corpus.h"
#include "data/corpus_text.h"
#include "util/check.h"
#include "util/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = xmalloc(n);
    memcpy(c, s, n);
    return c;
}

// Unix newlines, no trailing blanks on a line, at most one blank line in a row, no blank lines
// at either end, a final '\n'. Same input -> same bytes. Returns the new length (<= len + 1).
static size_t normalise(const char *in, size_t len, char *out) {
    size_t o = 0, line_start = 0;
    int blank_run = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? in[i] : '\n';
        if (c == '\r' && i + 1 < len && in[i + 1] == '\n') continue;
        if (c == '\r' || c == '\f' || c == '\v') c = '\n';
        if (c != '\n') {
            out[o++] = c;
            continue;
        }
        while (o > line_start && (out[o - 1] == ' ' || out[o - 1] == '\t')) o--;
        if (o == line_start) {  // blank line
            if (o == 0 || blank_run) continue;
            blank_run = 1;
        } else {
            blank_run = 0;
        }
        out[o++] = '\n';
        line_start = o;
        if (i == len) break;
    }
    while (o >= 2 && out[o - 1] == '\n' && out[o - 2] == '\n') o--;
    if (o == 1 && out[0] == '\n') o = 0;
    return o;
}

void corpus_add(corpus_docs *d, int source, const char *id, const char *text, size_t len) {
    char *buf = xmalloc(len + 2);
    size_t n = normalise(text, len, buf);
    if (n == 0) {
        free(buf);
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 256;
        corpus_doc *grown = realloc(d->docs, d->cap * sizeof *grown);
        if (!grown) die(NULL, "out of memory growing the document list (%zu documents)", d->n);
        d->docs = grown;
    }
    buf[n] = '\0';
    d->docs[d->n++] = (corpus_doc){.id = xstrdup(id), .source = source, .val = 0, .text = buf, .len = n};
}

void corpus_add_chunked(corpus_docs *d, int source, const char *prefix, const char *text, size_t len,
                        size_t max_bytes) {
    size_t start = 0, k = 0;
    char id[512];
    while (start < len) {
        size_t end = start + max_bytes < len ? start + max_bytes : len;
        if (end < len) {
            // Back up to the last blank line, so that no entry is cut in two; failing that (one
            // entry per line, as in WordNet) to the last line end; failing that, the next one.
            size_t cut = end;
            while (cut > start + 1 && !(text[cut - 1] == '\n' && text[cut - 2] == '\n')) cut--;
            if (cut <= start + 1) {
                cut = end;
                while (cut > start && text[cut - 1] != '\n') cut--;
            }
            if (cut <= start) {
                cut = end;
                while (cut < len && text[cut - 1] != '\n') cut++;
            }
            end = cut;
        }
        snprintf(id, sizeof id, "%s/%zu", prefix, k++);
        corpus_add(d, source, id, text + start, end - start);
        start = end;
    }
}

void corpus_docs_free(corpus_docs *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->docs[i].id);
        free(d->docs[i].text);
    }
    free(d->docs);
    memset(d, 0, sizeof *d);
}

// Deterministic in the id only: adding or removing other documents never moves this one.
void corpus_split(corpus_docs *d, const corpus_source *src, double val_fraction) {
    uint64_t threshold = (uint64_t)(val_fraction * 18446744073709551615.0);
    if (val_fraction >= 1.0) threshold = UINT64_MAX;
    for (size_t i = 0; i < d->n; i++) {
        corpus_doc *doc = &d->docs[i];
        uint64_t h = fnv1a64(FNV1A64_OFFSET, doc->id, strlen(doc->id));
        h ^= h >> 33;  // FNV's high bits mix poorly for similar short ids; fold them
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        doc->val = !src[doc->source].train_only && doc->len <= CORPUS_VAL_MAX_DOC && h < threshold;
    }
}

char *corpus_join(const corpus_docs *d, int val, size_t *len) {
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->docs[i].val == val) n += d->docs[i].len + 1;
    char *buf = xmalloc(n + 1), *p = buf;
    for (size_t i = 0; i < d->n; i++)
        if (d->docs[i].val == val) {
            memcpy(p, d->docs[i].text, d->docs[i].len);
            p += d->docs[i].len;
            *p++ = '\n';
        }
    *p = '\0';
    *len = n;
    return buf;
}

// zlib reads gzip and dictzip (.dz: gzip with random-access chunks) alike.
static char *read_gz(const char *path, size_t *len) {
    gzFile g = gzopen(path, "rb");
    if (!g) return NULL;
    byte_buf b = {0};
    char chunk[1 << 16];
    int got;
    while ((got = gzread(g, chunk, sizeof chunk)) > 0) byte_buf_put(&b, chunk, (size_t)got);
    if (got < 0) {
        int zerr;
        fprintf(stderr, "actlab: error: '%s': %s\n", path, gzerror(g, &zerr));
        gzclose(g);
        byte_buf_free(&b);
        return NULL;
    }
    gzclose(g);
    byte_buf_put(&b, "", 0);  // an empty file still gives a (NUL-terminated) buffer
    *len = b.n;
    return b.p;
}

char *corpus_read_file(const char *path, size_t *len) {
    if (corpus_ends_with(path, ".gz") || corpus_ends_with(path, ".dz")) return read_gz(path, len);
    return file_read(path, len, NULL, 0);
}

static json_t *side_stats(uint64_t docs, uint64_t bytes) {
    return json_pack("{s:I, s:I}", "documents", (json_int_t)docs, "bytes", (json_int_t)bytes);
}

static char *hex64(char buf[17], uint64_t v) {
    snprintf(buf, 17, "%016llx", (unsigned long long)v);
    return buf;
}

json_t *corpus_manifest(const corpus_docs *d, const corpus_source *src, int n_src, const int *used,
                        double val_fraction) {
    json_t *sources = json_array();
    char hex[17];
    for (int s = 0; s < n_src; s++) {
        if (!used[s]) continue;
        uint64_t cnt[2] = {0, 0}, bytes[2] = {0, 0}, sum = FNV1A64_OFFSET;
        for (size_t i = 0; i < d->n; i++) {
            const corpus_doc *doc = &d->docs[i];
            if (doc->source != s) continue;
            cnt[doc->val]++;
            bytes[doc->val] += doc->len;
            sum = fnv1a64(sum, doc->text, doc->len);
        }
        json_array_append_new(
            sources, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:o}", "name", src[s].name, "package",
                               src[s].package, "registry", src[s].registry, "licence", src[s].licence, "split",
                               src[s].train_only ? "train only (near-duplicate text kept on one side)" : "by document",
                               "documents", (json_int_t)(cnt[0] + cnt[1]), "bytes", (json_int_t)(bytes[0] + bytes[1]),
                               "fnv1a64", hex64(hex, sum), "train", side_stats(cnt[0], bytes[0]), "val",
                               side_stats(cnt[1], bytes[1])));
    }
    return json_pack("{s:s, s:i, s:f, s:s, s:o}", "format", "actlab-corpus", "version", 1, "val_fraction", val_fraction,
                     "split_rule",
                     "a document goes to validation when mix64(fnv1a64(id)) < val_fraction * 2^64, it is at most "
                     "256 KiB and its source is not train-only; documents are never cut",
                     "sources", sources);
}
