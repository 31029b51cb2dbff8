// checkpoint.c — see checkpoint.h.
#include "util/hash.h"
#include "train/checkpoint.h"
#include "util/atomic.h"
#include "util/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes the host's byte order and assumes it is little-endian"
#endif

static const char MAGIC[8] = {'A', 'C', 'T', 'L', 'C', 'K', 'P', 'T'};


// The header is a fixed sequence of fields, each written with its own width, so the format does
// not depend on struct padding.
typedef struct {
    unsigned char buf[512];
    size_t n;
    int bad;  // reader ran past the end
} hbuf;

static void put(hbuf *h, void *p, size_t n) {
    memcpy(h->buf + h->n, p, n);
    h->n += n;
}
static void get(hbuf *h, void *p, size_t n) {
    if (h->n + n > sizeof h->buf) { h->bad = 1; memset(p, 0, n); return; }
    memcpy(p, h->buf + h->n, n);
    h->n += n;
}

// One function walks the fields for both directions, so writer and reader cannot drift apart.
static void header_fields(hbuf *h, ckpt_meta *m, uint64_t *config_len, uint32_t version, int writing) {
    void (*io)(hbuf *, void *, size_t) = writing ? put : get;
    model_config *c = &m->cfg;
    int32_t ints[8] = {c->vocab_size, c->d_model, c->n_layers, c->n_heads,
                       c->n_kv_heads, c->max_seq_len, c->ffn_hidden, c->tied_embeddings};
    io(h, ints, sizeof ints);
    io(h, &c->rope_theta, 4);
    io(h, &c->norm_eps, 4);
    io(h, &c->init_std, 4);
    int32_t kind = (int32_t)c->act.kind;
    io(h, &kind, 4);
    io(h, c->act.hp, sizeof c->act.hp);
    if (version >= 3) {
        int32_t moe[6] = {c->moe_experts, c->moe_top_k, c->moe_shared, c->moe_hidden, c->moe_router, c->moe_renorm};
        io(h, moe, sizeof moe);
        io(h, &c->moe_aux_coef, 4);
        io(h, &c->moe_z_coef, 4);
        io(h, &c->moe_bias_rate, 4);
        if (!writing) {
            c->moe_experts = moe[0]; c->moe_top_k = moe[1]; c->moe_shared = moe[2]; c->moe_hidden = moe[3];
            c->moe_router = moe[4]; c->moe_renorm = moe[5];
        }
    }
    if (!writing) {
        c->vocab_size = ints[0]; c->d_model = ints[1]; c->n_layers = ints[2]; c->n_heads = ints[3];
        c->n_kv_heads = ints[4]; c->max_seq_len = ints[5]; c->ffn_hidden = ints[6]; c->tied_embeddings = ints[7];
        c->act.kind = (act_kind)kind;
    }
    io(h, m->tokenizer, sizeof m->tokenizer);
    io(h, &m->tok_fingerprint, 8);
    io(h, &m->n_params, 8);
    io(h, &m->step, 8);
    io(h, &m->opt_t, 8);
    io(h, &m->bad_streak, 8);
    io(h, &m->loader_pos, 8);
    io(h, m->loader_rng, sizeof m->loader_rng);
    io(h, &m->loader_random, 4);
    io(h, m->rng, sizeof m->rng);
    io(h, &m->seed, 8);
    io(h, config_len, 8);
    if (version >= 2) io(h, &m->state_len, 8);
    else m->state_len = 0;
}

int ckpt_write(const char *path, const ckpt_meta *meta, const float *params, const float *m, const float *v,
               const float *state, const char *config_json, char *err, size_t errlen) {
    ckpt_meta mm = *meta;
    if (mm.state_len && !state) {
        snprintf(err, errlen, "checkpoint '%s': %llu floats of trainer state announced but none given", path,
                 (unsigned long long)mm.state_len);
        return -1;
    }
    mm.tokenizer[sizeof mm.tokenizer - 1] = 0;
    uint64_t config_len = config_json ? strlen(config_json) : 0;
    hbuf h = {0};
    uint32_t version = mm.cfg.moe_experts > 0 ? CKPT_VERSION : 2;
    header_fields(&h, &mm, &config_len, version, 1);
    uint32_t hbytes = (uint32_t)h.n;
    uint64_t hsum = fnv1a64(FNV1A64_OFFSET, h.buf, h.n);

    atomic_file a;
    if (atomic_begin(&a, path, err, errlen)) return -1;
    atomic_write(&a, MAGIC, 8);
    atomic_write(&a, &version, 4);
    atomic_write(&a, &hbytes, 4);
    atomic_write(&a, h.buf, h.n);
    atomic_write(&a, &hsum, 8);

    size_t n = (size_t)meta->n_params, chunk = 1 << 16;
    float *zeros = (m && v) ? NULL : xcalloc(chunk, sizeof(float));
    const float *arrays[3] = {params, m, v};
    uint64_t psum = FNV1A64_OFFSET;
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i += chunk) {
            size_t cnt = n - i < chunk ? n - i : chunk;
            const float *src = arrays[k] ? arrays[k] + i : zeros;
            psum = fnv1a64(psum, src, cnt * sizeof(float));
            atomic_write(&a, src, cnt * sizeof(float));
        }
    }
    free(zeros);
    if (mm.state_len) {
        psum = fnv1a64(psum, state, mm.state_len * sizeof(float));
        atomic_write(&a, state, mm.state_len * sizeof(float));
    }
    psum = fnv1a64(psum, config_json ? config_json : "", config_len);
    atomic_write(&a, config_json ? config_json : "", config_len);
    atomic_write(&a, &psum, 8);
    return atomic_commit(&a, err, errlen);
}

// Opens the file and validates magic, version, header checksum and total size.
static FILE *open_checked(const char *path, ckpt_meta *meta, uint64_t *config_len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open checkpoint '%s': %s", path, strerror(errno));
        return NULL;
    }
    char magic[8];
    uint32_t version = 0, hbytes = 0;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, MAGIC, 8)) {
        snprintf(err, errlen, "'%s' is not an actlab checkpoint (bad magic; expected \"ACTLCKPT\")", path);
        goto fail;
    }
    if (fread(&version, 4, 1, f) != 1 || fread(&hbytes, 4, 1, f) != 1) {
        snprintf(err, errlen, "checkpoint '%s' is truncated inside its header", path);
        goto fail;
    }
    if (version < 1 || version > CKPT_VERSION) {
        snprintf(err, errlen, "checkpoint '%s' has format version %u; this build reads versions 1 to %d", path,
                 version, CKPT_VERSION);
        goto fail;
    }
    hbuf h = {0};
    uint64_t hsum = 0;
    if (hbytes > sizeof h.buf) {
        snprintf(err, errlen, "checkpoint '%s' is corrupt: header size %u is implausible", path, hbytes);
        goto fail;
    }
    if (fread(h.buf, 1, hbytes, f) != hbytes || fread(&hsum, 8, 1, f) != 1) {
        snprintf(err, errlen, "checkpoint '%s' is truncated inside its header", path);
        goto fail;
    }
    if (fnv1a64(FNV1A64_OFFSET, h.buf, hbytes) != hsum) {
        snprintf(err, errlen, "checkpoint '%s' is corrupt: header checksum mismatch", path);
        goto fail;
    }
    memset(meta, 0, sizeof *meta);
    header_fields(&h, meta, config_len, version, 0);
    if (h.bad || h.n != hbytes) {
        snprintf(err, errlen, "checkpoint '%s' is corrupt: header holds %u bytes, expected %zu", path, hbytes, h.n);
        goto fail;
    }
    meta->tokenizer[sizeof meta->tokenizer - 1] = 0;
    struct stat st;
    if (meta->state_len > ((uint64_t)1 << 40) || meta->n_params > ((uint64_t)1 << 40)) {
        snprintf(err, errlen, "checkpoint '%s' is corrupt: implausible sizes in its header", path);
        goto fail;
    }
    uint64_t want = 8 + 4 + 4 + (uint64_t)hbytes + 8 + (3 * meta->n_params + meta->state_len) * 4 + *config_len + 8;
    if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size != want) {
        snprintf(err, errlen, "checkpoint '%s' is %s: %lld bytes on disk, the header promises %llu", path,
                 (uint64_t)st.st_size < want ? "truncated" : "corrupt (trailing bytes)", (long long)st.st_size,
                 (unsigned long long)want);
        goto fail;
    }
    return f;
fail:
    fclose(f);
    return NULL;
}

int ckpt_read_meta(const char *path, ckpt_meta *out, char *err, size_t errlen) {
    uint64_t config_len;
    FILE *f = open_checked(path, out, &config_len, err, errlen);
    if (!f) return -1;
    fclose(f);
    return 0;
}

int ckpt_read(const char *path, ckpt *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    uint64_t config_len = 0;
    FILE *f = open_checked(path, &out->meta, &config_len, err, errlen);
    if (!f) return -1;
    size_t n = (size_t)out->meta.n_params;
    float **arrays[3] = {&out->params, &out->m, &out->v};
    uint64_t psum = FNV1A64_OFFSET, stored = 0;
    int ok = 1;
    for (int k = 0; k < 3 && ok; k++) {
        *arrays[k] = xmalloc(n * sizeof(float));
        ok = fread(*arrays[k], sizeof(float), n, f) == n;
        if (ok) psum = fnv1a64(psum, *arrays[k], n * sizeof(float));
    }
    size_t ns = (size_t)out->meta.state_len;
    if (ok && ns) {
        out->state = xmalloc(ns * sizeof(float));
        ok = fread(out->state, sizeof(float), ns, f) == ns;
        if (ok) psum = fnv1a64(psum, out->state, ns * sizeof(float));
    }
    out->config_json = xmalloc(config_len + 1);
    if (ok) ok = fread(out->config_json, 1, config_len, f) == config_len;
    out->config_json[config_len] = 0;
    if (ok) psum = fnv1a64(psum, out->config_json, config_len);
    if (ok) ok = fread(&stored, 8, 1, f) == 1;
    fclose(f);
    if (!ok) {
        snprintf(err, errlen, "checkpoint '%s' is truncated (short read in the payload)", path);
        ckpt_free(out);
        return -1;
    }
    if (stored != psum) {
        snprintf(err, errlen, "checkpoint '%s' is corrupt: payload checksum mismatch (stored %016llx, computed %016llx)",
                 path, (unsigned long long)stored, (unsigned long long)psum);
        ckpt_free(out);
        return -1;
    }
    return 0;
}

void ckpt_free(ckpt *c) {
    free(c->params);
    free(c->m);
    free(c->v);
    free(c->state);
    free(c->config_json);
    c->params = c->m = c->v = c->state = NULL;
    c->config_json = NULL;
}

#define DIFF_INT(field)                                                                                           \
    if (a->field != b->field) {                                                                                   \
        snprintf(err, errlen, "checkpoint model config differs: " #field " is %d in the checkpoint, %d here",     \
                 a->field, b->field);                                                                             \
        return -1;                                                                                                \
    }
#define DIFF_FLOAT(field)                                                                                         \
    if (memcmp(&a->field, &b->field, sizeof(float))) {                                                            \
        snprintf(err, errlen, "checkpoint model config differs: " #field " is %g in the checkpoint, %g here",     \
                 (double)a->field, (double)b->field);                                                             \
        return -1;                                                                                                \
    }

int ckpt_check_match(const ckpt_meta *meta, const model_config *cfg, uint64_t expected_fingerprint, char *err,
                     size_t errlen) {
    const model_config *a = &meta->cfg, *b = cfg;
    DIFF_INT(vocab_size) DIFF_INT(d_model) DIFF_INT(n_layers) DIFF_INT(n_heads) DIFF_INT(n_kv_heads)
    DIFF_INT(max_seq_len) DIFF_INT(ffn_hidden) DIFF_INT(tied_embeddings)
    DIFF_FLOAT(rope_theta) DIFF_FLOAT(norm_eps) DIFF_FLOAT(init_std)
    DIFF_INT(moe_experts)
    if (a->moe_experts > 0) {
        DIFF_INT(moe_top_k) DIFF_INT(moe_shared) DIFF_INT(moe_hidden) DIFF_INT(moe_router) DIFF_INT(moe_renorm)
        DIFF_FLOAT(moe_aux_coef) DIFF_FLOAT(moe_z_coef) DIFF_FLOAT(moe_bias_rate)
    }
    if (a->act.kind != b->act.kind) {
        const act_desc *da = act_desc_of(a->act.kind), *db = act_desc_of(b->act.kind);
        snprintf(err, errlen, "checkpoint model config differs: activation is %s in the checkpoint, %s here",
                 da ? da->name : "?", db ? db->name : "?");
        return -1;
    }
    const act_desc *d = act_desc_of(a->act.kind);
    for (int i = 0; d && i < d->n_hyper; i++)
        if (memcmp(&a->act.hp[i], &b->act.hp[i], sizeof(float))) {
            snprintf(err, errlen, "checkpoint model config differs: %s's %s is %g in the checkpoint, %g here", d->name,
                     d->hyper[i].name, (double)a->act.hp[i], (double)b->act.hp[i]);
            return -1;
        }
    if (expected_fingerprint && meta->tok_fingerprint != expected_fingerprint) {
        snprintf(err, errlen,
                 "checkpoint was trained with tokenizer %s (fingerprint %016llx); this data was written by another "
                 "tokenizer (%016llx)",
                 meta->tokenizer, (unsigned long long)meta->tok_fingerprint, (unsigned long long)expected_fingerprint);
        return -1;
    }
    return 0;
}
