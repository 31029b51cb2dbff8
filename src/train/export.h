// export.h — a trained model as Hugging Face files: model.safetensors (F32, Llama tensor names),
// config.json (Llama hyperparameters plus an "actlab" section with the exact activation) and, for
// activations stock transformers lacks and for MoE models, modeling_actlab.py +
// actlab_activations.py with an auto_map (AutoModelForCausalLM.from_pretrained(dir,
// trust_remote_code=True)). The tokenizer files come from tok_save_hf (data/tokenizer.h).
// safetensors: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end)}} (offsets into the data section), then the raw tensor bytes.
#ifndef ACTLAB_EXPORT_H
#define ACTLAB_EXPORT_H

#include "model/model.h"

#include <stddef.h>

// Stock transformers' hidden_act for an activation LlamaMLP computes exactly (swiglu: "silu",
// geglu: "gelu_pytorch_tanh", reglu: "relu"), or NULL: those export as ActlabForCausalLM.
const char *export_stock_act(act_kind kind);

// Writes the model's files into OUT_DIR (atomically each; OUT_DIR must exist). tokenizer: its name,
// recorded in config.json; eot: its end-of-text id (bos/eos_token_id), or -1 to leave them out.
// Returns 0, or -1 with the reason in err.
int export_safetensors(model *m, const char *tokenizer, int eot, const char *out_dir, char *err, size_t errlen);

#endif
