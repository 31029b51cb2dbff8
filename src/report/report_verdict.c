// report_verdict.c — see report_verdict.h: each claim's rule, on numbers only.
#include "report/report_verdict.h"

#include <math.h>

const char *rp_verdict_name(rp_verdict v) {
    return v == RP_REPRODUCED ? "reproduced" : v == RP_NOT_REPRODUCED ? "not reproduced" : "inconclusive";
}

static double se2(rp_stat a, rp_stat b) { return sqrt(a.sd * a.sd / a.n + b.sd * b.sd / b.n); }

rp_verdict rp_verdict_e3_pair(rp_stat poly, rp_stat base, double *diff, double *se) {
    *diff = poly.n && base.n ? poly.mean - base.mean : NAN;
    *se = poly.n >= RP_E3_MIN_SEEDS && base.n >= RP_E3_MIN_SEEDS ? se2(poly, base) : NAN;
    if (!isfinite(*diff) || !isfinite(*se)) return RP_INCONCLUSIVE;
    if (*diff < -RP_E3_SE_K * *se) return RP_REPRODUCED;
    if (*diff > RP_E3_SE_K * *se) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e3_overall(const rp_verdict *pairs, int n) {
    int all = n > 0;
    for (int i = 0; i < n; i++) {
        if (pairs[i] == RP_NOT_REPRODUCED) return RP_NOT_REPRODUCED;
        all &= pairs[i] == RP_REPRODUCED;
    }
    return all ? RP_REPRODUCED : RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e4(const rp_stat *per_m, int n, double *spread, double *se_max, double *mean_loss) {
    double lo = INFINITY, hi = -INFINITY, sum = 0, se = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (per_m[i].n < RP_E3_MIN_SEEDS) continue;
        lo = fmin(lo, per_m[i].mean), hi = fmax(hi, per_m[i].mean), sum += per_m[i].mean, k++;
        for (int j = 0; j < i; j++)
            if (per_m[j].n >= RP_E3_MIN_SEEDS) se = fmax(se, se2(per_m[i], per_m[j]));
    }
    *spread = k >= 2 ? hi - lo : NAN;
    *se_max = k >= 2 ? se : NAN;
    *mean_loss = k ? sum / k : NAN;
    if (k < 2) return RP_INCONCLUSIVE;
    int within_se = *spread <= RP_E4_SE_K * se, within_rel = *spread <= RP_E4_REL * *mean_loss;
    if (within_se && within_rel) return RP_REPRODUCED;
    if (!within_se && !within_rel) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e1(double ratio_act, double ratio_grad) {
    if (!isfinite(ratio_act) || !isfinite(ratio_grad)) return RP_INCONCLUSIVE;
    if (ratio_act >= RP_E1_NOT || ratio_grad >= RP_E1_NOT) return RP_NOT_REPRODUCED;
    if (ratio_act < RP_E1_REPRODUCED && ratio_grad < RP_E1_REPRODUCED) return RP_REPRODUCED;
    return RP_INCONCLUSIVE;
}

double rp_ladder_largest_stable(const rp_ladder *l) {
    double best = 0;
    for (int i = 0; i < l->n; i++)
        if (l->stable[i] && l->lr[i] > best) best = l->lr[i];
    return best;
}

static int count_stable(const rp_ladder *l) {
    int k = 0;
    for (int i = 0; i < l->n; i++) k += l->stable[i] != 0;
    return k;
}

rp_verdict rp_verdict_e2(const rp_ladder *powlu, const rp_ladder *swiglu) {
    if (!powlu->n || !swiglu->n) return RP_INCONCLUSIVE;
    int ps = count_stable(powlu), ss = count_stable(swiglu);
    if ((ps == powlu->n && ss == swiglu->n) || (ps == 0 && ss == 0)) return RP_INCONCLUSIVE;
    double p = rp_ladder_largest_stable(powlu), s = rp_ladder_largest_stable(swiglu);
    if (p > s) return RP_REPRODUCED;
    if (ss < swiglu->n) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e5(double gap) {
    if (!isfinite(gap)) return RP_INCONCLUSIVE;
    if (gap <= RP_E5_OVERLAP) return RP_REPRODUCED;
    if (gap > RP_E5_APART) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}
