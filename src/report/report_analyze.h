// report_analyze.h — the numbers of every section, computed once from the loaded sweep, so the
// sections and the verdicts print the very same values.
#ifndef ACTLAB_REPORT_ANALYZE_H
#define ACTLAB_REPORT_ANALYZE_H

#include "report/report_fit.h"
#include "report/report_infer.h"
#include "report/report_verdict.h"
#include "report/rp.h"

#define RP_MAX_ACTS 16
#define RP_MAX_GROUPS 64
#define RP_MAX_POINTS 64
#define RP_MAX_SEEDS 32
#define RP_MAX_LRS 16

typedef struct {
    char act[32];
    rp_stat val;   // final validation loss over seeds
} rp_actval;
// The final validation loss per activation of the runs `pick` takes (at most max activations, in plan
// order); returns the count. And the entry of act among n, or NULL.
int rp_val_by_act(const rp_sweep *s, rp_pick pick, const void *ctx, rp_actval *out, int max);
const rp_actval *rp_find_actval(const rp_actval *v, int n, const char *act);

// ---- parameter split (report_split.c) ----
typedef struct {
    int ok;                                 // the config had every key the count needs
    double embed, attn, ffn, other, total;  // other: the RMSNorm gains
    int matches;                            // total == run.json n_params (-1: n_params unknown)
} rp_split;
void rp_param_split(const rp_run *r, rp_split *out);

// ---- E1 ----
enum { RP_ST_WIDTH, RP_ST_CREST, RP_ST_KURT, RP_ST_AMAX, RP_NST };   // P99−P1, amax/RMS, kurtosis, amax
// What a ratio is taken of (band widths): E1's three quantities of a dense FFN (the first RP_NQ), then
// E6's of an MoE FFN: the routed and the shared experts' down-projection inputs.
enum { RP_Q_ACT, RP_Q_GRAD, RP_Q_WGRAD, RP_NQ, RP_Q_MOE = RP_NQ, RP_Q_MOE_SHARED, RP_NQ_ALL };
extern const char *const RP_Q_NAMES[RP_NQ_ALL];

// The gate pre-activation z over a set of runs (telemetry steps of newer metrics files only).
typedef struct {
    int runs;                        // runs with z telemetry
    long steps, steps_knee, steps_peak;   // telemetry steps; those whose max z exceeded 4 / 12.9
    double p999, max, gt4, gt_peak;  // max over runs, steps and layers
} rp_zsum;
void rp_zsum_add(rp_zsum *z, const rp_run *r);

typedef struct {
    long seed;
    double st[RP_NT][RP_NST];   // late-training mean per tensor of each statistic (NAN: not logged)
    double q[RP_NQ_ALL];        // late mean of the per-step max band width over {up, gate} tensors
} rp_e1run;
typedef struct {
    char act[32];
    int n;
    rp_e1run run[RP_MAX_SEEDS];
    rp_zsum z;
} rp_e1act;
// act / swiglu of a band width, paired by seed: the t interval over log ratios (est: the geometric
// mean ratio) and a paired bootstrap of the ratio of means beside it.
typedef struct {
    int n_pairs;                  // seed pairs with both widths (an interval needs 2)
    rp_cmp logc;                  // paired t on log(act) − log(swiglu)
    double est, lo, hi;           // exp of logc.diff, lo, hi (NAN when !logc.ok)
    rp_boot_ci boot;
    rp_verdict v;                 // PowLU only, against the paper's ratio
} rp_e1ratio;

// E1 where PowLU's bounded regime is reached: the E2 ladders' control runs (not FP8) at one lr, where both
// PowLU and SwiGLU ran stably (shown beside the verdict, not used by it: 120-step runs above the
// tuned learning rates).
typedef struct {
    double lr;
    rp_zsum z;                    // PowLU's control runs at this lr
    rp_e1ratio q[2];              // RP_Q_ACT, RP_Q_GRAD: PowLU / SwiGLU, paired by seed
} rp_e1stress;

// ---- E2 ----
typedef struct {
    char act[32], recipe[24];
    long hist;            // amax history length (0: not recorded)
    rp_ladder lad;
} rp_e2group;

// ---- E3 ----
typedef struct {
    char act[32];
    int n, best, edge;                     // best: index of the lowest val loss; edge: best is an end of the grid
    double lr[RP_MAX_LRS], val[RP_MAX_LRS];   // lr ascending
} rp_tune;
typedef struct {
    const char *poly, *base;
    int n_pairs;          // seeds with both losses (an interval needs 2)
    rp_cmp c;             // paired by seed: poly − base of the final validation loss
    double mde;           // smallest difference this design detects (RP_ALPHA, RP_POWER)
    double paper;         // PolyCom 1B train-loss difference
    int seeds_needed;     // seeds for the paper's difference to be the MDE at this sd (0: n/a, -1: > 1000)
    rp_verdict v;
} rp_e3pair;

// x − base of the final validation loss, paired by seed over the runs `pick` takes (pick's m is
// NAN): the t interval, the MDE, the seeds the paper's difference `paper` would need, and
// rp_verdict_e3's verdict against it. Shared by E3 and E6.
typedef int (*rp_seed_pick)(const rp_run *r, const char *act, double m);
rp_e3pair rp_pair_val(const rp_sweep *s, rp_seed_pick pick, const char *x, const char *base, double paper);

// ---- E4 ----
typedef struct {
    double m;
    rp_stat val;
    int n_pairs;    // seeds shared with m = 3
    rp_cmp c;       // paired by seed: m − 3 (not ok for m = 3 itself)
    rp_tost t;      // against RP_E4_MARGIN
    rp_verdict v;
} rp_e4m;

// ---- E5 ----
typedef struct {
    char act[32];
    int n;                               // distinct sizes, N ascending
    double N[RP_MAX_POINTS], L[RP_MAX_POINTS], sd[RP_MAX_POINTS], tokens[RP_MAX_POINTS];
    int seeds[RP_MAX_POINTS];
    double loss[RP_MAX_POINTS][RP_MAX_SEEDS];
    rp_fit fit;
} rp_e5act;

// ---- E6: E1, E2 and E3 with an MoE FFN (report_analyze_e6.c) ----
#define RP_E6_MAX_ACTS 4
typedef struct {
    int n_runs;                 // finished E6 runs
    int n_lowp;                 // of them outside the E6 ladders in FP8 or a 4-bit format: not judged
    long experts, top_k, shared;   // the MoE FFN of the first E6 run (0: none)
    int n_val;
    rp_actval val[RP_E6_MAX_ACTS];  // final validation loss per activation
    // E6-E3: against SwiGLU, paired by seed (computed when both activations have E6 runs).
    int has_polynorm, has_powlu;
    rp_e3pair polynorm;         // polynorm − swiglu: rp_verdict_e3 against PolyCom's MoE difference
    rp_e3pair powlu;            // powlu − swiglu: its verdict is the TOST's (the claim is "competitive")
    rp_tost powlu_tost;         // against RP_E4_MARGIN
    // E6-E1: the experts' down-projection inputs.
    int n_e1;
    rp_e1act e1[RP_E6_MAX_ACTS];
    int e1_has_powlu;           // ratios computed (needs swiglu too)
    rp_e1ratio e1_powlu[2];     // PowLU / SwiGLU: [0] routed experts (RP_Q_MOE), [1] shared (RP_Q_MOE_SHARED)
    rp_verdict e1_v;            // both parts that were logged
    // E6-E2: the FP8 ladders with their bf16/fp32 controls (runs tagged E6.E2.*), E2's rule.
    int n_e2_runs;
    rp_ladder e2_powlu, e2_swiglu;
    rp_verdict e2_v;
    const char *e2_why;         // rp_verdict_e2's deciding phrase (static storage)
} rp_e6;
int rp_pick_e6(const rp_run *r, const void *unused);   // finished E6 runs in fp32/bf16, not of the ladders
void rp_analyze_e6(const rp_sweep *s, int n_boot, rp_e6 *out);
const rp_actval *rp_find_e6_val(const rp_e6 *e, const char *act);

typedef struct {
    int n_boot;   // bootstrap resamples (E1's ratio of means, E5's fits)
    // E3 and the curves: the E3 runs, or all fp32 non-tuning runs when the sweep has no E3 run.
    int e3_tagged;
    int n_val;
    rp_actval val[RP_MAX_ACTS];
    int n_e1;
    rp_e1act e1[RP_MAX_ACTS];
    int e1_has_powlu, e1_has_clip;        // ratios computed (needs swiglu too)
    rp_e1ratio e1_powlu[RP_NQ], e1_clip[RP_NQ];
    rp_verdict e1_v;                      // on RP_Q_ACT and RP_Q_GRAD of PowLU
    int n_e1_stress;
    rp_e1stress e1_stress[RP_MAX_LRS];    // lr ascending
    int e1_stress_best;                   // the one the verdict line quotes (most pairs, then highest lr); -1
    int n_e2;
    rp_e2group e2[RP_MAX_GROUPS];
    int n_tune;
    rp_tune tune[RP_MAX_ACTS];
    int n_e3;
    rp_e3pair e3[6];
    rp_verdict e3_v;
    rp_e3pair gelu_relu;                  // shown: the paper has GELU below ReLU, we had the reverse
    int n_e4;
    rp_e4m e4[RP_MAX_POINTS];
    rp_verdict e4_v;
    int n_e5;
    rp_e5act e5[RP_MAX_ACTS];
    int e5_design_ok, e5_boot_ok;
    rp_fit_boot e5_boot;                  // powlu (1) and swiglu (2)
    rp_verdict e5_v;
    rp_e6 e6;
} rp_analysis;

void rp_analyze(const rp_sweep *s, rp_analysis *a);   // with RP_BOOT_N bootstrap resamples
void rp_analyze_n(const rp_sweep *s, rp_analysis *a, int n_boot);
// The parts (report_analyze_e12.c, report_analyze_e345.c).
void rp_analyze_e1(const rp_sweep *s, rp_analysis *a);
void rp_analyze_e1_stress(const rp_sweep *s, rp_analysis *a);   // (called by rp_analyze_e1)
// E1's numbers for any set of runs (shared with E6): one activation's late band widths per seed
// over the runs `pick` takes, and act / swiglu of quantity q paired by seed (verdict left
// inconclusive: each claim sets its own).
void rp_e1_act(const rp_sweep *s, const char *act, rp_pick pick, const void *ctx, rp_e1act *e);
rp_e1ratio rp_e1_ratio(const rp_e1act *x, const rp_e1act *sw, int q, int n_boot, uint64_t seed);
void rp_analyze_e2(const rp_sweep *s, rp_analysis *a);
// A ladder's rung at lr, added (empty) if new; NULL when the ladder is full. Shared by E2 and E7.
rp_rung *rp_rung_at(rp_ladder *l, double lr);
// Run r at its lr's rung: an FP8 (treatment) run, or with control 1 a control run. E2 and E6.
void rp_ladder_add(rp_ladder *l, const rp_run *r, int control);
int rp_rung_by_lr(const void *x, const void *y);   // qsort order: lr ascending
void rp_analyze_e3(const rp_sweep *s, rp_analysis *a);
void rp_analyze_e4(const rp_sweep *s, rp_analysis *a);
void rp_analyze_e5(const rp_sweep *s, rp_analysis *a);
// report_analyze_e6.c: rp_analyze_e6(s, a->n_boot, &a->e6)

// Run pickers shared by the sections: ctx is the rp_analysis (or NULL where unused).
int rp_pick_main(const rp_run *r, const void *a);   // the E3/curves group
int rp_pick_e1(const rp_run *r, const void *unused);
int rp_pick_e2(const rp_run *r, const void *unused);
int rp_run_stable(const rp_run *r);                 // finished, status done, no divergence, no spikes

const rp_actval *rp_find_val(const rp_analysis *a, const char *act);
const rp_e1act *rp_find_e1(const rp_analysis *a, const char *act);
const rp_e5act *rp_find_e5(const rp_analysis *a, const char *act);
// E2: the group of (act, recipe, history), or NULL.
const rp_e2group *rp_find_e2(const rp_analysis *a, const char *act, const char *recipe, long hist);
// E2: the (recipe, history) pairs with a PowLU group, primary first (delayed, the longest history not
// the stress one), then the rest in plan order. Returns the count.
int rp_e2_recipes(const rp_analysis *a, const rp_e2group **powlu_groups, int max);
int rp_cmp_double(const void *x, const void *y);
int rp_count_pairs(const double *x, const double *y, size_t n);   // i with both x[i] and y[i] finite

#endif
