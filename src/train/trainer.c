// trainer.c — see trainer.h.
#include "train/trainer.h"
#include "data/shard.h"
#include "gemm/gemm.h"
#include "model/model.h"
#include "util/atomic.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "train/eval.h"
#include "train/lowp_log.h"
#include "train/metrics.h"
#include "train/spike.h"
#include "train/optim.h"
#include "train/stats.h"
#include "util/check.h"
#include "util/cpus.h"
#include "util/fileio.h"
#include "util/progress.h"
#include "util/rng.h"
#include "util/timer.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    train_config cfg;
    model *m;
    adamw opt;
    shard train_sh, val_sh;
    loader ld;
    rng_t rng;
    long step, bad_streak;
    int32_t *tokens, *targets;
    FILE *metrics;
    char ckpt_path[TC_PATH + 32], metrics_path[TC_PATH + 32];
    const train_hooks *hooks;
    spike_detector spikes;
    double divergence_loss;  // resolved threshold
} run;

// Ctrl-C / SIGTERM: finish the current step, checkpoint, and stop (a second signal kills as usual).
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig) {
    g_interrupted = sig;
    signal(sig, SIG_DFL);
}

int train_set_threads(int n) {
    // Ranks on one host share its cores: by default each takes its share (its binding, if any).
    if (n <= 0) n = cpus_for_rank(dist_local_size());
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return n;
}

static void load_shards(run *r) {
    char tp[TC_PATH], vp[TC_PATH], err[512];
    train_config_shard_paths(&r->cfg, tp, vp, sizeof tp);
    if (shard_read(tp, &r->train_sh, err, sizeof err))
        die("build the shards first ('actlab data ...'), or point --train-data/--data-dir at them",
            "training data: %s", err);
    if (shard_read_expect(vp, r->train_sh.fingerprint, &r->val_sh, err, sizeof err))
        die("the validation shard must come from the same tokenizer as the training shard", "validation data: %s",
            err);
    if (r->cfg.tokenizer[0] && strcmp(r->cfg.tokenizer, r->train_sh.tokenizer))
        die("rebuild the shards with that tokenizer, or drop --tokenizer", "'%s' was written by tokenizer %s, not %s", tp,
            r->train_sh.tokenizer, r->cfg.tokenizer);
    uint16_t top = 0;
    for (uint64_t i = 0; i < r->train_sh.n_tokens; i++)
        if (r->train_sh.tokens[i] > top) top = r->train_sh.tokens[i];
    if (top >= r->cfg.model.vocab_size)
        die("set --vocab-size to at least the tokenizer's vocabulary size",
            "the training shard holds token id %u but the model's vocab_size is %d", top, r->cfg.model.vocab_size);
    if (r->train_sh.n_tokens < (uint64_t)r->cfg.seq + 1 || r->val_sh.n_tokens < (uint64_t)r->cfg.seq + 1)
        die("use a shorter --seq or more data", "a shard holds fewer than seq+1 = %d tokens", r->cfg.seq + 1);
}

static void init_optimizer(run *r) {
    int nt = model_num_tensors(r->m);
    param_group *g = xmalloc((size_t)nt * sizeof *g);
    for (int i = 0; i < nt; i++) {
        const model_tensor *t = model_tensor_at(r->m, i);
        g[i] = (param_group){t->offset, t->numel, t->decay};
    }
    adamw_init(&r->opt, model_num_params(r->m), g, nt);
    free(g);
}

static void resume_from(run *r, const char *path) {
    ckpt c;
    char err[512];
    if (ckpt_read(path, &c, err, sizeof err)) die("pick another checkpoint, or start afresh without --resume", "%s", err);
    if (ckpt_check_match(&c.meta, &r->cfg.model, r->train_sh.fingerprint, err, sizeof err))
        die("resume with the same model flags and data the run started with", "cannot resume from '%s': %s", path, err);
    if (c.meta.n_params != model_num_params(r->m))
        die("this is a different model build", "checkpoint '%s' holds %llu parameters; the model has %zu", path,
            (unsigned long long)c.meta.n_params, model_num_params(r->m));
    size_t n = model_num_params(r->m);
    memcpy(model_params(r->m), c.params, n * sizeof(float));
    memcpy(r->opt.m, c.m, n * sizeof(float));
    memcpy(r->opt.v, c.v, n * sizeof(float));
    r->opt.t = (long)c.meta.opt_t;
    r->step = (long)c.meta.step;
    r->bad_streak = (long)c.meta.bad_streak;
    r->ld.pos = c.meta.loader_pos;
    memcpy(r->ld.rng, c.meta.loader_rng, sizeof r->ld.rng);
    r->ld.random = c.meta.loader_random;
    memcpy(r->rng.s, c.meta.rng, sizeof r->rng.s);
    size_t ns = spike_state_size(&r->spikes), nl = model_lowp_state_size(r->m);
    if (c.meta.state_len == ns + nl && !spike_state_load(&r->spikes, c.state, ns) &&
        model_lowp_state_load(r->m, c.state + ns, nl))
        die("resume with the precision, rht and lowp_bf16_layers the run started with (see its config.json)",
            "checkpoint '%s': its low-precision state (recipe, scaling) does not fit this configuration", path);
    if (c.meta.state_len != ns + nl || spike_state_load(&r->spikes, c.state, ns) ||
        model_lowp_state_load(r->m, c.state + ns, nl))
        die("resume with the precision, fp8 recipe, amax_history, rht, lowp_bf16_layers and spike_window the run started with",
            "checkpoint '%s' holds %llu floats of trainer state; this configuration needs %zu", path,
            (unsigned long long)c.meta.state_len, ns + nl);
    ckpt_free(&c);
}

// The trainer's state beyond the optimiser: the spike detector's window, then the low-precision
// scaling histories. Returns malloc'd floats, their count in *n.
static float *trainer_state(const run *r, size_t *n) {
    size_t ns = spike_state_size(&r->spikes), nl = model_lowp_state_size(r->m);
    float *st = xmalloc((ns + nl + 1) * sizeof(float));
    spike_state_save(&r->spikes, st);
    model_lowp_state_save(r->m, st + ns);
    *n = ns + nl;
    return st;
}

// Every rank holds the same state after each step (data parallelism): rank 0 alone writes it.
static void save_checkpoint(run *r) {
    if (dist_rank() != 0) return;
    ckpt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.cfg = r->cfg.model;
    snprintf(meta.tokenizer, sizeof meta.tokenizer, "%s", r->train_sh.tokenizer);
    meta.tok_fingerprint = r->train_sh.fingerprint;
    meta.n_params = model_num_params(r->m);
    meta.step = (uint64_t)r->step;
    meta.opt_t = (uint64_t)r->opt.t;
    meta.bad_streak = (uint64_t)r->bad_streak;
    meta.loader_pos = r->ld.pos;
    memcpy(meta.loader_rng, r->ld.rng, sizeof meta.loader_rng);
    meta.loader_random = r->ld.random;
    memcpy(meta.rng, r->rng.s, sizeof meta.rng);
    meta.seed = r->cfg.seed;
    size_t ns;
    float *state = trainer_state(r, &ns);
    meta.state_len = ns;
    char *json = train_config_to_json(&r->cfg), err[512];
    if (ckpt_write(r->ckpt_path, &meta, model_params(r->m), r->opt.m, r->opt.v, state, json, err, sizeof err))
        die("free disk space or choose another --out", "checkpoint: %s", err);
    free(json);
    free(state);
}

static void save_config(run *r) {
    if (dist_rank() != 0) return;
    char path[TC_PATH + 32], err[512];
    snprintf(path, sizeof path, "%s/config.json", r->cfg.out_dir);
    char *json = train_config_to_json(&r->cfg);
    atomic_file a;
    if (atomic_begin(&a, path, err, sizeof err)) die("check --out", "%s", err);
    atomic_write(&a, json, strlen(json));
    if (atomic_commit(&a, err, sizeof err)) die("check --out", "%s", err);
    free(json);
}


// One optimiser step: grad_accum micro-batches, then the update unless loss or gradients are
// not finite. Returns 1 for a good step, 0 for a skipped one; *loss and *norm report it.
static int train_step(run *r, float lr, double *loss, double *norm) {
    const train_config *c = &r->cfg;
    model_zero_grad(r->m);
    // Data parallelism: every rank draws each whole micro-batch (so the loader state stays the same on
    // all ranks) and runs its own contiguous rows of it.
    int ranks = dist_size(), rows = c->batch / ranks;
    size_t skip = (size_t)dist_rank() * (size_t)rows * (size_t)c->seq;
    model_set_loss_count(r->m, ranks > 1 ? c->batch * c->seq : 0);
    double total = 0;
    for (int a = 0; a < c->grad_accum; a++) {
        if (loader_next(&r->ld, c->batch, c->seq, r->tokens, r->targets))
            die("use a shorter --seq", "the training shard is too short for seq %d", c->seq);
        total += model_forward_train(r->m, r->tokens + skip, r->targets + skip, rows, c->seq);
        model_backward(r->m);
    }
    size_t n = model_num_params(r->m);
    float *g = model_grads(r->m);
    if (r->hooks && r->hooks->after_backward) r->hooks->after_backward(r->hooks->ctx, r->step, g, n);
    // Each rank holds its rows' share of every micro-batch's mean-loss gradient (model_set_loss_count;
    // the loader's targets are all valid): summed over ranks, they give the whole.
    dist_sum_floats(g, n);
    *loss = dist_sum_double(total) / ((double)c->grad_accum * ranks);
    // The model sums micro-batch gradients of mean losses: dividing the norm by grad_accum gives the
    // norm of the averaged gradient without another pass over g.
    *norm = optim_grad_norm(g, n) / c->grad_accum;
    if (!isfinite(*loss) || !isfinite(*norm)) return 0;
    float gscale = optim_clip_scale(*norm, c->opt.grad_clip) / (float)c->grad_accum;
    adamw_step(&r->opt, &c->opt, model_params(r->m), g, gscale, lr);
    if (r->hooks && r->hooks->after_update) r->hooks->after_update(r->hooks->ctx, r->step, model_params(r->m), n);
    return 1;
}

// Delayed fp8 scaling sees the amax over all ranks' rows, as a single process would over the whole batch.
static void reduce_lowp_amax(model *m) {
    int n = model_lowp_count(m);
    if (n == 0 || dist_size() == 1) return;
    float *amax = xmalloc((size_t)n * sizeof(float));
    model_lowp_step_amax_get(m, amax);
    dist_max_floats(amax, (size_t)n);
    model_lowp_step_amax_set(m, amax);
    free(amax);
}

// MoE aux-loss-free balancing moves the biases by the load over all ranks' rows, as a single
// process would see it.
static void moe_step_end(model *m, int good) {
    int n = model_moe_load_count(m);
    if (n == 0) return;
    if (dist_size() > 1) {
        float *load = xmalloc((size_t)n * sizeof(float));
        model_moe_loads_get(m, load);
        dist_sum_floats(load, (size_t)n);
        model_moe_loads_set(m, load);
        free(load);
    }
    model_moe_step_end(m, good);
}

// A resumed run continues metrics.jsonl from the checkpoint's step: lines logged after it (by the
// interrupted run) are dropped, so every step appears once.
static void trim_metrics(const char *path, long step) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char *kept = NULL, *line = NULL;
    size_t kept_len = 0, cap = 0;
    FILE *mem = open_memstream(&kept, &kept_len);
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        long s;
        if (sscanf(line, "{\"step\":%ld", &s) == 1 && s <= step) fwrite(line, 1, (size_t)n, mem);
    }
    free(line);
    fclose(f);
    fclose(mem);
    char err[512];
    atomic_file a;
    if (atomic_begin(&a, path, err, sizeof err)) die("check --out", "%s", err);
    atomic_write(&a, kept, kept_len);
    if (atomic_commit(&a, err, sizeof err)) die("check --out", "%s", err);
    free(kept);
}

static void run_open(run *r, const train_config *cfg, const char *resume_path, const train_hooks *hooks) {
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->cfg.sched.total_steps = cfg->steps;
    r->hooks = hooks;
    char err[512];
    if (mkdir_p(cfg->out_dir, err, sizeof err)) die("check the --out path and its permissions", "%s", err);
    snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/checkpoint.bin", cfg->out_dir);
    snprintf(r->metrics_path, sizeof r->metrics_path, "%s/metrics.jsonl", cfg->out_dir);
    load_shards(r);
    r->m = model_create(&cfg->model, cfg->seed);
    model_precision prec = cfg->prec;
    prec.seed = cfg->seed;  // block formats: stochastic rounding and Hadamard signs follow the run's seed
    model_set_precision(r->m, &prec);
    spike_init(&r->spikes, cfg->spike_window, cfg->spike_k);
    r->divergence_loss = cfg->divergence_loss > 0 ? cfg->divergence_loss : log((double)cfg->model.vocab_size) + 1.0;
    init_optimizer(r);
    loader_init(&r->ld, &r->train_sh, 1, cfg->seed ^ 0x5eedda7aull);
    rng_seed(&r->rng, cfg->seed);
    if (resume_path) resume_from(r, resume_path);
    if (cfg->batch % dist_size())
        die("make --batch a multiple of the rank count (each rank takes batch/ranks rows of every micro-batch)",
            "--batch %d does not split over %d ranks", cfg->batch, dist_size());
    size_t bt = (size_t)cfg->batch * cfg->seq;
    r->tokens = xmalloc(bt * sizeof(int32_t));
    r->targets = xmalloc(bt * sizeof(int32_t));
    save_config(r);
    if (dist_rank() != 0) return;  // rank 0 alone writes metrics
    // A resumed run appends, so one metrics file covers the whole run.
    if (resume_path) trim_metrics(r->metrics_path, r->step);
    r->metrics = xfopen(r->metrics_path, resume_path ? "a" : "w");
}

static void run_close(run *r) {
    if (r->metrics) xfclose(r->metrics, r->metrics_path);
    free(r->tokens);
    free(r->targets);
    adamw_free(&r->opt);
    spike_free(&r->spikes);
    model_free(r->m);
    shard_free(&r->train_sh);
    shard_free(&r->val_sh);
}

static void print_banner(const run *r, int threads) {
    const train_config *c = &r->cfg;
    const char *core = getenv("OPENBLAS_CORETYPE");
    fprintf(stderr, "threads: OpenMP %d, OpenBLAS %d (OPENBLAS_CORETYPE=%s); %s, single-threaded per row tile\n", threads,
            openblas_get_num_threads(), core ? core : "unset", gemm_describe());
    fprintf(stderr, "model: %s, d %d, %d layers, %d heads, ffn %d, vocab %d, %zu parameters\n",
            act_desc_of(c->model.act.kind)->name, c->model.d_model, c->model.n_layers, c->model.n_heads,
            model_ffn_hidden(&c->model), c->model.vocab_size, model_num_params(r->m));
    if (c->model.moe_experts > 0) {
        model_param_split sp;
        model_param_split_of(&c->model, &sp);
        fprintf(stderr, "moe: %d experts of hidden %d, top-%d by %s%s, %d shared; %zu active parameters per token\n",
                c->model.moe_experts, model_expert_hidden(&c->model), c->model.moe_top_k,
                moe_router_names[c->model.moe_router], c->model.moe_renorm ? " (renormalised)" : "", c->model.moe_shared,
                sp.active);
    }
    if (c->prec.precision != PREC_FP32)
        fprintf(stderr, "precision: %s%s%s (%s: matmul inputs quantised, f32 accumulation)%s\n",
                precision_name(c->prec.precision), c->prec.precision == PREC_FP8 ? ", scaling " : "",
                c->prec.precision == PREC_FP8 ? fp8_scaling_name(c->prec.scaling) : "",
                !gemm_bf16_native() ? "emulated: f32 GEMMs of Q(x*s)/s"
                : c->prec.precision == PREC_FP8 && c->prec.scaling == FP8_BLOCK ? "emulated (block recipe): f32 GEMMs of Q(x*s)/s"
                                                                                   : "native bf16 GEMMs of bf16 values / FP8 codes",
                c->prec.precision == PREC_FP8 && c->prec.keep_act_bf16 ? ", down-projection input bf16" : "");
    if (precision_is_block(c->prec.precision)) {
        int b = precision_block_side(c->prec.precision);
        fprintf(stderr, "block recipe: 1x%d activations and gradients, %dx%d weights, %dx1 wgrad operands%s; Hadamard "
                "on wgrad inputs %s; first/last %d layers bf16%s\n", b, b, b, b,
                c->prec.precision == PREC_MXFP8 ? "" : ", stochastic rounding of gradients",
                c->prec.rht && c->prec.precision != PREC_MXFP8 ? "on" : "off", c->prec.bf16_layers,
                c->prec.keep_act_bf16 ? ", down-projection input bf16" : "");
    }
    fprintf(stderr, "data: %llu training tokens, %llu validation tokens (tokenizer %s); %d tokens per step\n",
            (unsigned long long)r->train_sh.n_tokens, (unsigned long long)r->val_sh.n_tokens, r->train_sh.tokenizer,
            c->batch * c->seq * c->grad_accum);
    if (dist_size() > 1)
        fprintf(stderr, "data parallel: %d ranks (%s), %d rows of each micro-batch per rank\n", dist_size(),
                dist_library(), c->batch / dist_size());
    if (r->step) fprintf(stderr, "resuming at step %ld\n", r->step);
}

int train_run(const train_config *cfg, const char *resume_path, const train_hooks *hooks) {
    int threads = train_set_threads(cfg->threads);
    run r;
    run_open(&r, cfg, resume_path, hooks);
    int quiet = (hooks && hooks->quiet) || dist_rank() != 0, lead = dist_rank() == 0;
    if (!quiet) print_banner(&r, threads);
    const train_config *c = &r.cfg;
    long last = c->steps;
    if (hooks && hooks->stop_after > 0 && hooks->stop_after < last) last = hooks->stop_after;
    progress_t bar;
    if (!quiet) progress_start(&bar, "train", (size_t)(c->steps - r.step));
    long first = r.step;
    double t_start = now_seconds();
    int status = TRAIN_DONE;
    g_interrupted = 0;
    void (*old_int)(int) = signal(SIGINT, on_signal), (*old_term)(int) = signal(SIGTERM, on_signal);
    double tok_per_step = (double)c->batch * c->seq * c->grad_accum, last_loss = NAN, tps = 0;
    while (r.step < last) {
        float lr = schedule_lr(&c->sched, c->opt.lr, c->opt.min_lr, r.step);
        double loss, norm, t0 = now_seconds();
        int good = train_step(&r, lr, &loss, &norm);
        reduce_lowp_amax(r.m);
        model_lowp_step_end(r.m);
        moe_step_end(r.m, good);
        // Every rank stops together: 1 + the highest rank that was signalled, 0 if none.
        int signalled = dist_max_int(g_interrupted ? dist_rank() + 1 : 0);
        tps = tok_per_step / (now_seconds() - t0);
        long s = ++r.step;
        r.bad_streak = good ? 0 : r.bad_streak + 1;
        int above = good && loss > r.divergence_loss;
        const char *diverged = !good && r.bad_streak >= c->max_bad_steps ? "nan"
                               : above && s > c->divergence_grace         ? "threshold"
                                                                         : NULL;
        int excursion = above && !diverged;  // inside divergence_grace: logged, and the run goes on
        double sp_mean = 0, sp_std = 0;
        int spike = good && !diverged && spike_observe(&r.spikes, loss, &sp_mean, &sp_std);
        int last_step = s == c->steps;
        int eval_now = !diverged && ((c->eval_interval > 0 && s % c->eval_interval == 0) || last_step);
        int tele_now = good && c->telemetry_interval > 0 && s % c->telemetry_interval == 0;
        // Telemetry reads the activations of this step's last micro-batch: before validation runs its
        // own forward passes over them.
        // Both are collective over ranks, so every rank decides alike (from the same loss) when to log.
        int log_now = s % c->log_interval == 0 || eval_now || tele_now || !good || spike || diverged || excursion;
        json_t *layers = tele_now ? metrics_telemetry(r.m, (size_t)(c->batch / dist_size()) * c->seq) : NULL;
        json_t *lp = log_now ? lowp_log_json(r.m, tele_now) : NULL;
        if (r.metrics && log_now) {
            json_t *line = metrics_line(s);
            metrics_set_num(line, "loss", loss);
            metrics_set_num(line, "lr", lr);
            metrics_set_num(line, "grad_norm", norm);
            json_object_set_new(line, "tokens", json_integer((json_int_t)(tok_per_step * (double)s)));
            metrics_set_num(line, "tokens_per_s", tps);
            if (!good) {
                json_object_set_new(line, "skipped", json_true());
                json_object_set_new(line, "bad_streak", json_integer(r.bad_streak));
            }
            if (spike) {
                json_t *sp = json_object();
                metrics_set_num(sp, "mean", sp_mean);
                metrics_set_num(sp, "std", sp_std);
                metrics_set_num(sp, "k", c->spike_k);
                json_object_set_new(line, "spike", sp);
            }
            if (diverged) json_object_set_new(line, "diverged", json_string(diverged));
            if (excursion) json_object_set_new(line, "above_divergence_loss", json_true());
            if (lp) json_object_set_new(line, "lowp", lp);
            if (layers) json_object_set_new(line, "layers", layers);
            if (eval_now && good) {
                model_lowp_set_recording(r.m, 0);  // validation must not move the fp8 scales
                double vl = eval_shard_loss(r.m, &r.val_sh, c->batch, c->seq, c->eval_batches, NULL);
                model_lowp_set_recording(r.m, 1);
                metrics_set_num(line, "val_loss", vl);
            }
            metrics_write(r.metrics, r.metrics_path, line);
        }
        if (spike && !quiet)
            fprintf(stderr, "\nstep %ld: loss spike %.4f (trailing mean %.4f, std %.4f)\n", s, loss, sp_mean, sp_std);
        if (diverged) {
            if (lead)
                fprintf(stderr,
                        "%sactlab: training diverged at step %ld: %s\n  hint: lower --lr, raise --warmup-steps, or "
                        "try another --precision / --fp8-scaling; the last good checkpoint is %s\n",
                        quiet ? "" : "\n", s,
                        !strcmp(diverged, "nan") ? "NaN/Inf loss or gradients on consecutive steps (max_bad_steps)"
                                                 : "loss above divergence_loss",
                        r.ckpt_path);
            status = TRAIN_DIVERGED;
            break;
        }
        if (!good) {
            if (lead)
                fprintf(stderr, "%sstep %ld skipped: loss %g, gradient norm %g (%ld consecutive)\n", quiet ? "" : "\n", s,
                        loss, norm, r.bad_streak);
            continue;
        }
        last_loss = loss;
        int stop_now = s == last && hooks && hooks->ckpt_at_stop;
        if ((c->ckpt_interval > 0 && s % c->ckpt_interval == 0) || last_step || stop_now) save_checkpoint(&r);
        if (signalled && !last_step) {
            save_checkpoint(&r);
            if (lead)
                fprintf(stderr, "\nactlab: interrupted at step %ld of %d (signal on rank %d); checkpoint written\n"
                        "  hint: continue with --resume %s\n", s, c->steps, signalled - 1, r.ckpt_path);
            status = TRAIN_INTERRUPTED;
            break;
        }
        if (!quiet && !last_step) {  // the last step is drawn by progress_finish
            char extra[96];
            snprintf(extra, sizeof extra, "loss %.4f  %.0f tok/s", loss, tps);
            progress_update(&bar, (size_t)(s - first), extra);
        }
    }
    if (!quiet && status == TRAIN_DONE && r.step < c->steps) {
        fprintf(stderr, "\nstopped at step %ld of %d; continue with --resume %s\n", r.step, c->steps, r.ckpt_path);
    } else if (!quiet && status == TRAIN_DONE) {
        char extra[96];
        snprintf(extra, sizeof extra, "loss %.4f  %.0f tok/s", last_loss, tps);
        progress_finish(&bar, extra);
    }
    dist_print_summary(now_seconds() - t_start, r.step - first);
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
    run_close(&r);
    return status;
}
