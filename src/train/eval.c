// eval.c — see eval.h.
#include "train/eval.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

double eval_shard_loss(model *m, const shard *s, int B, int T, int n_batches, progress_t *bar) {
    loader ld;
    loader_init(&ld, s, 0, 0);
    int32_t *tokens = xmalloc((size_t)B * T * sizeof(int32_t)), *targets = xmalloc((size_t)B * T * sizeof(int32_t));
    double total = 0;
    int ok = 1;
    for (int i = 0; i < n_batches && ok; i++) {
        ok = loader_next(&ld, B, T, tokens, targets) == 0;
        if (ok) total += model_forward(m, tokens, targets, B, T);
        if (bar) progress_update(bar, (size_t)i + 1, NULL);
    }
    free(tokens);
    free(targets);
    return ok ? total / n_batches : -1;
}

double eval_tokens_loss(model *m, const int32_t *ids, size_t n, int T, size_t *n_scored, progress_t *bar) {
    double total = 0;
    size_t scored = 0;
    // Window w predicts ids[start+1 .. start+len] from ids[start .. start+len-1].
    for (size_t start = 0; start + 1 < n; start += (size_t)T) {
        int len = (int)(n - 1 - start < (size_t)T ? n - 1 - start : (size_t)T);
        float loss = model_forward(m, ids + start, ids + start + 1, 1, len);
        total += (double)loss * len;
        scored += (size_t)len;
        if (bar) progress_update(bar, scored, NULL);
    }
    *n_scored = scored;
    return scored ? total / (double)scored : 0;
}

model *eval_load_model(const char *path, ckpt_meta *meta, char **config_json, char *err, size_t errlen) {
    ckpt c;
    if (ckpt_read(path, &c, err, errlen)) return NULL;
    const char *why = model_config_check(&c.meta.cfg);
    if (why) {
        snprintf(err, errlen, "checkpoint '%s' holds an invalid model config: %s", path, why);
        ckpt_free(&c);
        return NULL;
    }
    model *m = model_create(&c.meta.cfg, c.meta.seed);
    if (model_num_params(m) != c.meta.n_params) {
        snprintf(err, errlen, "checkpoint '%s' holds %llu parameters, but its config builds a model of %zu", path,
                 (unsigned long long)c.meta.n_params, model_num_params(m));
        model_free(m);
        ckpt_free(&c);
        return NULL;
    }
    memcpy(model_params(m), c.params, c.meta.n_params * sizeof(float));
    if (meta) *meta = c.meta;
    if (config_json) {
        *config_json = c.config_json;
        c.config_json = NULL;
    }
    ckpt_free(&c);
    return m;
}

tokenizer *eval_load_tokenizer(const ckpt_meta *meta, const char *data_dir, char *err, size_t errlen) {
    tokenizer *t = tok_resolve(meta->tokenizer, data_dir);
    if (!t) {
        snprintf(err, errlen, "cannot load the checkpoint's tokenizer '%s' from '%s' (see the message above)",
                 meta->tokenizer, data_dir);
        return NULL;
    }
    if (tok_fingerprint(t) != meta->tok_fingerprint) {
        snprintf(err, errlen, "tokenizer '%s' under '%s' is not the one the model was trained with (fingerprint differs)",
                 meta->tokenizer, data_dir);
        tok_free(t);
        return NULL;
    }
    return t;
}
