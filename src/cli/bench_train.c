// bench_train.c — `actlab bench train`: training-step throughput (forward, backward, clipping,
// AdamW) of the anchor model per activation and precision, beside the GEMM rates (bench_gemm.c)
// and PyTorch's tokens/s, all measured in the same run.
#include "actlab.h"
#include "args.h"
#include "bench_util.h"
#include "exp/suite.h"
#include "gemm/gemm.h"
#include "model/model.h"
#include "train/optim.h"
#include "util/check.h"
#include "util/rng.h"
#include "util/timer.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ACTS 16

typedef struct {
    const char *acts[MAX_ACTS];
    int n_acts, threads, sections, suite_model, seq_set;
    int moe_E, moe_k, moe_S;  // --moe E,K,S: also an MoE model per activation (0: none)
    model_precision prec;
    long steps, batch, seq;
    const char *json, *anchor, *anchor_bf16, *anchor_moe;
} train_bench_opts;

static void help(void) {
    printf("usage: actlab bench train [--acts A,B,...] [--steps N] [--batch B] [--seq T] [--threads T]\n"
           "                          [--precision fp32|bf16|fp8|mxfp8|mxfp4|nvfp4] [--fp8-scaling delayed|current|block]\n"
           "                          [--sections] [--suite-model] [--json FILE] [--anchor-json FILE]\n"
           "                          [--anchor-bf16-json FILE] [--moe E,K,S] [--anchor-moe-json FILE]\n\n"
           "Times full training steps (forward, backward, global-norm clipping, AdamW) of the anchor model\n"
           "(V 8192, d 256, 4 layers, 4 heads, T 256, B 16; FFN hidden 704 gated / 1056 non-gated) on random\n"
           "tokens, median of N steps after one warm-up step, per activation, in fp32 and (with --precision)\n"
           "bf16 and fp8, each from the same initial weights. Beside them, in the same run: the GEMM rates in\n"
           "the FFN's shapes (oneDNN bf16, oneDNN f32, OpenBLAS f32 with OPENBLAS_CORETYPE as set and toggled),\n"
           "measured again just before each activation's steps, which that row is compared with, and, with\n"
           "the anchor files, PyTorch CPU's tokens/s (fp32, and bf16 autocast).\n"
           "Targets (issue 15): fp32 >= 80%% of the fastest f32 GEMM rate and >= 3x PyTorch fp32; bf16 >= 1.8x\n"
           "fp32, >= 70%% of the oneDNN bf16 rate, >= 1.75x (swiglu) / 2x PyTorch bf16; fp8 <= 1.3x bf16.\n\n"
           "options:\n"
           "  --acts LIST          comma-separated (default gelu,relu2,swiglu,powlu,polynorm,polyrelu: the\n"
           "                       anchor's set)\n"
           "  --steps N            timed steps per activation and precision (default 5)\n"
           "  --batch B, --seq T   default 16 and 256\n"
           "  --threads T          OpenMP and OpenBLAS threads (default: all cores)\n"
           "  --sections           also print where the last precision's step time goes\n"
           "  --suite-model        time the model 'actlab compare' trains instead (V 1024 tied, d 128, 4\n"
           "                       layers, T 128 unless --seq): what the main job's time is made of\n"
           "  --precision P        bf16: also time the bf16 step; fp8 (or mxfp8, mxfp4, nvfp4): the bf16 step and\n"
           "                       that precision's step (columns fp8 ms, x bf16)\n"
           "  --fp8-scaling S      the fp8 recipe: delayed (default), current or block\n"
           "  --json FILE          results (default out/bench-train.json)\n"
           "  --anchor-json FILE   from scripts/torch_anchor.py train (make bench writes it)\n"
           "  --anchor-bf16-json FILE  from scripts/torch_anchor.py train-bf16\n"
           "  --moe E,K,S          also time, per activation in fp32, the anchor with an MoE FFN of E experts,\n"
           "                       top-K, S shared, each expert 1/(K+S) of the dense FFN's width (so the active\n"
           "                       parameters match the dense model's, as in the PyTorch anchor; docs/moe.md).\n"
           "                       Targets (issue 11): active-parameter GFLOP/s >= 60%% of the dense model's,\n"
           "                       and >= 3x PyTorch's tokens/s with --anchor-moe-json\n"
           "  --anchor-moe-json FILE  from scripts/torch_anchor.py train-moe (rows moe-<act>; 8 experts, top-2, 1 shared)\n");
}

// The index of value in a NULL-terminated name table, or a usage error listing the names.
static int name_index(const char *cmd, const char *flag, const char *const *names, const char *value) {
    for (int k = 0; names[k]; k++)
        if (!strcmp(value, names[k])) return k;
    char list[128] = "";
    for (int k = 0; names[k]; k++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", names[k]);
    usage_error(cmd, "%s must be one of %s, not '%s'", flag, list, value);
    return -1;
}

static void parse(train_bench_opts *o, int argc, char **argv) {
    static char list[512] = "gelu,relu2,swiglu,powlu,polynorm,polyrelu";
    const char *cmd = "bench train";
    o->steps = 5, o->batch = 16, o->seq = 256, o->threads = omp_get_num_procs();
    o->json = "out/bench-train.json", o->anchor = NULL;
    model_precision_default(&o->prec);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { help(); exit(0); }
        else if (!strcmp(a, "--acts")) snprintf(list, sizeof list, "%s", arg_value(cmd, argc, argv, &i));
        else if (!strcmp(a, "--steps")) o->steps = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 100000);
        else if (!strcmp(a, "--batch")) o->batch = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 4096);
        else if (!strcmp(a, "--seq")) o->seq = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 65536), o->seq_set = 1;
        else if (!strcmp(a, "--suite-model")) o->suite_model = 1;
        else if (!strcmp(a, "--threads")) o->threads = (int)arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1024);
        else if (!strcmp(a, "--json")) o->json = arg_value(cmd, argc, argv, &i);
        else if (!strcmp(a, "--sections")) o->sections = 1;
        else if (!strcmp(a, "--moe")) {
            const char *v = arg_value(cmd, argc, argv, &i);
            if (sscanf(v, "%d,%d,%d", &o->moe_E, &o->moe_k, &o->moe_S) != 3 || o->moe_E < 1)
                usage_error(cmd, "--moe takes E,K,S (experts, top-k, shared), e.g. 8,2,1; got '%s'", v);
        }
        else if (!strcmp(a, "--anchor-json")) o->anchor = arg_value(cmd, argc, argv, &i);
        else if (!strcmp(a, "--anchor-bf16-json")) o->anchor_bf16 = arg_value(cmd, argc, argv, &i);
        else if (!strcmp(a, "--anchor-moe-json")) o->anchor_moe = arg_value(cmd, argc, argv, &i);
        else if (!strcmp(a, "--precision"))
            o->prec.precision = (precision_kind)name_index(cmd, a, precision_names, arg_value(cmd, argc, argv, &i));
        else if (!strcmp(a, "--fp8-scaling"))
            o->prec.scaling = (fp8_scaling_kind)name_index(cmd, a, fp8_scaling_names, arg_value(cmd, argc, argv, &i));
        else usage_error(cmd, "unknown option '%s'", a);
    }
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        if (!act_find(tok)) usage_error(cmd, "unknown activation '%s' in --acts", tok);
        if (o->n_acts == MAX_ACTS) usage_error(cmd, "at most %d activations", MAX_ACTS);
        o->acts[o->n_acts++] = tok;
    }
    if (!o->n_acts) usage_error(cmd, "--acts names no activation");
    if (o->suite_model && !o->seq_set) {
        model_config c;
        int seq;
        suite_base_model(SUITE_DEFAULT, &c, &seq);
        o->seq = seq;
    }
}

// The model's own per-section clock over the timed steps, as shares of the forward+backward time.
static void print_sections(const model *m) {
    model_timing t[32];
    int n = model_timings(m, t, 32);
    double total = 0;
    for (int i = 0; i < n; i++) total += t[i].forward_s + t[i].backward_s;
    for (int i = 0; i < n; i++)
        printf("    %-26s fwd %7.1f ms  bwd %7.1f ms  %5.1f%%\n", t[i].name, 1e3 * t[i].forward_s, 1e3 * t[i].backward_s,
               total > 0 ? 100 * (t[i].forward_s + t[i].backward_s) / total : 0);
}

// Median seconds of one training step of model m on a fixed random batch.
static double time_steps(model *m, const train_bench_opts *o, const int32_t *tok, const int32_t *tgt, float *loss) {
    const int nt = model_num_tensors(m);
    param_group *groups = xmalloc((size_t)nt * sizeof *groups);
    for (int i = 0; i < nt; i++) {
        const model_tensor *t = model_tensor_at(m, i);
        groups[i] = (param_group){t->offset, t->numel, t->decay};
    }
    adamw opt;
    adamw_config ac;
    adamw_config_default(&ac);
    adamw_init(&opt, model_num_params(m), groups, nt);
    double *t = xmalloc((size_t)o->steps * sizeof(double));
    for (long s = 0; s <= o->steps; s++) {
        double t0 = now_seconds();
        model_zero_grad(m);
        *loss = model_forward_train(m, tok, tgt, (int)o->batch, (int)o->seq);
        model_backward(m);
        double norm = optim_grad_norm(model_grads(m), model_num_params(m));
        adamw_step(&opt, &ac, model_params(m), model_grads(m), optim_clip_scale(norm, ac.grad_clip), ac.lr);
        if (s) t[s - 1] = now_seconds() - t0;  // step 0 allocates the activation workspace
        else model_timings_reset(m);
    }
    double med = bench_median(t, o->steps);
    adamw_free(&opt);
    free(groups);
    free(t);
    return med;
}

// One timed precision of one activation: a fresh model from the same initial weights.
static double time_precision(const model_config *c, const train_bench_opts *o, precision_kind p, const int32_t *tok,
                             const int32_t *tgt, float *loss, int print_sections_too) {
    model *m = model_create(c, 1);
    model_precision mp = o->prec;
    mp.precision = p;
    if (p != PREC_FP32) model_set_precision(m, &mp);
    double step = time_steps(m, o, tok, tgt, loss);
    if (print_sections_too) print_sections(m);
    model_free(m);
    return step;
}

// The MoE twin of the dense configuration c (--moe), checked.
static model_config moe_config(const model_config *c, const train_bench_opts *o) {
    model_config m = *c;
    m.moe_experts = o->moe_E, m.moe_top_k = o->moe_k, m.moe_shared = o->moe_S;
    m.moe_hidden = model_ffn_hidden(c) / (o->moe_k + o->moe_S);
    const char *bad = model_config_check(&m);
    if (bad) usage_error("bench train", "--moe: %s", bad);
    return m;
}

// PyTorch's tokens/s for act in an anchor file (0 when absent).
static double torch_tps(json_t *anchor, const char *act) {
    json_t *row = bench_anchor_row(anchor, "train", act);
    return row ? json_number_value(json_object_get(row, "tok_s")) : 0;
}

typedef struct {
    int n, ok;
} target;
static void target_add(target *t, int ok) { t->n++, t->ok += ok != 0; }
static void target_print(json_t *root, const char *key, const char *what, const target *t) {
    if (!t->n) return;
    printf("target: %s: %s (%d of %d)\n", what, t->ok == t->n ? "met" : "NOT met", t->ok, t->n);
    json_object_set_new(root, key, json_boolean(t->ok == t->n));
}

int bench_train(int argc, char **argv) {
    train_bench_opts o;
    memset(&o, 0, sizeof o);
    parse(&o, argc, argv);
    json_t *config = bench_configure(o.threads), *anchor = bench_load_anchor(o.anchor, "train");
    json_t *anchor16 = bench_load_anchor(o.anchor_bf16, "train"), *anchor_moe = bench_load_anchor(o.anchor_moe, "train");
    bench_gemm_result g;
    bench_gemm_rates(&g, o.threads);
    printf("actlab bench train: B %ld, T %ld, median of %ld steps after a warm-up step\n%s\n", o.batch, o.seq, o.steps,
           gemm_describe());
    bench_gemm_print(&g);
    const int do16 = o.prec.precision != PREC_FP32,
              do8 = o.prec.precision == PREC_FP8 || precision_is_block(o.prec.precision);
    if (precision_is_block(o.prec.precision))
        printf("block recipe: %s (%s)\n", precision_name(o.prec.precision),
               gemm_bf16_native() ? "native: bf16 GEMMs of element x block scale, tensor scales on the output"
                                  : "emulated: f32 GEMMs of the dequantised values");
    else if (do8)
        printf("fp8 recipe: %s (%s)\n", fp8_scaling_name(o.prec.scaling),
               gemm_bf16_native() && o.prec.scaling != FP8_BLOCK ? "native: bf16 GEMMs of the FP8 codes, scaled output"
                                                                 : "emulated: f32 GEMMs of Q(x*s)/s");
    printf("%-10s %7s %9s %9s %7s %7s", "activation", "params", "fp32 ms", "tok/s", "of f32", "vs tch");
    if (do16) printf(" %9s %9s %6s %7s %7s", "bf16 ms", "tok/s", "x fp32", "of bf16", "vs tch");
    if (do8) printf(" %9s %7s", "fp8 ms", "x bf16");
    putchar('\n');
    json_t *root = json_object(), *rows = json_array();
    json_object_set_new(root, "benchmark", json_string("train"));
    json_object_set_new(root, "config", config);
    json_object_set_new(root, "gemm_backend", json_string(gemm_describe()));
    json_object_set_new(root, "batch", json_integer(o.batch));
    json_object_set_new(root, "seq", json_integer(o.seq));
    json_object_set_new(root, "gemm", bench_gemm_json(&g));
    const size_t ntok = (size_t)(o.batch * o.seq);
    int32_t *tok = xmalloc(ntok * sizeof(int32_t)), *tgt = xmalloc(ntok * sizeof(int32_t));
    target t32 = {0}, t16x = {0}, t16g = {0}, t8 = {0}, tt32 = {0}, tt16 = {0}, tmoe = {0}, ttmoe = {0};
    for (int a = 0; a < o.n_acts; a++) {
        model_config c;
        model_config_default(&c);
        int suite_seq;
        if (o.suite_model) suite_base_model(SUITE_DEFAULT, &c, &suite_seq);
        act_spec_init(&c.act, o.acts[a]);
        if (c.max_seq_len < o.seq) c.max_seq_len = (int)o.seq;
        const char *bad = model_config_check(&c);
        if (bad) usage_error("bench train", "%s", bad);
        rng_t rng;
        rng_seed(&rng, 42);
        for (size_t i = 0; i < ntok; i++) {
            tok[i] = (int32_t)(rng_u64(&rng) % (uint64_t)c.vocab_size);
            tgt[i] = (int32_t)(rng_u64(&rng) % (uint64_t)c.vocab_size);
        }
        // Each activation's steps against GEMM rates measured just before them (the first: the header's):
        // on a shared host the rates drift by ±15% over minutes, and one measurement for the whole run
        // moved every later row's percentage by as much.
        bench_gemm_result ga = g;
        if (a > 0) bench_gemm_rates(&ga, o.threads);
        const double best32 = bench_gemm_best_f32(&ga);
        if (a > 0) printf("  (GEMM rates again: oneDNN bf16 %.1f, fastest f32 %.1f GFLOP/s)\n", ga.onednn_bf16, best32);
        model *m = model_create(&c, 1);
        const double flops_tok = model_flops_per_token(m, (int)o.seq);
        const size_t n_params = model_num_params(m);
        model_free(m);
        float loss32 = 0, loss16 = 0, loss8 = 0;
        double s32 = time_precision(&c, &o, PREC_FP32, tok, tgt, &loss32, o.sections && !do16);
        double s16 = do16 ? time_precision(&c, &o, PREC_BF16, tok, tgt, &loss16, o.sections && !do8) : 0;
        double s8 = do8 ? time_precision(&c, &o, o.prec.precision, tok, tgt, &loss8, o.sections) : 0;
        double tps32 = (double)ntok / s32, tps16 = do16 ? (double)ntok / s16 : 0;
        double gf32 = flops_tok * tps32 / 1e9, gf16 = flops_tok * tps16 / 1e9;
        double th32 = torch_tps(anchor, o.acts[a]), th16 = torch_tps(anchor16, o.acts[a]);
        double need16 = strcmp(o.acts[a], "swiglu") ? 2.0 : 1.75;  // the bar per activation
        target_add(&t32, gf32 >= 0.8 * best32);
        if (th32 > 0) target_add(&tt32, tps32 >= 3 * th32);
        char vs[16] = "", vs16[16] = "";
        if (th32 > 0) snprintf(vs, sizeof vs, "%.2fx", tps32 / th32);
        if (th16 > 0 && do16) snprintf(vs16, sizeof vs16, "%.2fx", tps16 / th16);
        printf("%-10s %6.2fM %9.1f %9.0f %6.0f%% %7s", o.acts[a], (double)n_params / 1e6, s32 * 1e3, tps32,
               100 * gf32 / best32, vs);
        json_t *r = json_object();
        json_object_set_new(r, "act", json_string(o.acts[a]));
        json_object_set_new(r, "params", json_integer((json_int_t)n_params));
        json_object_set_new(r, "ffn_hidden", json_integer(model_ffn_hidden(&c)));
        json_object_set_new(r, "step_ms", json_real(s32 * 1e3));
        json_object_set_new(r, "tok_s", json_real(tps32));
        json_object_set_new(r, "gflops", json_real(gf32));
        json_object_set_new(r, "fraction_of_best_f32_gemm", json_real(gf32 / best32));
        json_object_set_new(r, "loss_after_steps", json_real(loss32));
        json_object_set_new(r, "gemm", bench_gemm_json(&ga));
        if (th32 > 0) json_object_set_new(r, "speedup_vs_torch", json_real(tps32 / th32));
        if (do16) {
            target_add(&t16x, tps16 >= 1.8 * tps32);
            target_add(&t16g, ga.onednn_bf16 > 0 && gf16 >= 0.7 * ga.onednn_bf16);
            if (th16 > 0) target_add(&tt16, tps16 >= need16 * th16);
            printf(" %9.1f %9.0f %5.2fx %6.0f%% %7s", s16 * 1e3, tps16, tps16 / tps32,
                   ga.onednn_bf16 > 0 ? 100 * gf16 / ga.onednn_bf16 : 0, vs16);
            json_object_set_new(r, "bf16_step_ms", json_real(s16 * 1e3));
            json_object_set_new(r, "bf16_tok_s", json_real(tps16));
            json_object_set_new(r, "bf16_speedup_vs_fp32", json_real(tps16 / tps32));
            json_object_set_new(r, "bf16_fraction_of_onednn_bf16", json_real(ga.onednn_bf16 > 0 ? gf16 / ga.onednn_bf16 : 0));
            json_object_set_new(r, "bf16_loss_after_steps", json_real(loss16));
            if (th16 > 0) json_object_set_new(r, "bf16_speedup_vs_torch_bf16", json_real(tps16 / th16));
        }
        if (do8) {
            target_add(&t8, s8 <= 1.3 * s16);
            printf(" %9.1f %6.2fx", s8 * 1e3, s8 / s16);
            json_object_set_new(r, "fp8_precision", json_string(precision_name(o.prec.precision)));
            json_object_set_new(r, "fp8_scaling", json_string(fp8_scaling_name(o.prec.scaling)));
            json_object_set_new(r, "fp8_step_ms", json_real(s8 * 1e3));
            json_object_set_new(r, "fp8_overhead_vs_bf16", json_real(s8 / s16));
            json_object_set_new(r, "fp8_loss_after_steps", json_real(loss8));
        }
        putchar('\n');
        if (o.moe_E) {  // active-parameter FLOPs: the router, K experts and the shared ones per token
            model_config mc = moe_config(&c, &o);
            model *mm = model_create(&mc, 1);
            double mflops = model_flops_per_token(mm, (int)o.seq);
            model_param_split sp;
            model_param_split_of(&mc, &sp);
            model_free(mm);
            float lossm = 0;
            double sm = time_precision(&mc, &o, PREC_FP32, tok, tgt, &lossm, o.sections);
            double tpsm = (double)ntok / sm, gfm = mflops * tpsm / 1e9;
            char name[48], vsm[16] = "";
            snprintf(name, sizeof name, "moe-%s", o.acts[a]);
            double thm = torch_tps(anchor_moe, name);
            target_add(&tmoe, gfm >= 0.6 * gf32);
            if (thm > 0) target_add(&ttmoe, tpsm >= 3 * thm), snprintf(vsm, sizeof vsm, "%.2fx", tpsm / thm);
            printf("%-10s %6.2fM %9.1f %9.0f %6.0f%% %7s  (%d experts, top-%d, %d shared; %.2fM active; %.0f%% of dense "
                   "GFLOP/s)\n", name, (double)sp.total / 1e6, sm * 1e3, tpsm, 100 * gfm / best32, vsm, mc.moe_experts,
                   mc.moe_top_k, mc.moe_shared, (double)sp.active / 1e6, 100 * gfm / gf32);
            json_object_set_new(r, "moe", json_pack("{s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f}", "experts",
                                                    mc.moe_experts, "top_k", mc.moe_top_k, "shared", mc.moe_shared,
                                                    "params", (json_int_t)sp.total, "active_params", (json_int_t)sp.active,
                                                    "step_ms", sm * 1e3, "tok_s", tpsm, "active_gflops", gfm,
                                                    "active_gflops_vs_dense", gfm / gf32, "loss_after_steps", (double)lossm));
            if (thm > 0) json_object_set_new(json_object_get(r, "moe"), "speedup_vs_torch", json_real(tpsm / thm));
        }
        fflush(stdout);
        json_array_append_new(rows, r);
    }
    json_object_set_new(root, "results", rows);
    putchar('\n');
    target_print(root, "target_fp32_80pct_of_best_f32_gemm", "fp32 step >= 80% of the fastest f32 GEMM rate", &t32);
    target_print(root, "target_bf16_1_8x_fp32", "bf16 step >= 1.8x the fp32 step's tokens/s", &t16x);
    target_print(root, "target_bf16_70pct_of_onednn_bf16", "bf16 step >= 70% of the oneDNN bf16 GEMM rate", &t16g);
    target_print(root, "target_fp8_1_3x_bf16", "fp8 step <= 1.3x the bf16 step", &t8);
    target_print(root, "target_fp32_3x_torch", "fp32 >= 3x PyTorch fp32 tokens/s", &tt32);
    target_print(root, "target_bf16_vs_torch_bf16", "bf16 >= 1.75x (swiglu) / 2x (others) PyTorch bf16 autocast", &tt16);
    target_print(root, "target_moe_60pct_of_dense", "MoE active-parameter GFLOP/s >= 60% of the dense model's", &tmoe);
    target_print(root, "target_moe_3x_torch", "MoE fp32 >= 3x PyTorch's MoE block (loop over experts)", &ttmoe);
    if (!tt32.n) printf("target: vs PyTorch not evaluated (pass --anchor-json, --anchor-bf16-json; make bench does)\n");
    bench_write_json(root, o.json);
    json_decref(root);
    json_decref(anchor);
    json_decref(anchor16);
    json_decref(anchor_moe);
    free(tok);
    free(tgt);
    return 0;
}
