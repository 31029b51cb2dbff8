// refquant.h — a brute-force reference for rounding onto small float formats (FP8 E4M3/E5M2,
// FP4 E2M1): every code's value from its bit fields, and the nearest code found by scanning them
// all, in double. No code shared with src/act.
#ifndef ACTLAB_TEST_REFQUANT_H
#define ACTLAB_TEST_REFQUANT_H

typedef enum { REF_E4M3 = 0, REF_E5M2 = 1, REF_E2M1 = 2 } ref_elem;

// The largest finite non-negative code (E4M3 0x7e, E5M2 0x7b, E2M1 0x7).
int ref_top_code(ref_elem f);
// The value of non-negative code c from its fields (exponent bias 2^(ebits−1) − 1); c = top + 1
// gives the first value past the maximum (480, 65536, 8), which the rounding rules need.
double ref_code_value(ref_elem f, int c);
// |a| (finite, ≥ 0) rounded to the format. Nearest: the nearest of codes 0..top+1, ties to the even
// code; landing on top+1 saturates to the max. Stochastic: lo = the largest value ≤ a, up to the
// next with probability (a − lo)/(hi − lo), decided by u < that; a > max saturates.
// *sat: whether it saturated.
double ref_round(double a, ref_elem f, int stochastic, double u, int *sat);

#endif
