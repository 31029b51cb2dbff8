// commands.h — the actlab subcommands. Each takes its own argv (argv[0] is the command name),
// prints its own --help, and returns the process exit status.
#ifndef ACTLAB_COMMANDS_H
#define ACTLAB_COMMANDS_H

int cmd_curve(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);

#endif
