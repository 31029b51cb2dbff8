// suite.c — see suite.h. Why the suite looks like this:
//
// * One base model ("s": d 64, 2 layers, T 128) on the real corpus with the 8192-token BPE, trained
//   for 800 steps of 1024 tokens: about 35 s on one core, so 2 runs at once (docs/sweep.md) fit
//   ~50 runs into the budget. Gated FFNs use 8/3·d hidden units, non-gated 3/2 of that, so every
//   activation has the same parameter count (PolyCom's equal-parameter rule).
// * E3 (and E1, whose statistics come from the same runs): all seven activations × 3 seeds, so a
//   difference is judged against the seed-to-seed spread (the report's rule: |diff| > 2 se).
// * E4: PowLU m = 2, 3, 4 × the same 3 seeds (m = 3 is E3's run).
// * E5: 4 sizes from 16k to 0.9M non-embedding parameters (a factor ~50), SwiGLU and PowLU, one
//   seed, the same tokens: enough points for a 3-parameter fit with one degree of freedom.
// * E2: FP8 with Transformer Engine's delayed scaling on a learning-rate ladder (1x to 30x the base
//   rate) for SwiGLU, SwiGLU-Clip and PowLU; divergence is a loss above ln V + 1, spikes are 4 std
//   above the trailing 50-step mean.
// The quick suite keeps every section with 150 steps, 2 seeds and smaller models.
#include "exp/suite.h"

#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int steps, batch, seq, seeds;
    int d[4], layers[4];  // sizes xs, s, m, l; "s" is the base model
    const char *lrs;      // E2 ladder (JSON array text)
} suite_params;

static const suite_params FULL = {800, 8, 128, 3, {32, 64, 96, 128}, {1, 2, 3, 4}, "[0.002, 0.006, 0.02, 0.06]"};
static const suite_params QUICK = {150, 8, 64, 2, {16, 32, 48, 64}, {1, 2, 2, 2}, "[0.002, 0.02, 0.06]"};

static const char *seeds_json(int n) { return n >= 3 ? "[1, 2, 3]" : "[1, 2]"; }

char *suite_spec(int quick, const char *data_dir) {
    const suite_params *p = quick ? &QUICK : &FULL;
    const char *seeds = seeds_json(p->seeds);
    size_t cap = 8192;
    char *s = xmalloc(cap);
    int n = snprintf(
        s, cap,
        "{\n"
        "  \"version\": 1,\n"
        "  \"name\": \"%s\",\n"
        "  \"base\": {\"data_dir\": \"%s\", \"max_seq_len\": %d, \"seq\": %d, \"batch\": %d, \"steps\": %d,\n"
        "           \"warmup_steps\": %d, \"lr\": 0.002, \"min_lr\": 0.0002, \"schedule\": \"cosine\",\n"
        "           \"eval_interval\": %d, \"eval_batches\": 16, \"telemetry_interval\": %d,\n"
        "           \"ckpt_interval\": %d, \"log_interval\": 1, \"d_model\": %d, \"n_layers\": %d,\n"
        "           \"n_heads\": 2, \"n_kv_heads\": 2},\n"
        "  \"sizes\": {\"xs\": {\"d_model\": %d, \"n_layers\": %d}, \"s\": {\"d_model\": %d, \"n_layers\": %d},\n"
        "            \"m\": {\"d_model\": %d, \"n_layers\": %d}, \"l\": {\"d_model\": %d, \"n_layers\": %d}},\n"
        "  \"experiments\": [\n"
        "    {\"id\": \"E3\", \"grid\": {\"act\": [\"swiglu\", \"swiglu_clip\", \"powlu\", \"polynorm\", \"polyrelu\",\n"
        "                                 \"gelu\", \"relu\"], \"seed\": %s}},\n"
        "    {\"id\": \"E1\", \"grid\": {\"act\": [\"swiglu\", \"swiglu_clip\", \"powlu\"], \"seed\": %s}},\n"
        "    {\"id\": \"E4\", \"grid\": {\"m\": [2, 3, 4], \"seed\": %s}, \"set\": {\"act\": \"powlu\"}},\n"
        "    {\"id\": \"E5\", \"grid\": {\"size\": [\"xs\", \"s\", \"m\", \"l\"], \"act\": [\"swiglu\", \"powlu\"]},\n"
        "     \"set\": {\"seed\": 1}},\n"
        "    {\"id\": \"E2\", \"grid\": {\"act\": [\"swiglu\", \"swiglu_clip\", \"powlu\"], \"lr\": %s},\n"
        "     \"set\": {\"precision\": \"fp8\", \"fp8_scaling\": \"delayed\", \"seed\": 1}}\n"
        "  ]\n"
        "}\n",
        quick ? "compare-quick" : "compare", data_dir, p->seq, p->seq, p->batch, p->steps, p->steps / 10,
        p->steps / 4, p->steps / 10, p->steps / 4, p->d[1], p->layers[1], p->d[0], p->layers[0], p->d[1],
        p->layers[1], p->d[2], p->layers[2], p->d[3], p->layers[3], seeds, seeds, seeds, p->lrs);
    if (n < 0 || (size_t)n >= cap) die("this is a bug in actlab", "suite spec longer than %zu bytes", cap);
    return s;
}
