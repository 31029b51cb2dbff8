// timer.h — a monotonic wall clock in seconds.
#ifndef ACTLAB_TIMER_H
#define ACTLAB_TIMER_H

#include <time.h>

static inline double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
