// refquant.c — see refquant.h.
#include "refquant.h"

#include <math.h>

static const int EBITS[3] = {4, 5, 2}, MBITS[3] = {3, 2, 1}, TOP[3] = {0x7e, 0x7b, 0x7};

int ref_top_code(ref_elem f) { return TOP[f]; }

double ref_code_value(ref_elem f, int c) {
    int mb = MBITS[f], bias = (1 << (EBITS[f] - 1)) - 1, e = c >> mb, m = c & ((1 << mb) - 1);
    return e ? ldexp(1.0 + ldexp(m, -mb), e - bias) : ldexp(m, 1 - bias - mb);
}

double ref_round(double a, ref_elem f, int stochastic, double u, int *sat) {
    int top = TOP[f];
    double max = ref_code_value(f, top);
    if (stochastic) {
        *sat = a > max;
        if (*sat) return max;
        int lo = 0;
        while (lo < top && ref_code_value(f, lo + 1) <= a) lo++;
        double vlo = ref_code_value(f, lo);
        if (vlo == a) return vlo;
        double vhi = ref_code_value(f, lo + 1);
        return u < (a - vlo) / (vhi - vlo) ? vhi : vlo;
    }
    int best = 0;
    double best_d = INFINITY;
    for (int c = 0; c <= top + 1; c++) {
        double d = fabs(a - ref_code_value(f, c));
        if (d < best_d || (d == best_d && (c & 1) == 0)) best_d = d, best = c;
    }
    *sat = best > top;
    return *sat ? max : ref_code_value(f, best);
}
