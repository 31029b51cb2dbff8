// report_split.c — a model's parameters by part (embeddings / attention / FFN / norms), from its
// config.json, laid out as src/model/model.c builds the model (an MoE FFN as model_param_split_of
// counts it: every expert, docs/moe.md); checked against run.json n_params.
// The activation's form (gated or not, learnable scalars) comes from the activation registry, the
// one place that knows it.
#include "actlab.h"
#include "report/report_analyze.h"

#include <string.h>

#define GATED_FFN_MATS 3   // gate, up, down
#define PLAIN_FFN_MATS 2   // up, down
#define GATED_MULT 8       // derived hidden size of a gated FFN: 8/3·d rounded up to a multiple of 64
#define GATED_DIV 3
#define HIDDEN_ROUND 64

// model_ffn_hidden() of src/model/config.c, for a config that left ffn_hidden at 0.
static double derived_hidden(long d, int gated) {
    long h = (GATED_MULT * d + GATED_DIV * HIDDEN_ROUND - 1) / (GATED_DIV * HIDDEN_ROUND) * HIDDEN_ROUND;
    return gated ? (double)h : (double)(h * 3 / 2);
}

// One FFN of hidden width h: its projections and the activation's learnable scalars.
static double ffn_params(const act_desc *a, double d, double h) {
    return (a->gated ? GATED_FFN_MATS : PLAIN_FFN_MATS) * h * d + a->n_params;
}

void rp_param_split(const rp_run *r, rp_split *out) {
    memset(out, 0, sizeof *out);
    const act_desc *a = act_find(r->act);
    double d = (double)r->d_model, L = (double)r->n_layers, V = (double)r->vocab_size;
    if (!a || r->d_model <= 0 || r->n_layers <= 0 || r->n_heads <= 0 || r->vocab_size <= 0 || r->tied < 0) return;
    double kvd = (double)r->n_kv_heads * (d / (double)r->n_heads);
    double h = r->ffn_hidden > 0 ? (double)r->ffn_hidden : derived_hidden(r->d_model, a->gated);
    out->embed = V * d * (r->tied ? 1 : 2);                        // token embedding, untied LM head
    out->attn = L * (2 * d * d + 2 * kvd * d);                     // q, o; k, v
    out->ffn = L * ffn_params(a, d, h);
    if (r->moe_experts > 0) {   // the router (and a sigmoid router's biases), the experts, one shared FFN
        double E = (double)r->moe_experts, he = r->moe_hidden > 0 ? (double)r->moe_hidden : h;
        double shared = r->moe_shared > 0 ? ffn_params(a, d, (double)r->moe_shared * he) : 0;
        out->ffn = L * (E * d + (r->moe_sigmoid ? E : 0) + E * ffn_params(a, d, he) + shared);
    }
    out->other = L * 2 * d + d;                                    // two RMSNorm gains per layer, the final one
    out->total = out->embed + out->attn + out->ffn + out->other;
    out->matches = r->n_params < 0 ? -1 : (double)r->n_params == out->total;
    out->ok = 1;
}
