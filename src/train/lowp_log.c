// lowp_log.c — see lowp_log.h.
#include "train/lowp_log.h"

#include "util/check.h"

#include <math.h>
#include <stdlib.h>

void jsonl_num(FILE *f, const char *key, double x) {
    if (isfinite(x)) fprintf(f, "\"%s\":%.7g", key, x);
    else fprintf(f, "\"%s\":null", key);
}

void lowp_log_write(FILE *f, model *m, int with_tensors) {
    int cap = 16 * (model_cfg(m)->n_layers + 1);
    model_lowp_stat *st = xcalloc((size_t)cap, sizeof *st);
    int n = model_lowp_stats(m, st, cap);
    if (n == 0) {
        free(st);
        return;
    }
    unsigned long long tn = 0, tsat = 0, tftz = 0;
    double amax = 0, smin = INFINITY;
    for (int i = 0; i < n; i++) {
        tn += st[i].n, tsat += st[i].n_sat, tftz += st[i].n_ftz;
        if (st[i].amax > amax) amax = st[i].amax;
        if (st[i].scale < smin) smin = st[i].scale;
    }
    fprintf(f, ",\"lowp\":{\"n\":%llu,\"sat\":%llu,\"ftz\":%llu,", tn, tsat, tftz);
    jsonl_num(f, "amax_max", amax);
    fputc(',', f);
    jsonl_num(f, "scale_min", smin);
    if (with_tensors) {
        fputs(",\"tensors\":[", f);
        for (int i = 0; i < n; i++) {
            fprintf(f, "%s{\"name\":\"%s\",\"fmt\":\"%s\",", i ? "," : "", st[i].name, st[i].fmt);
            jsonl_num(f, "amax", st[i].amax);
            fputc(',', f);
            jsonl_num(f, "scale", st[i].scale);
            fprintf(f, ",\"n\":%llu,\"sat\":%llu,\"ftz\":%llu}", (unsigned long long)st[i].n,
                    (unsigned long long)st[i].n_sat, (unsigned long long)st[i].n_ftz);
        }
        fputc(']', f);
    }
    fputc('}', f);
    free(st);
    model_lowp_stats_reset(m);
}
