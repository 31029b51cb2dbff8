// cmd_train.c — `actlab train`: pre-train the Llama-style model with a chosen FFN activation.
#include "args.h"
#include "commands.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/dist.h"
#include "train/trainer.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void train_help(void) {
    printf("usage: actlab train [--config FILE.json] [--resume CHECKPOINT] [--KEY VALUE ...]\n\n"
           "Trains from DATA_DIR/train.bin (validation on DATA_DIR/val.bin; build them with 'actlab data').\n"
           "Settings come from the defaults, then --config FILE.json (the same keys, with '_'), then flags.\n"
           "--resume continues a run bitwise-exactly; without --config it reuses the checkpoint's settings,\n"
           "and flags may still change non-model keys (e.g. --steps to extend a run).\n"
           "Defaults marked min(...) follow --steps unless set (flag, file or checkpoint): a 60-step run\n"
           "warms up for 6 steps; a value set explicitly is kept, and one that conflicts is an error.\n"
           "Intervals longer than the run (--ckpt-interval, --telemetry-interval) simply do not fire before\n"
           "the end; the final checkpoint and validation always happen.\n\n"
           "The run folder (--out) receives config.json (resolved settings), metrics.jsonl (one JSON object\n"
           "per logged step: loss, lr, grad_norm, tokens_per_s, val_loss, and every --telemetry-interval\n"
           "steps per-layer quantiles, RMS and kurtosis of the FFN activations, gradients and weight\n"
           "gradients, and of the activation's input z with its fractions above 4 and 12.9) and\n"
           "checkpoint.bin. --precision bf16|fp8 emulates low-precision matmul inputs (--fp8-scaling\n"
           "delayed|current|block) and adds per-tensor saturation/underflow counts (\"lowp\"); --precision\n"
           "mxfp8|mxfp4|nvfp4 trains with block-scaled formats (NVFP4 recipe: --rht, --lowp-bf16-layers) and\n"
           "adds per-tensor block telemetry (outlier-dominated blocks, zeros, saturations, error); loss spikes\n"
           "(\"spike\") and divergence (\"diverged\") are logged in every precision (docs/lowp.md).\n"
           "Data parallel: 'mpirun -np N actlab train ...' (or srun) splits every micro-batch's rows over the\n"
           "N ranks (--batch a multiple of N), sums the gradients in rank order and trains the same model as\n"
           "one process would; rank 0 writes the run folder (docs/train.md). --threads is per rank (default:\n"
           "the host's cores divided by its ranks, or the rank's CPU binding when narrower).\n"
           "Exit status: 0 done, 1 runtime error or interrupted, 2 usage error, 3 diverged.\n\n"
           "options:\n"
           "  --config FILE             JSON settings (keys as below with '_'; \"act_hyper\": {\"m\": 3})\n"
           "  --resume CKPT             continue from a checkpoint.bin\n"
           "  --stop-after N            stop after step N of the schedule (checkpointing there); --resume later\n"
           "  --print-config            print the resolved settings as JSON and exit\n"
           "  --overwrite               start afresh even if --out already holds a run (its checkpoint and\n"
           "                            metrics are replaced); without it such a run is refused\n");
    train_config_print_help(stdout);
    printf("\nexample: actlab train --act powlu --m 3 --steps 2000 --out runs/powlu\n");
}

// "--key value" or "--key=value"; returns the key (without dashes) and the value.
static void split_flag(const char *cmd, int argc, char **argv, int *i, char *key, size_t klen, const char **val) {
    const char *a = argv[*i] + 2, *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    if (n == 0 || n >= klen) usage_error(cmd, "malformed flag '%s'", argv[*i]);
    memcpy(key, a, n);
    key[n] = 0;
    *val = eq ? eq + 1 : arg_value(cmd, argc, argv, i);
}

static void apply(train_config *c, const char *key, const char *val) {
    char err[512];
    if (train_config_set(c, key, val, err, sizeof err)) usage_error("train", "--%s: %s", key, err);
}

// Settings for a resumed run when no --config is given: the checkpoint's own.
static void config_from_checkpoint(train_config *c, const char *path) {
    ckpt k;
    char err[512];
    if (ckpt_read(path, &k, err, sizeof err)) die("check the --resume path", "%s", err);
    if (train_config_from_json(c, k.config_json, err, sizeof err))
        die("the checkpoint's stored settings are unreadable: pass --config", "%s: %s", path, err);
    ckpt_free(&k);
}

int cmd_train(int argc, char **argv) {
    const char *config_path = NULL, *resume = NULL, *act = NULL;
    long stop_after = 0;
    int print_only = 0, overwrite = 0;
    for (int i = 1; i < argc; i++) {
        if (arg_is_help(argv[i])) {
            train_help();
            return 0;
        }
        if (strncmp(argv[i], "--", 2)) usage_error("train", "unexpected argument '%s'", argv[i]);
        char key[64];
        const char *val = NULL;
        if (!strcmp(argv[i], "--print-config") || !strcmp(argv[i], "--overwrite")) {
            print_only |= !strcmp(argv[i], "--print-config");
            overwrite |= !strcmp(argv[i], "--overwrite");
            continue;
        }
        split_flag("train", argc, argv, &i, key, sizeof key, &val);
        if (!strcmp(key, "config")) config_path = val;
        else if (!strcmp(key, "resume")) resume = val;
        else if (!strcmp(key, "act")) act = val;
        else if (!strcmp(key, "stop-after") || !strcmp(key, "stop_after"))
            stop_after = arg_long("train", "--stop-after", val, 1, 1000000000L);
    }
    train_config c;
    train_config_default(&c);
    char err[512];
    if (config_path && train_config_load(&c, config_path, err, sizeof err)) usage_error("train", "%s", err);
    if (!config_path && resume) config_from_checkpoint(&c, resume);
    // The activation first, so that its hyperparameter flags are known whatever their position.
    if (act) apply(&c, "act", act);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--print-config") || !strcmp(argv[i], "--overwrite")) continue;
        char key[64];
        const char *val;
        split_flag("train", argc, argv, &i, key, sizeof key, &val);
        if (strcmp(key, "config") && strcmp(key, "resume") && strcmp(key, "act") && strcmp(key, "stop-after") &&
            strcmp(key, "stop_after"))
            apply(&c, key, val);
    }
    train_config_resolve(&c);
    const char *why = train_config_check(&c, err, sizeof err);
    if (why) usage_error("train", "%s", why);
    if (print_only) {
        char *json = train_config_to_json(&c);
        fputs(json, stdout);
        free(json);
        return 0;
    }
    // A fresh start would replace the run already in --out: refuse rather than lose it.
    char existing[1100];
    snprintf(existing, sizeof existing, "%s/checkpoint.bin", c.out_dir);
    if (!resume && !overwrite && access(existing, F_OK) == 0)
        usage_error("train", "'%s' already holds a run (%s): continue it with --resume %s, choose another --out, "
                    "or pass --overwrite to replace it", c.out_dir, existing, existing);
    dist_init();  // one rank of a data-parallel job when mpirun/srun started us
    train_hooks hooks = {.stop_after = stop_after, .ckpt_at_stop = 1};
    int status = train_run(&c, resume, &hooks);
    dist_finalize();
    switch (status) {
    case TRAIN_DONE: return 0;
    case TRAIN_INTERRUPTED: return 1;
    default: return 3;  // diverged: 2 is the usage-error status of every command
    }
}
