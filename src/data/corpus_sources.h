// corpus_sources.h — the table of corpus sources (one extractor per installed package), on top of
// corpus.h (documents) and corpus_text.h (markup strippers); see docs/data.md.
#ifndef ACTLAB_CORPUS_SOURCES_H
#define ACTLAB_CORPUS_SOURCES_H

#include "data/corpus.h"

const corpus_source *corpus_sources(int *count);
int corpus_source_index(const char *name);  // -1 if unknown

// Where a text helper's documents go (a corpus_emit_fn's context): appended to docs as source.
typedef struct {
    corpus_docs *docs;
    int source;
} corpus_sink;
void corpus_sink_add(void *sink, const char *id, const char *text, size_t n);

#endif
