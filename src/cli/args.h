// args.h — small helpers for the subcommands' flag parsing: strict number parsing and usage errors
// (exit status 2, with the command's name and a pointer to --help).
#ifndef ACTLAB_ARGS_H
#define ACTLAB_ARGS_H

#include <stdint.h>

// Prints "actlab CMD: error: ..." and "run 'actlab CMD --help'", exits 2.
void usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
// The value after a flag at argv[*i] (advancing *i), or a usage error if missing.
const char *arg_value(const char *cmd, int argc, char **argv, int *i);
// Whole-string, finite numbers; anything else is a usage error naming the flag.
double arg_double(const char *cmd, const char *flag, const char *s);
long arg_long(const char *cmd, const char *flag, const char *s, long lo, long hi);
int arg_is_help(const char *a);

#endif
