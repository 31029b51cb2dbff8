// spike.c — see spike.h.
#include "train/spike.h"

#include "util/check.h"

#include <math.h>
#include <stdlib.h>

void spike_init(spike_detector *d, int window, float k) {
    d->k = k;
    d->window = window < 2 ? 2 : window;
    d->n = d->pos = 0;
    d->buf = xcalloc((size_t)d->window, sizeof(double));
}

void spike_free(spike_detector *d) {
    free(d->buf);
    d->buf = NULL;
}

// Mean and (population) standard deviation of the window, summed in slot order.
static void window_stats(const spike_detector *d, double *mean, double *std) {
    double s = 0, ss = 0;
    for (int i = 0; i < d->n; i++) s += d->buf[i];
    *mean = s / d->n;
    for (int i = 0; i < d->n; i++) ss += (d->buf[i] - *mean) * (d->buf[i] - *mean);
    *std = sqrt(ss / d->n);
}

int spike_observe(spike_detector *d, double loss, double *mean, double *std) {
    if (!isfinite(loss)) return 0;
    // Losses are held rounded to float, as a checkpoint stores them.
    loss = (double)(float)loss;
    if (d->k > 0 && d->n == d->window) {
        window_stats(d, mean, std);
        if (loss > *mean + d->k * *std) return 1;
    }
    d->buf[d->pos] = loss;
    d->pos = (d->pos + 1) % d->window;
    if (d->n < d->window) d->n++;
    return 0;
}

size_t spike_state_size(const spike_detector *d) { return 2 + (size_t)d->window; }

void spike_state_save(const spike_detector *d, float *out) {
    out[0] = (float)d->n;
    out[1] = (float)d->pos;
    for (int i = 0; i < d->window; i++) out[2 + i] = (float)d->buf[i];
}

int spike_state_load(spike_detector *d, const float *in, size_t n) {
    if (n != spike_state_size(d) || !(in[0] >= 0 && in[0] <= d->window) || !(in[1] >= 0 && in[1] < d->window))
        return -1;
    d->n = (int)in[0];
    d->pos = (int)in[1];
    for (int i = 0; i < d->window; i++) d->buf[i] = (double)in[2 + i];
    return 0;
}
