// report_e7.h — E7 (issue 14): SwiGLU, SwiGLU-Clip and PowLU pre-trained in 4-bit block formats
// (NVFP4, MXFP4; NVFP4 also without the Hadamard transform) on a learning-rate ladder against the
// bf16 control at the same seeds. A question the papers did not test: whether PowLU's bounded
// growth narrows the 4-bit loss gap or avoids divergence where SwiGLU's quadratic growth does not.
// Judged like E2: ladder limits with the same stability rule and seeds (rp_verdict_e2), plus the
// loss gap to bf16, paired by (lr, seed), and the block telemetry of the down-projection input.
#ifndef ACTLAB_REPORT_E7_H
#define ACTLAB_REPORT_E7_H

#include "report/report_analyze.h"

#define RP_E7_MAX_GROUPS 24
#define RP_E7_MAX_GAPS 256
#define RP_E7_MARGIN 0.01   // nats: a difference of loss gaps smaller than this is no narrowing (E4's margin)

// One ladder: an activation in one 4-bit format with or without the Hadamard transform.
typedef struct {
    char act[32], fmt[16];
    long rht;
    rp_ladder lad;   // rp_rung.n/unstable: the 4-bit runs; ctl_n/ctl_unstable: the bf16 E7 runs
    // The loss gap val(4-bit) − val(bf16) at each (lr, seed) where both runs are stable.
    int n_gap;
    double gap_lr[RP_E7_MAX_GAPS], gap_seed[RP_E7_MAX_GAPS], gap[RP_E7_MAX_GAPS];
    rp_stat gap_stat;
    // The down-projection input's blocks over the group's runs (telemetry steps); NAN: not logged.
    double outlier_frac, zero_frac, sat_frac, rel_err;
} rp_e7group;

typedef struct {
    int n;
    rp_e7group g[RP_E7_MAX_GROUPS];
} rp_e7;

// PowLU's loss gap against a baseline's in the same format, paired by (lr, seed).
typedef struct {
    int n_pairs;
    rp_cmp c;              // paired: gap(powlu) − gap(base)
    rp_verdict v;          // rp_verdict_e7_gap
} rp_e7gap;

int rp_pick_e7(const rp_run *r, const void *unused);   // finished runs tagged E7
void rp_analyze_e7(const rp_sweep *s, rp_e7 *out);
const rp_e7group *rp_find_e7(const rp_e7 *e, const char *act, const char *fmt, long rht);
rp_e7gap rp_e7_gap_cmp(const rp_e7group *powlu, const rp_e7group *base);
// "PowLU narrows the 4-bit loss gap": on the 95% interval of gap(powlu) − gap(base):
// reproduced when it lies below 0; not reproduced when it lies above 0 or inside
// (−RP_E7_MARGIN, RP_E7_MARGIN) (no narrowing worth the name); otherwise inconclusive.
rp_verdict rp_verdict_e7_gap(int ok, double lo, double hi);

#endif
