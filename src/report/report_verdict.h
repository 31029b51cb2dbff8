// report_verdict.h — the rule for each claim's verdict, as small pure functions of the numbers that
// decide it. Every threshold is a named constant here, and the report prints these same constants
// (docs/report.md states the same rules). The statistics themselves (t intervals, TOST, bootstraps,
// the verdict on an interval) are report_infer.h's.
#ifndef ACTLAB_REPORT_VERDICT_H
#define ACTLAB_REPORT_VERDICT_H

#include "report/rp.h"

typedef enum { RP_REPRODUCED, RP_NOT_REPRODUCED, RP_INCONCLUSIVE } rp_verdict;
const char *rp_verdict_name(rp_verdict v);
// A claim made of several parts: reproduced if every part is, not reproduced if any part is not,
// otherwise inconclusive (also with no parts).
rp_verdict rp_verdict_all(const rp_verdict *parts, int n);

// Every suite model is asked to hold at least this share of its parameters in the FFNs (issue #10):
// below it an activation's effect is diluted by embeddings and attention; the report warns.
#define RP_FFN_MIN_SHARE 0.40

// ---- E1: outliers (the P1-P99 band width, PowLU / SwiGLU per seed) ----
#define RP_E1_LATE 0.5            // the telemetry steps with step > RP_E1_LATE · steps count
#define RP_E1_PAPER_ACT 0.25      // the paper's figure: activation P99 ≈ 50 (PowLU) vs ≈ 200 (SwiGLU)
#define RP_E1_PAPER_GRAD (5.0 / 30.0)   // gradient P99 ≈ 5 vs ≈ 30
#define RP_Z_KNEE 4.0             // PowLU's gate exceeds SiLU's for 1 < z < 4 and is bounded beyond
#define RP_Z_PEAK 12.9            // PowLU m = 3's gate peaks near z = 12.9
// ok: the 95% interval [lo, hi] of the ratio exists (>= 2 seed pairs). The ratio scale: no effect = 1.
rp_verdict rp_verdict_e1(int ok, double lo, double hi, double paper_ratio);

// ---- E2: the FP8 learning-rate ladder with its control (fp32 or bf16) ----
#define RP_E2_MAX_RUNGS 48
#define RP_E2_MIN_SEEDS 3          // FP8 runs needed at each decisive rung
#define RP_E2_MAX_SPACING 1.4142135623730951   // the ladder is asked to be at most √2 apart at a boundary
#define RP_E2_STRESS_HISTORY 16    // amax history length of the delayed-scaling stress recipe
// One rung (learning rate) of one activation's ladder under one FP8 recipe: the FP8 (treatment) runs
// and the bf16/fp32 (control) runs of the same activation and lr. A run is unstable when it diverged,
// had a spike event or did not end "done".
typedef struct {
    double lr;
    int n, unstable;            // FP8 runs at this lr, and how many were unstable
    int ctl_n, ctl_unstable;    // control runs
    double down_n, down_sat, down_ftz;   // the FP8 runs' down-projection input counts (NAN: none logged)
} rp_rung;
typedef struct {
    int n;
    rp_rung r[RP_E2_MAX_RUNGS];   // lr ascending
} rp_ladder;
// What decides a ladder. Rung indices are -1 when there is none.
typedef struct {
    int limit;             // the FP8 limit: the largest rung where every FP8 run and every control run is
                           // stable (and there is at least one of each)
    int fail;              // the first rung above the limit with an unstable FP8 run (-1: censored, the
                           // ladder never failed above the limit)
    int fail_attributable; // every control run at `fail` is stable (and there is one): FP8's fault
    int ctl_limit;         // the control's own limit: the largest rung whose control runs are all stable
    int has_control;       // any control run at all
    int disagree;          // FP8 seeds disagree (some stable, some not) at `limit` or `fail`
    int min_seeds;         // the fewest FP8 runs at `limit` and `fail` (0 when neither exists)
    double spacing;        // lr ratio of the rung above the limit to the limit (NAN: none)
} rp_ladder_sum;
rp_ladder_sum rp_ladder_summary(const rp_ladder *l);
double rp_ladder_lr(const rp_ladder *l, int i);   // the lr of rung i, 0 for i < 0
// PowLU's ladder against a baseline's (SwiGLU or SwiGLU-Clip) under the same recipe:
//   inconclusive: a ladder empty or without control, neither ladder failing under FP8 above its limit
//     (the ladder is too low to tell), FP8 seeds disagreeing or fewer than
//     RP_E2_MIN_SEEDS at a decisive rung (the limit and fail rungs of both), equal FP8 limits;
//   reproduced: PowLU's FP8 limit is above the baseline's and the baseline's failure is attributable
//     to FP8 (its control is stable at the baseline's fail rung); inconclusive when it is not;
//   not reproduced: PowLU's limit is below the baseline's and PowLU's failure is attributable;
//     inconclusive when it is not.
// why: one phrase naming the deciding condition (static storage).
rp_verdict rp_verdict_e2(const rp_ladder *powlu, const rp_ladder *base, const char **why);

// ---- E3: paired differences of the final validation loss, poly − baseline ----
#define RP_E3_MIN_PAIRS 2   // seed pairs a t interval needs
// The paper's effect is a difference (no effect = 0), negative: poly better.
rp_verdict rp_verdict_e3(int ok, double lo, double hi, double paper_diff);

// ---- E4: m = 2, 4 against m = 3, equivalence (TOST) ----
#define RP_E4_MARGIN 0.01   // nats; the paper's m-ablation spread is 0.002 at a loss of 1.91
#define RP_E4_REF_M 3.0
// lo, hi: the 90% (1 − 2·0.05) interval of the paired difference m − 3.
rp_verdict rp_verdict_e4(int ok, double lo, double hi);

// ---- E5: the fitted scaling curves' largest relative gap ----
#define RP_E5_OVERLAP 0.01   // the curves overlap when the gap's 95% interval stays at or below 1%
                             // uses it as a clearly separated gap
#define RP_E5_MIN_SIZES 5    // sizes per activation for a verdict (a fit is drawn from 4)
#define RP_E5_FIT_SIZES 4    // sizes needed to draw a fit at all
#define RP_E5_MIN_SEEDS 2    // seeds at every size: the bootstrap resamples seeds within a size
#define RP_E5_BOOT_SEED 20261201u   // fixed: the same runs give the same interval
// design_ok: both activations have >= RP_E5_MIN_SIZES sizes with >= RP_E5_MIN_SEEDS seeds each.
// ok: the bootstrap interval [lo, hi] of the gap exists.
rp_verdict rp_verdict_e5(int design_ok, int ok, double lo, double hi);

#define RP_BOOT_SEED 20261130u   // E1's paired bootstrap (shown beside the t interval)

#endif
