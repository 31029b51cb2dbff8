// fmt.c — see fmt.h.
#include "util/fmt.h"

#include <stdio.h>
#include <stdlib.h>

void fmt_shortest(char *buf, size_t len, double x, int as_float) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (as_float ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x) return;
    }
}
