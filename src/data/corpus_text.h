// corpus_text.h — the text processing behind the corpus extractors: markup strippers for each
// package's format, on byte buffers (no I/O here, so each is unit-tested on literal strings).
// A leaf of the data layer: it knows nothing of documents or sources (corpus.h, corpus_sources.h).
#ifndef ACTLAB_CORPUS_TEXT_H
#define ACTLAB_CORPUS_TEXT_H

#include "util/fileio.h"

#include <stddef.h>

int corpus_ends_with(const char *s, const char *suffix);

// dictd: entries located by the .index file ("headword TAB base64-offset TAB base64-length"),
// sorted by offset, entries pointing into an earlier one dropped, metadata ("00-database-*") skipped.
typedef struct {
    size_t off, len;
} corpus_span;
corpus_span *corpus_dictd_entries(const char *index, size_t ilen, size_t dict_len, size_t *n);
long long corpus_dictd_b64(const char *s, size_t n);  // dictd's base64 number; -1 if malformed

// GCIDE: drops the syllabified headword (\Ab"a*ca\) and the pronunciation after it, source tags
// on their own line ([1913 Webster]), cross-reference braces; turns accent codes ([a^], [=e])
// into plain letters and named characters ([ae], [imac]) into UTF-8; removes the indentation.
void corpus_strip_gcide(byte_buf *out, const char *s, size_t n);
// FOLDOC: cross-reference braces, the "(1994-11-08)" date lines, indentation.
void corpus_strip_foldoc(byte_buf *out, const char *s, size_t n);
// Jargon File: cross-reference braces and indentation.
void corpus_strip_braces(byte_buf *out, const char *s, size_t n);
// WordNet data.* lines -> "word, other word: gloss" lines; the licence header is skipped.
void corpus_wordnet_glosses(byte_buf *out, const char *s, size_t n);
// Brown Corpus: "The/at jury/nn ./." -> "The jury.", one sentence per line, `` and '' as '"'.
void corpus_untag_brown(byte_buf *out, const char *s, size_t n);
// fortune files: each "%" line becomes a blank line.
void corpus_fortunes_paragraphs(byte_buf *out, const char *s, size_t n);
// The output of `bible -l...`: one document per book ("kjv/Genesis"), verse indentation removed;
// emit receives each (id, text, length) in order.
typedef void (*corpus_emit_fn)(void *ctx, const char *id, const char *text, size_t n);
void corpus_split_bible_books(const char *s, size_t n, corpus_emit_fn emit, void *ctx);

#endif
