// suite.c — see suite.h. Why the suite looks like this (docs/sweep.md has the measured times):
//
// * The FFN must matter: every model has ≥ 40% of its parameters in the FFNs (the report prints each
//   split; tests/exp/test_suite.c checks every suite model). With a 1024-id BPE (`actlab data
//   --tokenizer bpe:1024`) and tied embeddings the base model — d 128, 4 layers, 4 heads, FFN 384
//   (gated) / 576 (non-gated) — holds 60% of its 0.98M parameters in the FFNs, 13% in the embedding.
// * The suite trains in bf16, as both papers did, with native bf16 GEMMs (see base_json).
// * E3 is fair and paired: each activation gets its own learning rate from a small grid (×2 apart,
//   one seed that no comparison uses), then the same seeds 1..n for every activation, so a pair shares
//   its initialisation and data order and the paired t test removes that variance. The cosine
//   schedule decays to 0, so the schedule is the same shape at every learning rate.
// * E1 uses E3's SwiGLU and PowLU runs (paired by seed), and again the E2 controls of both at the
//   largest rung where both are stable ("E2.stress": the tuned runs never reach PowLU's bounded
//   regime z > 12.9, those do); E4 adds PowLU m = 2, 4 at
//   PowLU's tuned learning rate with the same seeds (m = 3 is E3's run).
// * E5: five sizes from 0.17M to 1.4M parameters, each with a token budget proportional to its size
//   (tokens per parameter fixed), SwiGLU and PowLU, two seeds per size for the fit's uncertainty.
// * E2: a ×2 learning-rate ladder, shorter runs, in FP8 with Transformer Engine's delayed scaling
//   (history 1024), the same ladder in bf16 as the control (an FP8 failure counts only where the
//   control is stable), and SwiGLU and PowLU in FP8 with a 16-step amax history (a stress for
//   delayed scaling). Phase 2
//   adds the √2 rung between each activation's last stable and first unstable rung and extra seeds
//   at those three decisive rungs; an activation stable on the whole ladder gets two rungs above it,
//   so its own limit is looked for instead of stopping at the top rung.
// * E6 (--full only, phase 2, after E1-E5; suite_e6.c): SwiGLU, PowLU and PolyNorm with an MoE FFN at
//   the dense model's active width and each one's tuned rate, the E3 seeds (E1 and E3 with experts).
// * E7 (--full only, phase 2, last; suite_e7.c): the E2 acts on the E2 ladder in NVFP4 and MXFP4 with
//   bf16 controls.
#include "exp/suite.h"

#include "exp/runinfo.h"
#include "exp/suite_json.h"
#include "util/check.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const suite_kind_names[] = {"quick", "default", "full", NULL};
// SwiGLU-Clip is E2's subject (the paper: Clip only delays the FP8 spike); no E1 or E3 claim names it,
// so it is not tuned or seeded here (it cost 7 of the suite's 400-step runs).
const char *const suite_e3_acts[SUITE_N_E3] = {"swiglu", "powlu", "polynorm", "polyrelu", "gelu", "relu"};
const char *const suite_e2_acts[SUITE_N_E2] = {"swiglu", "swiglu_clip", "powlu"};
static const char *const E1_ACTS[] = {"swiglu", "powlu"};
static const char *const E5_ACTS[] = {"swiglu", "powlu"};

#define MAX_SIZES 8
#define MAX_LRS 8
#define TUNE_SEED 101   // the tuning runs' seed: no comparison uses it
#define VOCAB 1024
#define BASE_EVALS 4    // validations of a base run (E3/E1 read them as validation curves)

typedef struct {
    int d, layers, heads;
} size_preset;

typedef struct {
    int steps, batch, seq;      // a base run: steps of batch × seq tokens
    size_preset base;
    int seeds;                  // E3/E1/E4 seeds 1..seeds
    int n_tune;
    double tune[MAX_LRS];       // the learning-rate grid of the tuning runs
    int n_sizes;
    size_preset sizes[MAX_SIZES];  // E5
    double e5_tokens_per_param;
    int e5_seeds;
    double e5_lr;
    int e2_steps, e2_seeds;     // E2 run length; seeds at the decisive rungs (phase 2)
    int n_ladder;
    double ladder[MAX_LRS];     // the coarse E2 ladder, ×2 apart
    int eval_batches, telemetry_points;  // the E3/E1 runs' telemetry points
    int e2_telemetry_points;
    int e6_seeds;               // E6's seeds 1..e6_seeds per activation (0: no E6)
    int e7_seeds;               // E7's seeds 1..e7_seeds at every rung (0: no E7)
} suite_params;

static const suite_params QUICK = {
    .steps = 50, .batch = 8, .seq = 32, .base = {64, 2, 2}, .seeds = 2,
    .n_tune = 2, .tune = {0.004, 0.008},
    .n_sizes = 5, .sizes = {{64, 2, 2}, {64, 3, 2}, {64, 4, 2}, {96, 3, 3}, {96, 4, 3}},
    .e5_tokens_per_param = 0.05, .e5_seeds = 2, .e5_lr = 0.006,
    .e2_steps = 40, .e2_seeds = 2, .n_ladder = 3, .ladder = {0.005, 0.01, 0.02},
    .eval_batches = 4, .e2_telemetry_points = 2, .telemetry_points = 4,
};
static const suite_params DEFAULT = {
    .steps = 400, .batch = 16, .seq = 128, .base = {128, 4, 4}, .seeds = 4,
    .n_tune = 3, .tune = {0.00125, 0.0025, 0.005},
    .n_sizes = 5, .sizes = {{64, 2, 2}, {96, 2, 3}, {96, 4, 3}, {128, 4, 4}, {160, 4, 5}},
    .e5_tokens_per_param = 0.6, .e5_seeds = 2, .e5_lr = 0.005,
    .e2_steps = 120, .e2_seeds = 3, .n_ladder = 5, .ladder = {0.005, 0.01, 0.02, 0.04, 0.08},
    .eval_batches = 24, .e2_telemetry_points = 4, .telemetry_points = 10,
};
static const suite_params FULL = {
    .steps = 1000, .batch = 16, .seq = 128, .base = {128, 4, 4}, .seeds = 8,
    .n_tune = 4, .tune = {0.000625, 0.00125, 0.0025, 0.005},
    .n_sizes = 6, .sizes = {{64, 2, 2}, {96, 2, 3}, {96, 4, 3}, {128, 4, 4}, {160, 4, 5}, {192, 4, 6}},
    .e5_tokens_per_param = 1.5, .e5_seeds = 3, .e5_lr = 0.005,
    .e2_steps = 400, .e2_seeds = 5, .n_ladder = 6, .ladder = {0.005, 0.01, 0.02, 0.04, 0.08, 0.16},
    .eval_batches = 48, .e2_telemetry_points = 10, .telemetry_points = 10, .e6_seeds = 8, .e7_seeds = 3,
};

static const suite_params *params_of(suite_kind k) { return k == SUITE_QUICK ? &QUICK : k == SUITE_FULL ? &FULL : &DEFAULT; }

const char *suite_default_out(suite_kind k) {
    return k == SUITE_QUICK ? "runs/compare-quick" : k == SUITE_FULL ? "runs/compare-full" : "runs/compare";
}
const char *suite_default_data(void) { return "data/bpe1024"; }
const char *suite_tokenizer(void) { return "bpe:1024"; }

// ---- building blocks of the spec ------------------------------------------------------------

json_t *int_list(int from, int to) {
    json_t *a = json_array();
    for (int i = from; i <= to; i++) json_array_append_new(a, json_integer(i));
    return a;
}

json_t *real_list(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

json_t *str_list(const char *const *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static void set_model(json_t *o, const size_preset *s) {
    json_object_set_new(o, "d_model", json_integer(s->d));
    json_object_set_new(o, "n_layers", json_integer(s->layers));
    json_object_set_new(o, "n_heads", json_integer(s->heads));
    json_object_set_new(o, "n_kv_heads", json_integer(s->heads));
}

// The schedule keys of a run of `steps` steps: 10% warmup, `evals` validations (0: at the end only)
// and `points` telemetry points (0: none) spread evenly. Validation and telemetry cost a quarter of
// a short run, so each run gets only what its experiment reads. A loss bump above the divergence
// threshold inside the warmup may recover (divergence_grace): high-lr runs at this scale bump in
// their first ~10 steps with and without FP8 alike, and the claims are about training after that.
static void set_length(json_t *o, int steps, int evals, int points) {
    int warmup = steps / 10 > 0 ? steps / 10 : 1;
    json_object_set_new(o, "steps", json_integer(steps));
    json_object_set_new(o, "warmup_steps", json_integer(warmup));
    json_object_set_new(o, "divergence_grace", json_integer(warmup));
    json_object_set_new(o, "eval_interval", json_integer(evals > 0 && steps / evals > 0 ? steps / evals : 0));
    json_object_set_new(o, "telemetry_interval", json_integer(points > 0 && steps / points > 0 ? steps / points : 0));
    json_object_set_new(o, "ckpt_interval", json_integer(steps / 4 > 0 ? steps / 4 : 1));
}

// Runs judged on their final validation loss alone (tuning, E4): no intermediate validation, no
// telemetry.
static void final_loss_only(json_t *set) {
    json_object_set_new(set, "eval_interval", json_integer(0));
    json_object_set_new(set, "telemetry_interval", json_integer(0));
}

static json_t *base_json(const suite_params *p, const char *data_dir) {
    json_t *b = json_object();
    json_object_set_new(b, "data_dir", json_string(data_dir));
    json_object_set_new(b, "vocab_size", json_integer(VOCAB));
    json_object_set_new(b, "tied_embeddings", json_integer(1));
    json_object_set_new(b, "max_seq_len", json_integer(p->seq));
    json_object_set_new(b, "seq", json_integer(p->seq));
    json_object_set_new(b, "batch", json_integer(p->batch));
    // bf16, the papers' precision: with the projections quantised straight into bf16 codes for
    // oneDNN's bf16 GEMMs, a bf16 step of this model on one core measured 1.21-1.25x faster than fp32
    // (`actlab bench train --suite-model --precision bf16`, docs/sweep.md). The E2 control is then
    // bf16 too, as in the papers: FP8 against the precision it replaces.
    json_object_set_new(b, "precision", json_string("bf16"));
    json_object_set_new(b, "lr", json_real(p->tune[p->n_tune / 2]));
    json_object_set_new(b, "min_lr", json_real(0));
    json_object_set_new(b, "schedule", json_string("cosine"));
    json_object_set_new(b, "eval_batches", json_integer(p->eval_batches));
    json_object_set_new(b, "log_interval", json_integer(1));
    set_model(b, &p->base);
    set_length(b, p->steps, BASE_EVALS, p->telemetry_points);
    return b;
}

static void preset_model(const size_preset *s, model_config *c) {
    model_config_default(c);
    c->vocab_size = VOCAB, c->tied_embeddings = 1;
    c->d_model = s->d, c->n_layers = s->layers, c->n_heads = c->n_kv_heads = s->heads;
}

void suite_base_model(suite_kind k, model_config *c, int *seq) {
    const suite_params *p = params_of(k);
    preset_model(&p->base, c);
    c->max_seq_len = *seq = p->seq;
}

// The parameters of a size preset's model (the count the E5 token budget is proportional to).
static size_t preset_params(const size_preset *s) {
    model_config c;
    preset_model(s, &c);
    model_param_split sp;
    model_param_split_of(&c, &sp);
    return sp.total;
}

static json_t *sizes_json(const suite_params *p) {
    json_t *o = json_object();
    for (int i = 0; i < p->n_sizes; i++) {
        json_t *s = json_object();
        set_model(s, &p->sizes[i]);
        double tokens = p->e5_tokens_per_param * (double)preset_params(&p->sizes[i]);
        int steps = (int)ceil(tokens / (double)(p->batch * p->seq));
        set_length(s, steps, 0, 0);
        char name[32];
        snprintf(name, sizeof name, "d%dl%d", p->sizes[i].d, p->sizes[i].layers);
        json_object_set_new(o, name, s);
    }
    return o;
}

static json_t *size_names(const suite_params *p) {
    json_t *a = json_array();
    for (int i = 0; i < p->n_sizes; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%dl%d", p->sizes[i].d, p->sizes[i].layers);
        json_array_append_new(a, json_string(name));
    }
    return a;
}

void add_exp(json_t *exps, const char *id, json_t *grid, json_t *set) {
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "grid", grid);
    if (set) json_object_set_new(e, "set", set);
    json_array_append_new(exps, e);
}

// The set of an E2 run: its precision (fp8 with delayed scaling and the given history, or the bf16
// control when history is 0) and the shorter run length.
static json_t *e2_set(const suite_params *p, const char *act, int history) {
    json_t *s = json_object();
    if (act) json_object_set_new(s, "act", json_string(act));
    if (history > 0) {
        json_object_set_new(s, "precision", json_string("fp8"));
        json_object_set_new(s, "fp8_scaling", json_string("delayed"));
        json_object_set_new(s, "amax_history", json_integer(history));
    } else {
        json_object_set_new(s, "precision", json_string("bf16"));
    }
    set_length(s, p->e2_steps, 0, p->e2_telemetry_points);
    return s;
}

// ---- phase 1: tuning, E5, the coarse E2 ladders ---------------------------------------------

static void phase1(json_t *exps, const suite_params *p) {
    json_t *g = json_object();
    json_object_set_new(g, "act", str_list(suite_e3_acts, SUITE_N_E3));
    json_object_set_new(g, "lr", real_list(p->tune, p->n_tune));
    json_t *s = json_object();
    json_object_set_new(s, "seed", json_integer(TUNE_SEED));
    final_loss_only(s);
    add_exp(exps, "tune", g, s);

    g = json_object();
    json_object_set_new(g, "size", size_names(p));
    json_object_set_new(g, "act", str_list(E5_ACTS, 2));
    json_object_set_new(g, "seed", int_list(1, p->e5_seeds));
    s = json_object();
    json_object_set_new(s, "lr", json_real(p->e5_lr));
    add_exp(exps, "E5", g, s);

    // The stress recipe compares PowLU with SwiGLU only: Clip's place in the claim is the main ladder.
    static const char *const STRESS_ACTS[] = {"swiglu", "powlu"};
    static const struct { const char *id; int history; } LADDERS[] = {{"E2", 1024}, {"E2.ctl", 0}, {"E2.h16", 16}};
    for (int i = 0; i < 3; i++) {
        g = json_object();
        if (LADDERS[i].history == 16) json_object_set_new(g, "act", str_list(STRESS_ACTS, 2));
        else json_object_set_new(g, "act", str_list(suite_e2_acts, SUITE_N_E2));
        json_object_set_new(g, "lr", real_list(p->ladder, p->n_ladder));
        s = e2_set(p, NULL, LADDERS[i].history);
        json_object_set_new(s, "seed", json_integer(1));
        add_exp(exps, LADDERS[i].id, g, s);
    }}

// ---- phase 2: the seeded comparisons and the refined E2 boundaries ----------------------------

#define E6_E2_SEEDS 3  // E6's ladders: the seeds E2's rule needs at a decisive rung, at every rung

// The index of act in one of the suite's activation lists, or -1.
static int act_index(const char *const *acts, int n, const char *act) {
    for (int i = 0; i < n; i++)
        if (!strcmp(acts[i], act)) return i;
    return -1;
}
static int e2_index(const char *act) { return act_index(suite_e2_acts, SUITE_N_E2, act); }
static int e3_index(const char *act) { return act_index(suite_e3_acts, SUITE_N_E3, act); }

static void seeded(json_t *exps, const char *id, const char *act, double lr, int seeds) {
    json_t *g = json_object();
    json_object_set_new(g, "seed", int_list(1, seeds));
    json_t *s = json_object();
    json_object_set_new(s, "act", json_string(act));
    json_object_set_new(s, "lr", json_real(lr));
    add_exp(exps, id, g, s);
}

// The rungs phase 2 adds for one E2 activation, and how many seeds they get.
static int e2_rungs(const suite_params *p, int stable, double *lr, int *seeds) {
    const double *L = p->ladder;
    int n = p->n_ladder;
    if (stable < 0) {  // nothing stable: look below the ladder
        lr[0] = L[0] / 4, lr[1] = L[0] / 2;
        *seeds = 1;
        return 2;
    }
    if (stable == n - 1) {  // stable everywhere: look above it, with the seeds at the top rung
        lr[0] = L[n - 1], lr[1] = L[n - 1] * 2, lr[2] = L[n - 1] * 4;
        *seeds = p->e2_seeds;
        return 3;
    }
    lr[0] = L[stable], lr[1] = L[stable] * sqrt(2.0), lr[2] = L[stable + 1];
    *seeds = p->e2_seeds;
    return 3;
}

static void phase2(json_t *exps, const suite_params *p, const suite_decisions *d) {
    char id[48];
    for (int i = 0; i < SUITE_N_E3; i++) {
        snprintf(id, sizeof id, "E3.%s", suite_e3_acts[i]);
        seeded(exps, id, suite_e3_acts[i], d->lr[i], p->seeds);
    }
    for (int i = 0; i < (int)(sizeof E1_ACTS / sizeof E1_ACTS[0]); i++) {
        snprintf(id, sizeof id, "E1.%s", E1_ACTS[i]);
        seeded(exps, id, E1_ACTS[i], d->lr[e3_index(E1_ACTS[i])], p->seeds);
    }
    json_t *g = json_object();
    double m[2] = {2, 4};
    json_object_set_new(g, "m", real_list(m, 2));
    json_object_set_new(g, "seed", int_list(1, p->seeds));
    json_t *s = json_object();
    json_object_set_new(s, "act", json_string("powlu"));
    json_object_set_new(s, "lr", json_real(d->lr[e3_index("powlu")]));
    final_loss_only(s);
    add_exp(exps, "E4", g, s);
    if (d->stress_lr > 0) {  // E1 where the gate reaches its bounded regime: controls with seeds
        g = json_object();
        static const char *const STRESS_ACTS[] = {"powlu", "swiglu"};
        json_object_set_new(g, "act", str_list(STRESS_ACTS, 2));
        json_object_set_new(g, "seed", int_list(1, p->e2_seeds));
        s = e2_set(p, NULL, 0);
        json_object_set_new(s, "lr", json_real(d->stress_lr));
        add_exp(exps, "E2.stress", g, s);
    }
    for (int i = 0; i < SUITE_N_E2; i++) {
        double lr[3];
        int seeds, n = e2_rungs(p, d->e2_stable[i], lr, &seeds);
        for (int ctl = 0; ctl <= 1; ctl++) {
            g = json_object();
            json_object_set_new(g, "lr", real_list(lr, n));
            json_object_set_new(g, "seed", int_list(1, seeds));
            snprintf(id, sizeof id, "E2.%s%s", suite_e2_acts[i], ctl ? ".ctl" : "");
            add_exp(exps, id, g, e2_set(p, suite_e2_acts[i], ctl ? 0 : 1024));
        }
    }
    if (p->e6_seeds) {  // E6 after E1-E5 (the same claims with experts), before E7 (no paper claim)
        model_config base;
        preset_model(&p->base, &base);
        double lr[SUITE_N_E6];
        for (int i = 0; i < SUITE_N_E6; i++) lr[i] = d->lr[e3_index(suite_e6_acts[i])];
        suite_e6(exps, &base, lr, p->e6_seeds);
        json_t *fp8 = e2_set(p, NULL, 1024), *ctl = e2_set(p, NULL, 0);
        suite_e6_e2(exps, &base, p->ladder, p->n_ladder, E6_E2_SEEDS, fp8, ctl);
        json_decref(fp8);
        json_decref(ctl);
    }
    // E7 last, in phase 2: the claims of the papers (E1-E6) come first in the queue
    if (p->e7_seeds) {
        json_t *len = e2_set(p, NULL, 0);  // E2's run length; suite_e7 sets the precision
        suite_e7(exps, suite_e2_acts, SUITE_N_E2, p->ladder, p->n_ladder, p->e7_seeds, len);
        json_decref(len);
    }
}

char *suite_spec(suite_kind k, const char *data_dir, const suite_decisions *d) {
    const suite_params *p = params_of(k);
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    char name[48];
    snprintf(name, sizeof name, "compare-%s", suite_kind_names[k]);
    json_object_set_new(root, "name", json_string(name));
    json_object_set_new(root, "description", json_string(d ? "actlab compare, phase 2 of 2" : "actlab compare, phase 1 of 2"));
    json_object_set_new(root, "base", base_json(p, data_dir));
    json_object_set_new(root, "sizes", sizes_json(p));
    json_t *exps = json_array();
    phase1(exps, p);
    if (d) phase2(exps, p, d);
    json_object_set_new(root, "experiments", exps);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!text) die("this is a bug in actlab", "cannot serialise the suite spec");
    size_t n = strlen(text);
    char *out = xmalloc(n + 2);
    memcpy(out, text, n);
    out[n] = '\n', out[n + 1] = 0;
    free(text);
    return out;
}

// ---- deciding phase 2 from phase 1's runs --------------------------------------------------

// 1 when a run finished as "done" with no loss spike in its metrics.
static int run_stable(const char *run_dir, const char *status) {
    if (strcmp(status, "done")) return 0;
    char path[1200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int spike = 0;
    while (!spike && getline(&line, &cap, f) > 0) spike = strstr(line, "\"spike\":") != NULL;
    free(line);
    fclose(f);
    return !spike;
}

// The index of a run's learning rate (held as f32 in its configuration) in a grid, or -1.
static int grid_index(const double *grid, int n, float lr) {
    for (int j = 0; j < n; j++)
        if (fabs(lr - grid[j]) <= 1e-6 * grid[j]) return j;
    return -1;
}

int suite_decide(suite_kind k, const sweep_plan *p1, const char *dir, suite_decisions *d, char *err, size_t errlen) {
    const suite_params *p = params_of(k);
    double best[SUITE_N_E3];
    int stable[SUITE_N_E2][MAX_LRS], ctl[SUITE_N_E2][MAX_LRS];  // FP8 ladder, its control
    for (int i = 0; i < SUITE_N_E3; i++) best[i] = INFINITY, d->lr[i] = p->tune[p->n_tune / 2];
    memset(stable, 0, sizeof stable);
    memset(ctl, 0, sizeof ctl);
    for (int r = 0; r < p1->n_runs; r++) {
        const sweep_entry *e = &p1->runs[r];
        const char *exp = e->experiments[0];
        int is_tune = !strcmp(exp, "tune"), is_e2 = !strcmp(exp, "E2"), is_ctl = !strcmp(exp, "E2.ctl");
        if (!is_tune && !is_e2 && !is_ctl) continue;
        char run_dir[1100], status[32], val[64];
        snprintf(run_dir, sizeof run_dir, "%s/runs/%s", dir, e->name);
        run_json_read(run_dir, status, sizeof status, val, sizeof val);
        if (!status[0]) {
            snprintf(err, errlen, "run %s has not finished (phase 2 depends on it)", e->name);
            return -1;
        }
        const char *act = act_desc_of(e->cfg.model.act.kind)->name;
        if (is_tune) {
            int a = e3_index(act), j = grid_index(p->tune, p->n_tune, e->cfg.opt.lr);
            double v = strtod(val, NULL);
            // A failed or diverged tuning run has no usable loss: it can only lose.
            if (a >= 0 && j >= 0 && !strcmp(status, "done") && isfinite(v) && v < best[a]) best[a] = v, d->lr[a] = p->tune[j];
            continue;
        }
        int j = grid_index(p->ladder, p->n_ladder, e->cfg.opt.lr);
        for (int a = 0; a < SUITE_N_E2; a++)
            if (j >= 0 && !strcmp(act, suite_e2_acts[a])) (is_ctl ? ctl : stable)[a][j] = run_stable(run_dir, status);
    }
    for (int a = 0; a < SUITE_N_E2; a++) {
        d->e2_stable[a] = -1;
        for (int j = 0; j < p->n_ladder && stable[a][j]; j++) d->e2_stable[a] = j;
    }
    int sw = e2_index("swiglu"), pw = e2_index("powlu");
    d->stress_lr = 0;
    for (int j = 0; j < p->n_ladder; j++)
        if (ctl[sw][j] && ctl[pw][j]) d->stress_lr = p->ladder[j];
    return 0;
}
