// report_verdict.c — see report_verdict.h: each claim's rule, on numbers only. The interval rules
// themselves are report_infer.c's (rp_verdict_effect, _at_most, _equivalent); this file adds what is
// particular to each claim: the design minimums, the paper's effect, and E2's ladder logic.
#include "report/report_verdict.h"
#include "report/report_infer.h"

#include <math.h>

const char *rp_verdict_name(rp_verdict v) {
    return v == RP_REPRODUCED ? "reproduced" : v == RP_NOT_REPRODUCED ? "not reproduced" : "inconclusive";
}

rp_verdict rp_verdict_all(const rp_verdict *parts, int n) {
    int all = n > 0;
    for (int i = 0; i < n; i++) {
        if (parts[i] == RP_NOT_REPRODUCED) return RP_NOT_REPRODUCED;
        all &= parts[i] == RP_REPRODUCED;
    }
    return all ? RP_REPRODUCED : RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e1(int ok, double lo, double hi, double paper_ratio) {
    return ok ? rp_verdict_effect(lo, hi, 1.0, paper_ratio) : RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e3(int ok, double lo, double hi, double paper_diff) {
    return ok ? rp_verdict_effect(lo, hi, 0.0, paper_diff) : RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e4(int ok, double lo, double hi) {
    return ok ? rp_verdict_equivalent(lo, hi, RP_E4_MARGIN) : RP_INCONCLUSIVE;
}

rp_verdict rp_verdict_e5(int design_ok, int ok, double lo, double hi) {
    return design_ok && ok ? rp_verdict_at_most(lo, hi, RP_E5_OVERLAP) : RP_INCONCLUSIVE;
}

// ---- E2 ----

static int fp8_stable(const rp_rung *r) { return r->n > 0 && r->unstable == 0; }
static int ctl_stable(const rp_rung *r) { return r->ctl_n > 0 && r->ctl_unstable == 0; }
static int mixed(const rp_rung *r) { return r->unstable > 0 && r->unstable < r->n; }

double rp_ladder_lr(const rp_ladder *l, int i) { return i >= 0 && i < l->n ? l->r[i].lr : 0; }

rp_ladder_sum rp_ladder_summary(const rp_ladder *l) {
    rp_ladder_sum s = {-1, -1, 0, -1, 0, 0, 0, NAN};
    for (int i = 0; i < l->n; i++) {
        const rp_rung *r = &l->r[i];
        s.has_control |= r->ctl_n > 0;
        if (fp8_stable(r) && ctl_stable(r)) s.limit = i;
        if (ctl_stable(r)) s.ctl_limit = i;
    }
    for (int i = s.limit + 1; i < l->n && s.fail < 0; i++)
        if (l->r[i].unstable > 0) s.fail = i;
    if (s.fail >= 0) s.fail_attributable = ctl_stable(&l->r[s.fail]);
    if (s.limit >= 0 && s.limit + 1 < l->n) s.spacing = l->r[s.limit + 1].lr / l->r[s.limit].lr;
    int idx[2] = {s.limit, s.fail};
    for (int k = 0; k < 2; k++) {
        if (idx[k] < 0) continue;
        const rp_rung *r = &l->r[idx[k]];
        s.disagree |= mixed(r);
        s.min_seeds = s.min_seeds == 0 || r->n < s.min_seeds ? r->n : s.min_seeds;
    }
    return s;
}

// E2's rule, which E6-E2 (FP8 with experts) and E7 (4-bit) apply too: the reasons say "low
// precision" for whichever format the ladder ran.
rp_verdict rp_verdict_e2(const rp_ladder *powlu, const rp_ladder *base, const char **why) {
    rp_ladder_sum p = rp_ladder_summary(powlu), b = rp_ladder_summary(base);
    if (!powlu->n || !base->n) return *why = "a ladder is missing", RP_INCONCLUSIVE;
    if (!p.has_control || !b.has_control)
        return *why = "no control runs (fp32/bf16): an instability cannot be attributed to the low precision", RP_INCONCLUSIVE;
    if (p.fail < 0 && b.fail < 0)
        return *why = "neither ladder failed in low precision above its limit: extend the ladder upwards", RP_INCONCLUSIVE;
    if (p.disagree || b.disagree) return *why = "the low-precision seeds disagree at a decisive rung", RP_INCONCLUSIVE;
    if (p.min_seeds < RP_E2_MIN_SEEDS || b.min_seeds < RP_E2_MIN_SEEDS)
        return *why = "too few seeds at a decisive rung", RP_INCONCLUSIVE;
    double lp = rp_ladder_lr(powlu, p.limit), lb = rp_ladder_lr(base, b.limit);
    if (lp == lb) return *why = "the low-precision limits coincide", RP_INCONCLUSIVE;
    if (lp > lb) {
        if (b.fail < 0) return *why = "the baseline never failed in low precision above its limit", RP_INCONCLUSIVE;
        if (!b.fail_attributable)
            return *why = "the baseline's control fails at its failing rung too: not attributable to the low precision",
                   RP_INCONCLUSIVE;
        return *why = "PowLU's limit is higher and the baseline's failure is the low precision's", RP_REPRODUCED;
    }
    if (p.fail < 0) return *why = "PowLU never failed in low precision above its limit", RP_INCONCLUSIVE;
    if (!p.fail_attributable)
        return *why = "PowLU's control fails at its failing rung too: not attributable to the low precision", RP_INCONCLUSIVE;
    return *why = "PowLU's limit is lower and its failure is the low precision's", RP_NOT_REPRODUCED;
}
