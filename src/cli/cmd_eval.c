// cmd_eval.c — `actlab eval`: mean loss and perplexity of a checkpoint on a shard or a text file.
#include "args.h"
#include "commands.h"
#include "data/shard.h"
#include "data/tokenizer.h"
#include "train/eval.h"
#include "train/trainer.h"
#include "util/check.h"
#include "util/fileio.h"
#include "util/progress.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void eval_help(void) {
    printf("usage: actlab eval --checkpoint CKPT (--data SHARD | --text FILE) [options]\n\n"
           "Mean cross-entropy (nats per token) and perplexity. --data reads a token shard made by the\n"
           "checkpoint's tokenizer, in (B,T) batches sequentially from its start; --text tokenises a file with\n"
           "the checkpoint's tokenizer (found under --data-dir) and scores it in consecutive windows of the\n"
           "model's context length.\n\n"
           "options:\n"
           "  --checkpoint CKPT   checkpoint.bin from 'actlab train'\n"
           "  --data SHARD        token shard, e.g. data/val.bin\n"
           "  --text FILE         plain text file\n"
           "  --batch B           batch size for --data (default 8)\n"
           "  --seq T             sequence length for --data (default: the model's context)\n"
           "  --batches N         batches for --data (default 0: the whole shard once)\n"
           "  --data-dir DIR      where the tokenizer files are, for --text (default data)\n"
           "  --threads N         OpenMP/OpenBLAS threads (default 0: all cores)\n"
           "  --json              print one JSON object instead of text\n");
}

static double score_text(model *m, const ckpt_meta *meta, const char *path, const char *data_dir, size_t *n_scored) {
    char err[512];
    tokenizer *t = eval_load_tokenizer(meta, data_dir, err, sizeof err);
    if (!t) die("pass --data-dir where 'actlab data' put the tokenizer", "%s", err);
    size_t len;
    char *text = file_read(path, &len, err, sizeof err);
    if (!text) die("check the --text path", "%s", err);
    int32_t *ids;
    size_t n = tok_encode(t, text, len, &ids);
    free(text);
    tok_free(t);
    if (n < 2) die("give a longer text", "'%s' holds %zu tokens; at least 2 are needed", path, n);
    progress_t bar;
    progress_start(&bar, "eval", n - 1);
    double loss = eval_tokens_loss(m, ids, n, meta->cfg.max_seq_len, n_scored, &bar);
    progress_finish(&bar, NULL);
    free(ids);
    return loss;
}

static double score_shard(model *m, const ckpt_meta *meta, const char *path, int B, int T, long batches,
                          size_t *n_scored) {
    shard s;
    char err[512];
    if (shard_read_expect(path, meta->tok_fingerprint, &s, err, sizeof err))
        die("use a shard made with the checkpoint's tokenizer", "%s", err);
    if (s.n_tokens < (uint64_t)T + 1) die("use a smaller --seq", "'%s' holds fewer than seq+1 = %d tokens", path, T + 1);
    if (batches == 0) batches = (long)((s.n_tokens - 1) / ((uint64_t)B * T));
    if (batches == 0) batches = 1;
    progress_t bar;
    progress_start(&bar, "eval", (size_t)batches);
    double loss = eval_shard_loss(m, &s, B, T, (int)batches, &bar);
    progress_finish(&bar, NULL);
    *n_scored = (size_t)batches * B * T;
    shard_free(&s);
    return loss;
}

int cmd_eval(int argc, char **argv) {
    const char *ckpt_path = NULL, *data = NULL, *text = NULL, *data_dir = "data";
    long B = 8, T = 0, batches = 0, threads = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { eval_help(); return 0; }
        else if (!strcmp(a, "--checkpoint")) ckpt_path = arg_value("eval", argc, argv, &i);
        else if (!strcmp(a, "--data")) data = arg_value("eval", argc, argv, &i);
        else if (!strcmp(a, "--text")) text = arg_value("eval", argc, argv, &i);
        else if (!strcmp(a, "--data-dir")) data_dir = arg_value("eval", argc, argv, &i);
        else if (!strcmp(a, "--batch")) B = arg_long("eval", a, arg_value("eval", argc, argv, &i), 1, 65536);
        else if (!strcmp(a, "--seq")) T = arg_long("eval", a, arg_value("eval", argc, argv, &i), 1, 1 << 20);
        else if (!strcmp(a, "--batches")) batches = arg_long("eval", a, arg_value("eval", argc, argv, &i), 0, 1L << 30);
        else if (!strcmp(a, "--threads")) threads = arg_long("eval", a, arg_value("eval", argc, argv, &i), 0, 4096);
        else if (!strcmp(a, "--json")) json = 1;
        else usage_error("eval", "unknown option '%s'", a);
    }
    if (!ckpt_path) usage_error("eval", "--checkpoint is required");
    if (!data == !text) usage_error("eval", "give exactly one of --data SHARD or --text FILE");
    train_set_threads((int)threads);
    ckpt_meta meta;
    char err[512];
    model *m = eval_load_model(ckpt_path, &meta, NULL, err, sizeof err);
    if (!m) die("check the --checkpoint path", "%s", err);
    if (T == 0) T = meta.cfg.max_seq_len;
    if (T > meta.cfg.max_seq_len) usage_error("eval", "--seq %ld exceeds the model's context %d", T, meta.cfg.max_seq_len);
    size_t n_scored = 0;
    double loss = text ? score_text(m, &meta, text, data_dir, &n_scored)
                       : score_shard(m, &meta, data, (int)B, (int)T, batches, &n_scored);
    model_free(m);
    if (loss < 0) die(NULL, "evaluation failed: the data is shorter than one window");
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:f, s:f}", "checkpoint", ckpt_path, "source", text ? text : data,
                              "kind", text ? "text" : "shard", "tokens", (json_int_t)n_scored, "loss", loss, "perplexity",
                              exp(loss));
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else
        printf("loss %.4f  perplexity %.3f  (%zu tokens of %s)\n", loss, exp(loss), n_scored, text ? text : data);
    return 0;
}
