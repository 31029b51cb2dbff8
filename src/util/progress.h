// progress.h — a one-line progress bar with rate and ETA on stderr. It redraws in place on a
// terminal and prints a plain line at most every few seconds otherwise (logs, CI).
#ifndef ACTLAB_PROGRESS_H
#define ACTLAB_PROGRESS_H

#include <stddef.h>

typedef struct {
    const char *label;
    size_t total;
    double t_start, t_last_draw;
    int tty;
} progress_t;

void progress_start(progress_t *p, const char *label, size_t total);
// done: units finished so far; extra: a short status string (may be NULL), e.g. "loss 3.21".
void progress_update(progress_t *p, size_t done, const char *extra);
void progress_finish(progress_t *p, const char *extra);

#endif
