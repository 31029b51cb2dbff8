// cmd_sample.c — `actlab sample`: generate text from a checkpoint.
#include "args.h"
#include "commands.h"
#include "data/tokenizer.h"
#include "train/eval.h"
#include "train/sample.h"
#include "train/trainer.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sample_help(void) {
    printf("usage: actlab sample --checkpoint CKPT [--prompt S] [--tokens N] [--temperature T] [--top-k K]\n"
           "                     [--seed S] [--data-dir DIR]\n\n"
           "Streams generated text to stdout. The prompt is encoded with the checkpoint's tokenizer (found\n"
           "under --data-dir); without one, generation starts from the end-of-text token.\n\n"
           "options:\n"
           "  --checkpoint CKPT   checkpoint.bin from 'actlab train'\n"
           "  --prompt S          text to continue (default: none)\n"
           "  --tokens N          tokens to generate (default 200)\n"
           "  --temperature T     softmax temperature; 0 = greedy (default 0.8)\n"
           "  --top-k K           sample among the K most likely tokens; 0 = all (default 40)\n"
           "  --seed S            sampling seed (default 1337)\n"
           "  --data-dir DIR      where the tokenizer files are (default data)\n"
           "  --threads N         OpenMP/OpenBLAS threads (default 0: all cores)\n");
}

typedef struct {
    const tokenizer *t;
} stream_ctx;

static void print_token(void *ctx, int32_t id) {
    const stream_ctx *s = ctx;
    size_t len;
    char *bytes = tok_decode(s->t, &id, 1, &len);
    fwrite(bytes, 1, len, stdout);
    fflush(stdout);
    free(bytes);
}

int cmd_sample(int argc, char **argv) {
    const char *ckpt_path = NULL, *prompt = "", *data_dir = "data";
    long n_new = 200, top_k = 40, threads = 0;
    double temperature = 0.8;
    unsigned long long seed = 1337;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { sample_help(); return 0; }
        else if (!strcmp(a, "--checkpoint")) ckpt_path = arg_value("sample", argc, argv, &i);
        else if (!strcmp(a, "--prompt")) prompt = arg_value("sample", argc, argv, &i);
        else if (!strcmp(a, "--data-dir")) data_dir = arg_value("sample", argc, argv, &i);
        else if (!strcmp(a, "--tokens")) n_new = arg_long("sample", a, arg_value("sample", argc, argv, &i), 1, 1 << 20);
        else if (!strcmp(a, "--top-k")) top_k = arg_long("sample", a, arg_value("sample", argc, argv, &i), 0, 1 << 20);
        else if (!strcmp(a, "--seed")) seed = (unsigned long long)arg_long("sample", a, arg_value("sample", argc, argv, &i), 0, __LONG_MAX__);
        else if (!strcmp(a, "--threads")) threads = arg_long("sample", a, arg_value("sample", argc, argv, &i), 0, 4096);
        else if (!strcmp(a, "--temperature")) {
            temperature = arg_double("sample", a, arg_value("sample", argc, argv, &i));
            if (temperature < 0 || temperature > 100) usage_error("sample", "--temperature must be in [0, 100]");
        } else usage_error("sample", "unknown option '%s'", a);
    }
    if (!ckpt_path) usage_error("sample", "--checkpoint is required");
    train_set_threads((int)threads);
    ckpt_meta meta;
    char err[512];
    model *m = eval_load_model(ckpt_path, &meta, NULL, err, sizeof err);
    if (!m) die("check the --checkpoint path", "%s", err);
    tokenizer *t = eval_load_tokenizer(&meta, data_dir, err, sizeof err);
    if (!t) die("pass --data-dir where 'actlab data' put the tokenizer", "%s", err);
    int32_t *pids = NULL;
    size_t np = *prompt ? tok_encode(t, prompt, strlen(prompt), &pids) : 0;
    int32_t *ids = xmalloc((np + 1 + (size_t)n_new) * sizeof(int32_t));
    if (np) memcpy(ids, pids, np * sizeof(int32_t));
    else ids[np++] = tok_eot(t);
    free(pids);
    for (size_t i = 0; i < np; i++)
        if (ids[i] >= meta.cfg.vocab_size) die(NULL, "prompt token %d is outside the model's vocabulary", ids[i]);
    fputs(prompt, stdout);
    sample_opts o = {(float)temperature, (int)top_k, seed};
    stream_ctx ctx = {t};
    sample_generate(m, ids, np, (int)n_new, &o, print_token, &ctx);
    putchar('\n');
    free(ids);
    tok_free(t);
    model_free(m);
    return 0;
}
