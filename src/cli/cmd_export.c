// cmd_export.c — `actlab export`: a checkpoint as Hugging Face safetensors + config.json.
#include "args.h"
#include "commands.h"
#include "train/eval.h"
#include "train/export.h"
#include "util/check.h"
#include "util/fileio.h"

#include <stdio.h>
#include <string.h>

static void export_help(void) {
    printf("usage: actlab export --checkpoint CKPT --safetensors OUT_DIR\n\n"
           "Writes OUT_DIR/model.safetensors (F32, Hugging Face Llama tensor names: model.embed_tokens.weight,\n"
           "model.layers.N.self_attn.q_proj.weight, ..., mlp.gate_proj/up_proj/down_proj, model.norm.weight,\n"
           "lm_head.weight; PolyCom's learnable scalars as model.layers.N.mlp.act.weight/.bias) and\n"
           "OUT_DIR/config.json (LlamaForCausalLM hyperparameters; \"hidden_act\" and \"actlab\" name the\n"
           "activation and its hyperparameters). OUT_DIR is created if missing.\n\n"
           "options:\n"
           "  --checkpoint CKPT   checkpoint.bin from 'actlab train'\n"
           "  --safetensors DIR   output folder\n");
}

int cmd_export(int argc, char **argv) {
    const char *ckpt_path = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { export_help(); return 0; }
        else if (!strcmp(a, "--checkpoint")) ckpt_path = arg_value("export", argc, argv, &i);
        else if (!strcmp(a, "--safetensors")) out = arg_value("export", argc, argv, &i);
        else usage_error("export", "unknown option '%s'", a);
    }
    if (!ckpt_path || !out) usage_error("export", "--checkpoint and --safetensors are both required");
    ckpt_meta meta;
    char err[512];
    model *m = eval_load_model(ckpt_path, &meta, NULL, err, sizeof err);
    if (!m) die("check the --checkpoint path", "%s", err);
    if (mkdir_p(out, err, sizeof err)) die("check the output path", "%s", err);
    if (export_safetensors(m, meta.tokenizer, out, err, sizeof err)) die("check the output folder", "%s", err);
    printf("wrote %s/model.safetensors (%zu tensors, %zu parameters) and %s/config.json\n", out,
           (size_t)model_num_tensors(m), model_num_params(m), out);
    model_free(m);
    return 0;
}
