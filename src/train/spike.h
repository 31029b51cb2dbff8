// spike.h — the loss-spike detector: a step's loss is a spike when it lies above the mean of the
// trailing window of earlier good steps by more than k standard deviations (once the window is
// full). Spikes do not enter the window, so a run of them is reported step by step instead of
// being absorbed into the statistics. Deterministic, and its state goes into checkpoints.
#ifndef ACTLAB_TRAIN_SPIKE_H
#define ACTLAB_TRAIN_SPIKE_H

#include <stddef.h>

typedef struct {
    float k;
    int window, n, pos;  // n: losses held (<= window); pos: next slot of the ring buffer
    double *buf;
} spike_detector;

void spike_init(spike_detector *d, int window, float k);  // k = 0: never reports a spike
void spike_free(spike_detector *d);
// Returns 1 if loss is a spike (then *mean, *std describe the window it was judged against).
// A finite non-spike loss joins the window; a non-finite one is ignored (the trainer skips it).
int spike_observe(spike_detector *d, double loss, double *mean, double *std);
// State for checkpoints, as floats: n, pos, then the window (as float: the statistics of a
// resumed run are computed from the same rounded values as those of an uninterrupted one).
size_t spike_state_size(const spike_detector *d);
void spike_state_save(const spike_detector *d, float *out);
int spike_state_load(spike_detector *d, const float *in, size_t n);  // 0, or -1 if it does not fit

#endif
