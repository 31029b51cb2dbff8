// args.c — see args.h.
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "actlab %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  hint: run 'actlab %s --help'\n", cmd);
    exit(2);
}

const char *arg_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) usage_error(cmd, "%s needs a value", argv[*i]);
    return argv[++*i];
}

double arg_double(const char *cmd, const char *flag, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        usage_error(cmd, "%s expects a finite number, got '%s'", flag, s);
    return v;
}

long arg_long(const char *cmd, const char *flag, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE) usage_error(cmd, "%s expects an integer, got '%s'", flag, s);
    if (v < lo || v > hi) usage_error(cmd, "%s must be in [%ld, %ld], got %ld", flag, lo, hi, v);
    return v;
}

int arg_is_help(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }
