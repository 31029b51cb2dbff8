// trainer.h — the training loop: batches from the shard loader, forward/backward, gradient
// accumulation, NaN/Inf step skipping, AdamW, validation, metrics JSONL with per-layer outlier
// telemetry, checkpoints, and bitwise-exact resume.
//
// Low precision (cfg->prec): the model emulates bf16/fp8 matmul inputs; the metrics gain "lowp"
// counts, loss spikes are flagged ("spike"), divergence is declared and stops the run.
//
// Run folder (cfg->out_dir): config.json (resolved), metrics.jsonl (one object per logged step),
// checkpoint.bin (every ckpt_interval steps and at the end; never written after a bad step).
#ifndef ACTLAB_TRAINER_H
#define ACTLAB_TRAINER_H

#include "train/config.h"

#include <stddef.h>

typedef struct {
    // Test hook, called once per step after the gradients are complete and before they are checked:
    // it may corrupt them (NaN injection). NULL: none.
    void (*after_backward)(void *ctx, long step, float *grads, size_t n);
    // Test hook, called after each applied update: it may perturb the parameters (planted loss
    // spikes). NULL: none.
    void (*after_update)(void *ctx, long step, float *params, size_t n);
    void *ctx;
    long stop_after;  // > 0: return after this many steps in total, as if interrupted
    int ckpt_at_stop; // 1: write a checkpoint when stop_after ends the run (0 simulates a crash)
    int quiet;        // 1: no banner or progress bar
} train_hooks;

// What train_run returns.
typedef enum {
    TRAIN_DONE = 0,         // all steps ran (or stop_after was reached)
    TRAIN_INTERRUPTED = 1,  // stopped by SIGINT/SIGTERM after the current step, with a checkpoint there
    TRAIN_DIVERGED = 2,     // max_bad_steps consecutive NaN/Inf steps, or a loss above divergence_loss;
                            // the step and reason are in metrics.jsonl ("diverged"), and the last good
                            // checkpoint is left untouched
} train_result;

// Trains (or resumes from resume_path, whose model config and tokenizer must match); a
// train_result. Dies with a message on I/O errors.
int train_run(const train_config *cfg, const char *resume_path, const train_hooks *hooks);

// Sets OpenMP and OpenBLAS to n threads (0: all online cores); returns the count set.
int train_set_threads(int n);

#endif
