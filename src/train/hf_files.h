// hf_files.h — the Python files `actlab export` writes next to the weights for activations that
// stock transformers cannot build (src/train/hf/*.py, compiled in by hf/embed.cmake).
#ifndef ACTLAB_HF_FILES_H
#define ACTLAB_HF_FILES_H

#include <stddef.h>

typedef struct {
    const char *name;           // file name, e.g. "modeling_actlab.py"
    const unsigned char *text;  // its bytes
    size_t len;
} hf_file;

extern const hf_file hf_files[];  // ends with a NULL name

#endif
