// report_verdict.h — the rule for each claim's verdict, as small pure functions of the numbers that
// decide it. Every threshold is a named constant here, and the report prints these same constants.
#ifndef ACTLAB_REPORT_VERDICT_H
#define ACTLAB_REPORT_VERDICT_H

#include "report/rp.h"

typedef enum { RP_REPRODUCED, RP_NOT_REPRODUCED, RP_INCONCLUSIVE } rp_verdict;
const char *rp_verdict_name(rp_verdict v);

// ---- the rule constants (docs/report.md states the same rules) ----
#define RP_E3_SE_K 2.0          // E3: |diff| beyond this many standard errors decides
#define RP_E3_MIN_SEEDS 2       // E3/E4: fewer seeds than this on a side: inconclusive
#define RP_E4_SE_K 2.0          // E4: spread within this many (largest pairwise) standard errors ...
#define RP_E4_REL 0.01          // ... and within this fraction of the mean loss: equivalent
#define RP_E1_REPRODUCED 0.8    // E1: powlu/swiglu amax ratios both below this: reproduced
#define RP_E1_NOT 1.0           // E1: either ratio at or above this: not reproduced
#define RP_E5_OVERLAP 0.01      // E5: max relative gap of the fitted curves at most this: overlap
#define RP_E5_APART 0.03        // E5: above this: not reproduced
#define RP_E5_MIN_SIZES 4       // E5: sizes needed to fit L(N) = A N^-alpha + E

// E3, one pair: diff = poly.mean - base.mean, se = sqrt(s1^2/n1 + s2^2/n2).
rp_verdict rp_verdict_e3_pair(rp_stat poly, rp_stat base, double *diff, double *se);
// E3 overall: reproduced if every pair is, not reproduced if any pair is not, else inconclusive
// (also when there are no pairs).
rp_verdict rp_verdict_e3_overall(const rp_verdict *pairs, int n);

// E4: over the m values with >= RP_E3_MIN_SEEDS seeds (at least two such m).
rp_verdict rp_verdict_e4(const rp_stat *per_m, int n, double *spread, double *se_max, double *mean_loss);

// E1: ratios powlu/swiglu of the late-training mean amax (activation; gradients). NAN: no data.
rp_verdict rp_verdict_e1(double ratio_act, double ratio_grad);

// E2: one activation's ladder under one recipe: lr[i] and whether every run at lr[i] was stable.
typedef struct {
    int n;
    double lr[32];
    int stable[32];
} rp_ladder;
double rp_ladder_largest_stable(const rp_ladder *l);   // 0 when no lr is stable
rp_verdict rp_verdict_e2(const rp_ladder *powlu, const rp_ladder *swiglu);

// E5: max over the measured N range of |L_powlu - L_swiglu| / L_swiglu; NAN: not both fitted.
rp_verdict rp_verdict_e5(double max_rel_gap);

#endif
