// main.c — the actlab command line: dispatches to one subcommand.
#include "commands.h"
#include "actlab.h"
#include "train/dist.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"curve", cmd_curve, "print or plot an activation's curve and derivative"},
    {"bench", cmd_bench, "benchmarks (kernels) with JSON output"},
    {"data", cmd_data, "extract the corpus, split it, train the tokenizer, write token shards"},
    {"tokenize", cmd_tokenize, "text on stdin to token ids (gpt2 or a trained bpe:N), or back with --decode"},
    {"compare", cmd_compare, "the main job: reproduce the papers' claims (E1-E5) at small scale, write a report"},
    {"train", cmd_train, "pre-train the model with a chosen FFN activation"},
    {"eval", cmd_eval, "loss and perplexity of a checkpoint on a shard or text"},
    {"sample", cmd_sample, "generate text from a checkpoint"},
    {"export", cmd_export, "write a checkpoint as safetensors + config.json"},
    {"sweep", cmd_sweep, "run a grid of training runs from a SPEC.json (resumable)"},
    {"report", cmd_report, "report.md/.html, figures and verdicts for a sweep folder"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *out) {
    fprintf(out,
            "actlab %s — activation functions for LLM FFNs (PowLU, PolyCom and their baselines)\n\n"
            "usage: actlab COMMAND [options]     (actlab COMMAND --help for each)\n\ncommands:\n",
            ACTLAB_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "\nactivations:\n");
    for (int k = 0; k < ACT_COUNT; k++) {
        const act_desc *d = act_desc_of((act_kind)k);
        fprintf(out, "  %-12s %s\n", d->name, d->summary);
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        const char *mpi = dist_library();
        printf("actlab %s\nMPI: %s\n", ACTLAB_VERSION, mpi ? mpi : "no (built without MPI: one process only)");
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "actlab: error: unknown command '%s'\n  hint: run 'actlab --help' for the list\n", argv[1]);
    return 2;
}
