// config.c — see config.h.
#include "train/config.h"
#include "util/check.h"
#include "util/fileio.h"
#include "util/fmt.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_INT, K_U64, K_FLOAT, K_STR, K_ACT, K_ENUM } key_type;

typedef struct {
    const char *name;
    key_type type;
    size_t offset;
    double lo, hi;  // accepted closed range for numbers
    const char *help;
    const char *const *choices;  // K_ENUM: the names of the values 0, 1, ... (NULL-terminated)
} key_desc;


#define OFF(f) offsetof(train_config, f)
static const key_desc KEYS[] = {
    {"act", K_ACT, OFF(model.act), 0, 0, "FFN activation (see 'actlab --help'); its hyperparameters are keys too", NULL},
    {"vocab_size", K_INT, OFF(model.vocab_size), 2, 1 << 20, "vocabulary size (>= the tokenizer's)", NULL},
    {"d_model", K_INT, OFF(model.d_model), 8, 65536, "model width", NULL},
    {"n_layers", K_INT, OFF(model.n_layers), 1, 1024, "transformer blocks", NULL},
    {"n_heads", K_INT, OFF(model.n_heads), 1, 1024, "attention heads", NULL},
    {"n_kv_heads", K_INT, OFF(model.n_kv_heads), 1, 1024, "key/value heads (grouped-query attention)", NULL},
    {"max_seq_len", K_INT, OFF(model.max_seq_len), 1, 1 << 20, "context length of the model", NULL},
    {"ffn_hidden", K_INT, OFF(model.ffn_hidden), 0, 1 << 20, "FFN hidden size (0: equal-parameter rule)", NULL},
    {"tied_embeddings", K_INT, OFF(model.tied_embeddings), 0, 1, "1: LM head shares the token embedding", NULL},
    {"rope_theta", K_FLOAT, OFF(model.rope_theta), 1, 1e9, "RoPE base", NULL},
    {"norm_eps", K_FLOAT, OFF(model.norm_eps), 0, 1, "RMSNorm epsilon", NULL},
    {"init_std", K_FLOAT, OFF(model.init_std), 0, 10, "weight init standard deviation", NULL},
    {"moe_experts", K_INT, OFF(model.moe_experts), 0, MOE_MAX_EXPERTS, "MoE FFN: routed experts E (0: dense FFN; docs/moe.md)", NULL},
    {"moe_top_k", K_INT, OFF(model.moe_top_k), 1, MOE_MAX_EXPERTS, "MoE: routed experts per token (<= moe_experts)", NULL},
    {"moe_shared", K_INT, OFF(model.moe_shared), 0, 64, "MoE: shared experts every token uses (0: OLMoE style)", NULL},
    {"moe_hidden", K_INT, OFF(model.moe_hidden), 0, 1 << 20, "MoE: one expert's hidden size (0: the ffn_hidden rule)", NULL},
    {"moe_router", K_ENUM, OFF(model.moe_router), 0, 0,
     "MoE router: softmax (top-k of the softmax) or sigmoid (DeepSeek-V3, with aux-loss-free bias)", moe_router_names},
    {"moe_renorm", K_INT, OFF(model.moe_renorm), 0, 1, "MoE: 1 divides the k combine weights by their sum", NULL},
    {"moe_aux_coef", K_FLOAT, OFF(model.moe_aux_coef), 0, 1000, "MoE: load-balancing loss coefficient (per sequence)", NULL},
    {"moe_z_coef", K_FLOAT, OFF(model.moe_z_coef), 0, 1000, "MoE: router z-loss coefficient", NULL},
    {"moe_bias_rate", K_FLOAT, OFF(model.moe_bias_rate), 0, 1,
     "MoE sigmoid router: aux-loss-free bias step per optimiser step (0: off)", NULL},
    {"lr", K_FLOAT, OFF(opt.lr), 0, 10, "peak learning rate", NULL},
    {"min_lr", K_FLOAT, OFF(opt.min_lr), 0, 10, "learning rate at the end of the decay", NULL},
    {"beta1", K_FLOAT, OFF(opt.beta1), 0, 0.999999, "AdamW beta1", NULL},
    {"beta2", K_FLOAT, OFF(opt.beta2), 0, 0.999999, "AdamW beta2", NULL},
    {"eps", K_FLOAT, OFF(opt.eps), 0, 1, "AdamW epsilon", NULL},
    {"weight_decay", K_FLOAT, OFF(opt.weight_decay), 0, 10, "decoupled weight decay (matrices and embeddings only)", NULL},
    {"grad_clip", K_FLOAT, OFF(opt.grad_clip), 0, 1e9, "global gradient-norm clip (0: off)", NULL},
    {"schedule", K_ENUM, OFF(sched.kind), 0, 0, "learning-rate schedule: cosine, wsd or constant", sched_names},
    {"warmup_steps", K_INT, OFF(sched.warmup_steps), 0, 1e9, "linear warmup steps", NULL},
    {"decay_frac", K_FLOAT, OFF(sched.decay_frac), 0, 1, "wsd: final fraction of the steps that decays to min_lr", NULL},
    {"data_dir", K_STR, OFF(data_dir), 0, 0, "data folder (tokenizers, shards)", NULL},
    {"train_data", K_STR, OFF(train_data), 0, 0, "training shard (empty: <data_dir>/train.bin)", NULL},
    {"val_data", K_STR, OFF(val_data), 0, 0, "validation shard (empty: <data_dir>/val.bin)", NULL},
    {"tokenizer", K_STR, OFF(tokenizer), 0, 0, "expected tokenizer of the shards, e.g. bpe:8192 or gpt2 (empty: any)", NULL},
    {"out", K_STR, OFF(out_dir), 0, 0, "run folder for config.json, metrics.jsonl, checkpoint.bin", NULL},
    {"steps", K_INT, OFF(steps), 1, 1e9, "optimiser steps", NULL},
    {"batch", K_INT, OFF(batch), 1, 1 << 16, "micro-batch size B", NULL},
    {"seq", K_INT, OFF(seq), 1, 1 << 20, "sequence length T (<= max_seq_len)", NULL},
    {"grad_accum", K_INT, OFF(grad_accum), 1, 1 << 16, "micro-batches per optimiser step", NULL},
    {"eval_interval", K_INT, OFF(eval_interval), 0, 1e9, "validation loss every N steps (0: at the end only)", NULL},
    {"eval_batches", K_INT, OFF(eval_batches), 1, 1e6, "validation batches (sequential over the val shard)", NULL},
    {"log_interval", K_INT, OFF(log_interval), 1, 1e9, "metrics line every N steps", NULL},
    {"telemetry_interval", K_INT, OFF(telemetry_interval), 0, 1e9, "per-layer outlier statistics every K steps (0: off)", NULL},
    {"ckpt_interval", K_INT, OFF(ckpt_interval), 0, 1e9, "checkpoint every C steps (0: at the end only)", NULL},
    {"max_bad_steps", K_INT, OFF(max_bad_steps), 1, 1e6, "stop after this many consecutive NaN/Inf steps", NULL},
    {"threads", K_INT, OFF(threads), 0, 4096, "OpenMP and OpenBLAS threads per rank (0: the host's cores over its ranks, or the rank's binding if narrower)", NULL},
    {"seed", K_U64, OFF(seed), 0, 9.2e18, "seed for initialisation and data order", NULL},
    {"precision", K_ENUM, OFF(prec.precision), 0, 0,
     "matmul inputs: fp32, bf16, fp8, or block-scaled mxfp8, mxfp4, nvfp4 (emulated; see docs/lowp.md)", precision_names},
    {"fp8_scaling", K_ENUM, OFF(prec.scaling), 0, 0, "fp8 scaling recipe: delayed, current or block",
     fp8_scaling_names},
    {"amax_history", K_INT, OFF(prec.amax_history), 1, 1 << 16, "delayed scaling: amax history length (TE: 1024)", NULL},
    {"fp8_margin", K_FLOAT, OFF(prec.margin), 0, 64, "fp8 scales back off by 2^margin (TE: 0)", NULL},
    {"keep_act_bf16", K_INT, OFF(prec.keep_act_bf16), 0, 1, "fp8/block formats: 1 keeps the FFN down-projection input in bf16", NULL},
    {"rht", K_INT, OFF(prec.rht), 0, 1, "mxfp4/nvfp4: 16x16 random Hadamard transform on the weight-gradient GEMM's inputs", NULL},
    {"lowp_bf16_layers", K_INT, OFF(prec.bf16_layers), 0, 512, "mxfp8/mxfp4/nvfp4: the first and last N layers stay bf16", NULL},
    {"spike_k", K_FLOAT, OFF(spike_k), 0, 1e6, "loss spike: above the trailing mean by k std (0: off)", NULL},
    {"spike_window", K_INT, OFF(spike_window), 2, 1e6, "loss spike: trailing window of good steps", NULL},
    {"divergence_loss", K_FLOAT, OFF(divergence_loss), 0, 1e9,
     "declare divergence and stop when the loss exceeds this (0: ln(vocab_size) + 1)", NULL},
    {"divergence_grace", K_INT, OFF(divergence_grace), 0, 1e9,
     "the first N steps may exceed divergence_loss and recover (NaN streaks still stop the run)", NULL},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])
_Static_assert(N_KEYS <= 64, "train_config.set_mask has one bit per key");

// Defaults that follow the command: unless the key is set (a file, a flag, a checkpoint's
// config), train_config_resolve derives it from `steps`, so a short run needs no extra flags.
// An explicitly set value is kept, and a conflicting one still fails train_config_check.
static const struct {
    size_t offset;
    int cap;           // the value for long runs
    const char *rule;  // for --help
} ADAPTIVE[] = {
    {OFF(sched.warmup_steps), 100, "min(100, steps/10)"},
    {OFF(eval_interval), 100, "min(100, steps/10), at least 1"},
};
#define N_ADAPTIVE (sizeof ADAPTIVE / sizeof ADAPTIVE[0])

static int key_index(size_t offset) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (KEYS[i].offset == offset) return (int)i;
    return -1;
}

void train_config_resolve(train_config *c) {
    for (size_t i = 0; i < N_ADAPTIVE; i++) {
        if (c->set_mask >> key_index(ADAPTIVE[i].offset) & 1) continue;
        int v = c->steps / 10 < ADAPTIVE[i].cap ? c->steps / 10 : ADAPTIVE[i].cap;
        if (ADAPTIVE[i].offset == OFF(eval_interval) && v < 1) v = 1;
        *(int *)(void *)((char *)c + ADAPTIVE[i].offset) = v;
    }
}

static const char *adaptive_rule(const key_desc *k) {
    for (size_t i = 0; i < N_ADAPTIVE; i++)
        if (ADAPTIVE[i].offset == k->offset) return ADAPTIVE[i].rule;
    return NULL;
}

void train_config_default(train_config *c) {
    memset(c, 0, sizeof *c);
    model_config_default(&c->model);
    adamw_config_default(&c->opt);
    c->sched.kind = SCHED_COSINE;
    c->sched.warmup_steps = 100;
    c->sched.decay_frac = 0.2f;
    snprintf(c->data_dir, sizeof c->data_dir, "data");
    snprintf(c->out_dir, sizeof c->out_dir, "runs/default");
    c->steps = 1000;
    c->batch = 16;
    c->seq = 256;
    c->grad_accum = 1;
    c->eval_interval = 100;
    c->eval_batches = 20;
    c->log_interval = 1;
    c->telemetry_interval = 50;
    c->ckpt_interval = 500;
    c->max_bad_steps = 10;
    c->threads = 0;
    c->seed = 1337;
    c->sched.total_steps = c->steps;
    model_precision_default(&c->prec);
    c->spike_k = 4;
    c->spike_window = 50;
    c->divergence_loss = 0;
    c->divergence_grace = 0;
}

// "grad-accum" -> "grad_accum"
static void normalise_key(const char *key, char *out, size_t len) {
    size_t i = 0;
    for (; key[i] && i + 1 < len; i++) out[i] = key[i] == '-' ? '_' : key[i];
    out[i] = 0;
}

static const key_desc *find_key(const char *key) {
    char k[64];
    normalise_key(key, k, sizeof k);
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(KEYS[i].name, k)) return &KEYS[i];
    return NULL;
}

static int find_hyper(const act_spec *s, const char *key) {
    const act_desc *d = act_desc_of(s->kind);
    for (int i = 0; d && i < d->n_hyper; i++)
        if (!strcmp(d->hyper[i].name, key)) return i;
    return -1;
}

int train_config_has_key(const train_config *c, const char *key) {
    return find_key(key) != NULL || find_hyper(&c->model.act, key) >= 0;
}

static int range_error(const key_desc *k, const char *value, char *err, size_t errlen) {
    snprintf(err, errlen, "'%s': value %s is outside the accepted range [%g, %g]", k->name, value, k->lo, k->hi);
    return -1;
}

// Stores a number after checking type and range; `text` is for the message.
static int store_number(train_config *c, const key_desc *k, double x, const char *text, char *err, size_t errlen) {
    void *p = (char *)c + k->offset;
    if (!isfinite(x) || x < k->lo || x > k->hi) return range_error(k, text, err, errlen);
    if ((k->type == K_INT || k->type == K_U64) && x != floor(x)) {
        snprintf(err, errlen, "'%s': expected an integer, got %s", k->name, text);
        return -1;
    }
    if (k->type == K_INT) *(int *)p = (int)x;
    else if (k->type == K_U64) *(uint64_t *)p = (uint64_t)x;
    else *(float *)p = (float)x;
    return 0;
}

static int set_act(train_config *c, const char *name, char *err, size_t errlen) {
    if (act_spec_init(&c->model.act, name)) {
        snprintf(err, errlen, "'act': unknown activation '%s' (run 'actlab --help' for the list)", name);
        return -1;
    }
    return 0;
}

static int set_hyper(train_config *c, const char *key, double x, const char *text, char *err, size_t errlen) {
    int r = act_spec_set(&c->model.act, key, (float)x);
    if (r == -1) {
        snprintf(err, errlen, "'%s': the activation %s has no such hyperparameter", key,
                 act_desc_of(c->model.act.kind)->name);
        return -1;
    }
    if (r == -2) {
        const act_hyper_desc *h = &act_desc_of(c->model.act.kind)->hyper[find_hyper(&c->model.act, key)];
        snprintf(err, errlen, "'%s': value %s is outside the accepted range [%g, %g]", key, text, (double)h->lo,
                 (double)h->hi);
        return -1;
    }
    return 0;
}

static int set_string(train_config *c, const key_desc *k, const char *value, char *err, size_t errlen) {
    char *dst = (char *)c + k->offset;
    if (k->type == K_ACT) return set_act(c, value, err, errlen);
    if (k->type == K_ENUM) {
        for (int i = 0; k->choices[i]; i++)
            if (!strcmp(value, k->choices[i])) {
                *(int *)(void *)dst = i;
                return 0;
            }
        int n = snprintf(err, errlen, "'%s': unknown value '%s' (one of:", k->name, value);
        for (int i = 0; k->choices[i] && n > 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, " %s", k->choices[i]);
        if (n > 0 && (size_t)n < errlen) snprintf(err + n, errlen - (size_t)n, ")");
        return -1;
    }
    if (strlen(value) >= TC_PATH) {
        snprintf(err, errlen, "'%s': path longer than %d characters", k->name, TC_PATH - 1);
        return -1;
    }
    snprintf(dst, TC_PATH, "%s", value);
    return 0;
}

static int parse_number(const char *key, const char *value, double *x, char *err, size_t errlen) {
    char *end;
    errno = 0;
    *x = strtod(value, &end);
    if (end == value || *end || errno) {
        snprintf(err, errlen, "'%s': expected a number, got '%s'", key, value);
        return -1;
    }
    return 0;
}

// Seeds use all 64 bits, which a double cannot carry.
static int parse_u64(train_config *c, const key_desc *k, const char *value, char *err, size_t errlen) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(value, &end, 10);
    // JSON integers are signed 64-bit: keep seeds below 2^63 so config.json can carry them.
    if (end == value || *end || errno || value[0] == '-' || x > (unsigned long long)INT64_MAX) {
        snprintf(err, errlen, "'%s': expected an integer in [0, 2^63), got '%s'", k->name, value);
        return -1;
    }
    *(uint64_t *)(void *)((char *)c + k->offset) = (uint64_t)x;
    return 0;
}

int train_config_set(train_config *c, const char *key, const char *value, char *err, size_t errlen) {
    const key_desc *k = find_key(key);
    double x;
    if (!k) {
        if (find_hyper(&c->model.act, key) < 0) {
            snprintf(err, errlen, "unknown key '%s' (see 'actlab train --help')", key);
            return -1;
        }
        if (parse_number(key, value, &x, err, errlen)) return -1;
        return set_hyper(c, key, x, value, err, errlen);
    }
    int r;
    if (k->type == K_STR || k->type == K_ACT || k->type == K_ENUM) r = set_string(c, k, value, err, errlen);
    else if (k->type == K_U64) r = parse_u64(c, k, value, err, errlen);
    else r = parse_number(k->name, value, &x, err, errlen) || store_number(c, k, x, value, err, errlen) ? -1 : 0;
    if (!r && k->offset == OFF(steps)) c->sched.total_steps = c->steps;
    if (!r) c->set_mask |= 1ull << (k - KEYS);
    return r;
}

static int parse_json_value(train_config *c, const key_desc *k, const char *key, const json_t *v, char *err,
                            size_t errlen) {
    if (k->type == K_STR || k->type == K_ACT || k->type == K_ENUM) {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "'%s': expected a string", key);
            return -1;
        }
        return set_string(c, k, json_string_value(v), err, errlen);
    }
    if (!json_is_number(v) || (k->type != K_FLOAT && !json_is_integer(v))) {
        snprintf(err, errlen, "'%s': expected %s", key, k->type == K_FLOAT ? "a number" : "an integer");
        return -1;
    }
    char text[64];
    snprintf(text, sizeof text, "%.17g", json_number_value(v));
    if (json_is_integer(v)) snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    if (json_is_integer(v) && json_integer_value(v) < 0 && k->lo >= 0) return range_error(k, text, err, errlen);
    if (k->type == K_U64) {
        *(uint64_t *)(void *)((char *)c + k->offset) = (uint64_t)json_integer_value(v);
        return 0;
    }
    return store_number(c, k, json_number_value(v), text, err, errlen);
}

static int set_json_value(train_config *c, const char *key, const json_t *v, char *err, size_t errlen) {
    const key_desc *k = find_key(key);
    if (!k || strchr(key, '-')) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return -1;
    }
    int r = parse_json_value(c, k, key, v, err, errlen);
    if (!r) c->set_mask |= 1ull << (k - KEYS);
    return r;
}

static int set_json_hyper(train_config *c, const char *key, const json_t *v, char *err, size_t errlen) {
    if (!json_is_number(v)) {
        snprintf(err, errlen, "'act_hyper.%s': expected a number", key);
        return -1;
    }
    char text[64];
    snprintf(text, sizeof text, "%g", json_number_value(v));
    return set_hyper(c, key, json_number_value(v), text, err, errlen);
}

static int apply_hypers(train_config *c, json_t *obj, char *err, size_t errlen) {
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "'act_hyper': expected an object like {\"m\": 3}");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (set_json_hyper(c, key, v, err, errlen)) return -1;
    }
    return 0;
}

int train_config_set_value(train_config *c, const char *key, const json_t *v, char *err, size_t errlen) {
    if (find_key(key) || find_hyper(&c->model.act, key) < 0) return set_json_value(c, key, v, err, errlen);
    return set_json_hyper(c, key, v, err, errlen);
}

int train_config_from_json(train_config *c, const char *text, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
        return -1;
    }
    int r = 0;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "the configuration must be a JSON object");
        r = -1;
    }
    // The activation first: act_hyper refers to it, whatever order the file lists them in.
    json_t *act = r ? NULL : json_object_get(root, "act");
    if (act) r = set_json_value(c, "act", act, err, errlen);
    const char *key;
    json_t *v;
    if (!r) json_object_foreach(root, key, v) {
        if (!strcmp(key, "act")) continue;
        r = !strcmp(key, "act_hyper") ? apply_hypers(c, v, err, errlen) : set_json_value(c, key, v, err, errlen);
        if (r) break;
    }
    json_decref(root);
    c->sched.total_steps = c->steps;
    return r;
}

int train_config_load(train_config *c, const char *path, char *err, size_t errlen) {
    size_t n;
    char *text = file_read(path, &n, err, errlen);
    if (!text) return -1;
    char inner[400];
    int r = train_config_from_json(c, text, inner, sizeof inner);
    if (r) snprintf(err, errlen, "%s: %s", path, inner);
    free(text);
    return r;
}

// The shortest decimal that reads back as the same float, so config.json shows 0.0003, not
// 0.00030000001424923539.
static json_t *json_float(float f) {
    char buf[32];
    fmt_shortest(buf, sizeof buf, (double)f, 1);
    return json_real(strtod(buf, NULL));
}

// The MoE keys of a dense model are left out of config.json, so that a dense run's file (and its
// identity, train_config_identity) is what it was before MoE existed.
static int moe_key(const key_desc *k) { return !strncmp(k->name, "moe_", 4); }

char *train_config_to_json(const train_config *c) {
    json_t *root = json_object();
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_desc *k = &KEYS[i];
        if (c->model.moe_experts == 0 && moe_key(k)) continue;
        const void *p = (const char *)c + k->offset;
        json_t *v = NULL;
        switch (k->type) {
        case K_INT: v = json_integer(*(const int *)p); break;
        case K_U64: v = json_integer((json_int_t) * (const uint64_t *)p); break;
        case K_FLOAT: v = json_float(*(const float *)p); break;
        case K_STR: v = json_string((const char *)p); break;
        case K_ACT: v = json_string(act_desc_of(c->model.act.kind)->name); break;
        case K_ENUM: v = json_string(k->choices[*(const int *)p]); break;
        }
        json_object_set_new(root, k->name, v);
        if (k->type == K_ACT) {
            const act_desc *d = act_desc_of(c->model.act.kind);
            json_t *hp = json_object();
            for (int h = 0; h < d->n_hyper; h++) json_object_set_new(hp, d->hyper[h].name, json_float(c->model.act.hp[h]));
            json_object_set_new(root, "act_hyper", hp);
        }
    }
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    size_t n = strlen(s);
    char *out = xmalloc(n + 2);  // our own copy, so callers free() it like everything else
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = 0;
    free(s);
    return out;
}

char *train_config_identity(const train_config *c) {
    train_config k = *c;
    k.out_dir[0] = 0;
    k.threads = 0;
    return train_config_to_json(&k);
}

const char *train_config_check(const train_config *c, char *buf, size_t buflen) {
    const char *m = model_config_check(&c->model);
    if (m) return m;
    if (c->seq > c->model.max_seq_len) {
        snprintf(buf, buflen, "seq %d exceeds the model's max_seq_len %d", c->seq, c->model.max_seq_len);
        return buf;
    }
    if (c->opt.min_lr > c->opt.lr) {
        snprintf(buf, buflen, "min_lr %g exceeds lr %g", (double)c->opt.min_lr, (double)c->opt.lr);
        return buf;
    }
    if (c->sched.warmup_steps > c->steps) {
        snprintf(buf, buflen, "warmup_steps %d exceeds steps %d", c->sched.warmup_steps, c->steps);
        return buf;
    }
    if (!c->out_dir[0]) return "out must name a run folder";
    if (c->model.moe_experts == 0)
        for (size_t i = 0; i < N_KEYS; i++)
            if (moe_key(&KEYS[i]) && (c->set_mask >> i & 1) && KEYS[i].offset != OFF(model.moe_experts)) {
                snprintf(buf, buflen, "%s needs an MoE FFN: set moe_experts >= 1", KEYS[i].name);
                return buf;
            }
    return NULL;
}

void train_config_shard_paths(const train_config *c, char *train_path, char *val_path, size_t len) {
    if (c->train_data[0]) snprintf(train_path, len, "%s", c->train_data);
    else snprintf(train_path, len, "%s/train.bin", c->data_dir);
    if (c->val_data[0]) snprintf(val_path, len, "%s", c->val_data);
    else snprintf(val_path, len, "%s/val.bin", c->data_dir);
}

void train_config_print_help(FILE *out) {
    train_config d;
    train_config_default(&d);
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_desc *k = &KEYS[i];
        const void *p = (const char *)&d + k->offset;
        char flag[64], def[96];
        static const char *PLACEHOLDER[] = {"N", "N", "X", "S", "NAME", "NAME"};
        snprintf(flag, sizeof flag, "--%s %s", k->name, PLACEHOLDER[k->type]);
        for (char *q = flag + 2; *q && *q != ' '; q++)
            if (*q == '_') *q = '-';
        switch (k->type) {
        case K_INT: snprintf(def, sizeof def, "%d", *(const int *)p); break;
        case K_U64: snprintf(def, sizeof def, "%llu", (unsigned long long)*(const uint64_t *)p); break;
        case K_FLOAT: snprintf(def, sizeof def, "%g", (double)*(const float *)p); break;
        case K_STR: snprintf(def, sizeof def, "\"%s\"", (const char *)p); break;
        case K_ACT: snprintf(def, sizeof def, "%s", act_desc_of(d.model.act.kind)->name); break;
        case K_ENUM: snprintf(def, sizeof def, "%s", k->choices[*(const int *)p]); break;
        }
        const char *rule = adaptive_rule(k);
        if (rule) snprintf(def, sizeof def, "%s", rule);
        fprintf(out, "  %-25s %s (default %s)\n", flag, k->help, def);
    }
    fprintf(out, "  --<hyper> X               an activation hyperparameter, e.g. --m 3 for powlu (default: the "
                 "activation's own)\n");
}
