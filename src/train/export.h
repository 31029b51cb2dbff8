// export.h — a trained model as Hugging Face files: model.safetensors (F32, Llama tensor names)
// and config.json (LlamaForCausalLM hyperparameters plus the actlab activation).
// safetensors: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end)}} (offsets into the data section), then the raw tensor bytes.
#ifndef ACTLAB_EXPORT_H
#define ACTLAB_EXPORT_H

#include "model/model.h"

#include <stddef.h>

// Writes OUT_DIR/model.safetensors and OUT_DIR/config.json (atomically; OUT_DIR must exist).
// tokenizer: the tokenizer's name, recorded in config.json. Returns 0, or -1 with the reason in err.
int export_safetensors(model *m, const char *tokenizer, const char *out_dir, char *err, size_t errlen);

#endif
