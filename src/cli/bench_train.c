// bench_train.c — `actlab bench train`: training-step throughput (forward, backward, clipping,
// AdamW) of the anchor model per activation, beside the sgemm rate and PyTorch's tokens/s.
#include "actlab.h"
#include "args.h"
#include "bench_util.h"
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
    int n_acts, threads, sections;
    model_precision prec;
    long steps, batch, seq;
    const char *json, *anchor;
} train_bench_opts;

static void help(void) {
    printf("usage: actlab bench train [--acts A,B,...] [--steps N] [--batch B] [--seq T] [--threads T]\n"
           "                          [--precision fp32|bf16|fp8] [--fp8-scaling delayed|current|block]\n"
           "                          [--json FILE] [--anchor-json FILE]\n\n"
           "Times full training steps (forward, backward, global-norm clipping, AdamW) of the anchor model\n"
           "(V 8192, d 256, 4 layers, 4 heads, T 256, B 16; FFN hidden 704 gated / 1056 non-gated) on random\n"
           "tokens, median of N steps after one warm-up step, per activation. Beside it, in the same run:\n"
           "the rate of a 1024^3 cblas_sgemm (model FLOP utilisation = model FLOP/s / sgemm FLOP/s) and,\n"
           "with --anchor-json, PyTorch CPU's tokens/s on the same configuration.\n"
           "Targets (PERFORMANCE.md): >= 2.5x PyTorch's tokens/s and >= 60%% of the sgemm rate.\n\n"
           "options:\n"
           "  --acts LIST          comma-separated (default gelu,relu2,swiglu,powlu,polynorm,polyrelu: the\n"
           "                       anchor's set)\n"
           "  --steps N            timed steps per activation (default 5)\n"
           "  --batch B, --seq T   default 16 and 256\n"
           "  --threads T          OpenMP and OpenBLAS threads (default: all cores)\n"
           "  --sections           also print where each step's time goes (attention, FFN matmuls, ...)\n"
           "  --precision P        bf16 or fp8: also time the step with emulated low-precision matmul inputs\n"
           "                       and report its overhead against fp32 measured in the same run\n"
           "  --fp8-scaling S      the fp8 recipe: delayed (default), current or block\n"
           "  --json FILE          results (default out/bench-train.json)\n"
           "  --anchor-json FILE   from scripts/torch_anchor.py train (make bench writes it)\n");
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
        else if (!strcmp(a, "--seq")) o->seq = arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 65536);
        else if (!strcmp(a, "--threads")) o->threads = (int)arg_long(cmd, a, arg_value(cmd, argc, argv, &i), 1, 1024);
        else if (!strcmp(a, "--json")) o->json = arg_value(cmd, argc, argv, &i);
        else if (!strcmp(a, "--sections")) o->sections = 1;
        else if (!strcmp(a, "--anchor-json")) o->anchor = arg_value(cmd, argc, argv, &i);
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
        *loss = model_forward(m, tok, tgt, (int)o->batch, (int)o->seq);
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

int bench_train(int argc, char **argv) {
    train_bench_opts o;
    memset(&o, 0, sizeof o);
    parse(&o, argc, argv);
    json_t *config = bench_configure(o.threads), *anchor = bench_load_anchor(o.anchor, "train");
    const double sgemm = bench_sgemm_gflops();
    printf("actlab bench train: B %ld, T %ld, median of %ld steps; sgemm 1024^3 %.1f GFLOP/s\n", o.batch, o.seq, o.steps,
           sgemm);
    const int lowp = o.prec.precision != PREC_FP32;
    if (lowp)
        printf("precision %s%s%s (emulated): each step timed in fp32 and in %s; overhead = step / fp32 step\n",
               precision_name(o.prec.precision), o.prec.precision == PREC_FP8 ? ", scaling " : "",
               o.prec.precision == PREC_FP8 ? fp8_scaling_name(o.prec.scaling) : "", precision_name(o.prec.precision));
    printf("%-13s %8s %10s %10s %8s %7s %10s%s\n", "activation", "params", "step ms", "tokens/s", "GFLOP/s", "of sgemm",
           "vs torch", lowp ? "  fp32 ms  overhead" : "");
    json_t *root = json_object(), *rows = json_array();
    json_object_set_new(root, "benchmark", json_string("train"));
    json_object_set_new(root, "config", config);
    json_object_set_new(root, "batch", json_integer(o.batch));
    json_object_set_new(root, "seq", json_integer(o.seq));
    json_object_set_new(root, "sgemm_gflops", json_real(sgemm));
    const size_t ntok = (size_t)(o.batch * o.seq);
    int32_t *tok = xmalloc(ntok * sizeof(int32_t)), *tgt = xmalloc(ntok * sizeof(int32_t));
    int mfu_ok = 1, torch_ok = 1, torch_n = 0;
    for (int a = 0; a < o.n_acts; a++) {
        model_config c;
        model_config_default(&c);
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
        model *m = model_create(&c, 1);
        float loss = 0;
        double step32 = lowp ? time_steps(m, &o, tok, tgt, &loss) : 0;
        if (lowp) {
            model_free(m);  // the low-precision run starts from the same initial weights
            m = model_create(&c, 1);
            model_set_precision(m, &o.prec);
        }
        double step = time_steps(m, &o, tok, tgt, &loss);
        double tps = (double)ntok / step, gflops = model_flops_per_token(m, (int)o.seq) * tps / 1e9;
        json_t *trow = bench_anchor_row(anchor, "train", o.acts[a]);
        double torch_tps = trow ? json_number_value(json_object_get(trow, "tok_s")) : 0;
        char vs[16] = "";
        if (torch_tps > 0) {
            snprintf(vs, sizeof vs, "%.2fx", tps / torch_tps);
            torch_n++;
            torch_ok &= tps / torch_tps >= 2.5;
        }
        mfu_ok &= gflops / sgemm >= 0.6;
        printf("%-13s %7.2fM %10.1f %10.0f %8.1f %6.0f%% %10s", o.acts[a], (double)model_num_params(m) / 1e6,
               step * 1e3, tps, gflops, 100 * gflops / sgemm, vs);
        if (lowp) printf("  %7.1f  %7.2fx", step32 * 1e3, step / step32);
        putchar('\n');
        if (o.sections) print_sections(m);
        json_t *r = json_object();
        json_object_set_new(r, "act", json_string(o.acts[a]));
        json_object_set_new(r, "params", json_integer((json_int_t)model_num_params(m)));
        json_object_set_new(r, "ffn_hidden", json_integer(model_ffn_hidden(&c)));
        json_object_set_new(r, "step_ms", json_real(step * 1e3));
        json_object_set_new(r, "tok_s", json_real(tps));
        json_object_set_new(r, "gflops", json_real(gflops));
        json_object_set_new(r, "fraction_of_sgemm", json_real(gflops / sgemm));
        json_object_set_new(r, "loss_after_steps", json_real(loss));
        json_object_set_new(r, "precision", json_string(precision_name(o.prec.precision)));
        if (o.prec.precision == PREC_FP8) json_object_set_new(r, "fp8_scaling", json_string(fp8_scaling_name(o.prec.scaling)));
        if (lowp) {
            json_object_set_new(r, "fp32_step_ms", json_real(step32 * 1e3));
            json_object_set_new(r, "overhead_vs_fp32", json_real(step / step32));
        }
        if (torch_tps > 0) {
            json_object_set_new(r, "torch_tok_s", json_real(torch_tps));
            json_object_set_new(r, "speedup_vs_torch", json_real(tps / torch_tps));
        }
        json_array_append_new(rows, r);
        model_free(m);
    }
    json_object_set_new(root, "results", rows);
    json_object_set_new(root, "target_60pct_of_sgemm", json_boolean(mfu_ok));
    printf("\ntarget: >= 60%% of the sgemm rate: %s\n", mfu_ok ? "met" : "NOT met");
    if (torch_n) {
        json_object_set_new(root, "target_2_5x_torch", json_boolean(torch_ok));
        printf("target: >= 2.5x PyTorch CPU tokens/s (%d activations compared): %s\n", torch_n, torch_ok ? "met" : "NOT met");
    } else {
        printf("target: vs PyTorch not evaluated (pass --anchor-json; make bench does)\n");
    }
    bench_write_json(root, o.json);
    json_decref(root);
    json_decref(anchor);
    free(tok);
    free(tgt);
    return 0;
}
