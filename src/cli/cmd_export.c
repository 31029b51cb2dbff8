// cmd_export.c — `actlab export`: a checkpoint as a folder Hugging Face transformers loads
// (weights, config, tokenizer files, and the modeling code for activations it lacks), or only a
// tokenizer's files.
#include "args.h"
#include "commands.h"
#include "data/tokenizer.h"
#include "train/eval.h"
#include "train/export.h"
#include "util/check.h"
#include "util/fileio.h"

#include <stdio.h>
#include <string.h>

static void export_help(void) {
    printf("usage: actlab export --checkpoint CKPT --safetensors OUT_DIR [--data-dir DIR]\n"
           "       actlab export --tokenizer T --safetensors OUT_DIR [--data-dir DIR]\n\n"
           "Writes a folder that Hugging Face transformers loads (OUT_DIR is created if missing):\n"
           "  model.safetensors        F32 weights, Llama tensor names (model.embed_tokens.weight,\n"
           "                           model.layers.N.self_attn.q_proj.weight, ..., mlp.gate_proj/up_proj/\n"
           "                           down_proj, model.norm.weight, lm_head.weight; PolyCom's learnable\n"
           "                           scalars as model.layers.N.mlp.act.weight/.bias; MoE: mlp.gate.weight,\n"
           "                           mlp.experts.E.*, mlp.shared_expert.* as in OLMoE / Qwen2-MoE)\n"
           "  config.json              Llama hyperparameters; \"actlab\" holds the exact activation and its\n"
           "                           hyperparameters\n"
           "  tokenizer.json, tokenizer_config.json, special_tokens_map.json\n"
           "                           the checkpoint's tokenizer (gpt2 or bpe:N) as a byte-level BPE of\n"
           "                           Hugging Face tokenizers; same ids as 'actlab tokenize', except that\n"
           "                           the text \"<|endoftext|>\" becomes the end-of-text id\n"
           "  modeling_actlab.py, actlab_activations.py\n"
           "                           only for activations stock transformers lacks and MoE models (below)\n\n"
           "Loading it (Python):\n"
           "  tok = AutoTokenizer.from_pretrained(OUT_DIR)\n"
           "  model = AutoModelForCausalLM.from_pretrained(OUT_DIR)         # dense swiglu, geglu, reglu\n"
           "  model = AutoModelForCausalLM.from_pretrained(OUT_DIR, trust_remote_code=True)  # the rest\n"
           "Dense swiglu, geglu and reglu are LlamaForCausalLM with hidden_act silu, gelu_pytorch_tanh and relu.\n"
           "powlu, swiglu_clip, polynorm, polyrelu, the non-gated activations and every MoE model are\n"
           "ActlabForCausalLM (modeling_actlab.py, named by config.json's auto_map): transformers' Llama\n"
           "with actlab's MLP, or its MoE layer (docs/moe.md).\n\n"
           "options:\n"
           "  --checkpoint CKPT   checkpoint.bin from 'actlab train'\n"
           "  --tokenizer T       instead of a checkpoint: only the tokenizer files of gpt2 or bpe:N\n"
           "  --safetensors DIR   output folder\n"
           "  --data-dir DIR      where 'actlab data' put the bpe:N tokenizers (default data)\n");
}

static void make_dir(const char *out) {
    char err[1024];
    if (mkdir_p(out, err, sizeof err)) die("check the output path", "%s", err);
}

// The tokenizer files; model_max_length 0 when there is no model.
static void export_tokenizer(const tokenizer *t, const char *out, int model_max_length) {
    char err[512];
    if (tok_save_hf(t, out, model_max_length, err, sizeof err)) die("check the output folder", "%s", err);
}

static int export_tokenizer_only(const char *spec, const char *data_dir, const char *out) {
    tokenizer *t = tok_resolve(spec, data_dir);
    if (!t) die("pass --data-dir where 'actlab data' put the tokenizer", "cannot load tokenizer '%s'", spec);
    make_dir(out);
    export_tokenizer(t, out, 0);
    printf("wrote %s/tokenizer.json (%s, %d ids), tokenizer_config.json and special_tokens_map.json\n", out,
           tok_name(t), tok_vocab_size(t));
    tok_free(t);
    return 0;
}

int cmd_export(int argc, char **argv) {
    const char *ckpt_path = NULL, *out = NULL, *tok_spec = NULL, *data_dir = "data";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { export_help(); return 0; }
        else if (!strcmp(a, "--checkpoint")) ckpt_path = arg_value("export", argc, argv, &i);
        else if (!strcmp(a, "--safetensors")) out = arg_value("export", argc, argv, &i);
        else if (!strcmp(a, "--tokenizer")) tok_spec = arg_value("export", argc, argv, &i);
        else if (!strcmp(a, "--data-dir")) data_dir = arg_value("export", argc, argv, &i);
        else usage_error("export", "unknown option '%s'", a);
    }
    if (!ckpt_path == !tok_spec) usage_error("export", "give one of --checkpoint and --tokenizer");
    if (!out) usage_error("export", "--safetensors (the output folder) is required");
    if (tok_spec) return export_tokenizer_only(tok_spec, data_dir, out);

    ckpt_meta meta;
    char err[512];
    model *m = eval_load_model(ckpt_path, &meta, NULL, err, sizeof err);
    if (!m) die("check the --checkpoint path", "%s", err);
    tokenizer *t = eval_load_tokenizer(&meta, data_dir, err, sizeof err);
    if (!t) die("pass --data-dir where 'actlab data' put the tokenizer", "%s", err);
    make_dir(out);
    if (export_safetensors(m, meta.tokenizer, tok_eot(t), out, err, sizeof err))
        die("check the output folder", "%s", err);
    export_tokenizer(t, out, model_cfg(m)->max_seq_len);
    const model_config *c = model_cfg(m);
    const char *stock = export_stock_act(c->act.kind);
    printf("wrote %s: model.safetensors (%zu tensors, %zu parameters), config.json, tokenizer files (%s)%s\n", out,
           (size_t)model_num_tensors(m), model_num_params(m), tok_name(t),
           c->moe_experts > 0 ? ", modeling_actlab.py (MoE: tensors named as in OLMoE / Qwen2-MoE, see config.json's "
                                "actlab.moe; load with trust_remote_code=True)"
           : stock            ? ""
                              : ", modeling_actlab.py (load with trust_remote_code=True)");
    tok_free(t);
    model_free(m);
    return 0;
}
