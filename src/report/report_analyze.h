// report_analyze.h — the numbers of every section, computed once from the loaded sweep, so the
// sections and the verdicts print the very same values.
#ifndef ACTLAB_REPORT_ANALYZE_H
#define ACTLAB_REPORT_ANALYZE_H

#include "report/report_fit.h"
#include "report/report_verdict.h"
#include "report/rp.h"

#define RP_MAX_ACTS 16
#define RP_MAX_GROUPS 64
#define RP_MAX_POINTS 64

typedef struct {
    char act[32];
    rp_stat val;   // final validation loss over seeds
} rp_actval;

typedef struct {
    char act[32];
    int n_runs;
    double late[RP_NT][2];   // [tensor][0: amax, 1: max(|P1|,|P99|)], mean over late steps and runs
    double late_grad;        // the same for max(grad_up amax, grad_gate amax)
} rp_e1act;

typedef struct {
    char act[32], recipe[24];
    rp_ladder lad;
} rp_e2group;

typedef struct {
    double m;
    rp_stat val;
} rp_e4m;

typedef struct {
    char act[32];
    int n;                               // distinct sizes
    double N[RP_MAX_POINTS], L[RP_MAX_POINTS];
    int seeds[RP_MAX_POINTS];
    rp_fit fit;
} rp_e5act;

typedef struct {
    // E3 and the curves: the E3 runs, or all fp32 runs when the sweep has no E3 run.
    int e3_tagged;
    int n_val;
    rp_actval val[RP_MAX_ACTS];
    int n_e1;
    rp_e1act e1[RP_MAX_ACTS];
    int n_e2;
    rp_e2group e2[RP_MAX_GROUPS];
    int n_e4;
    rp_e4m e4[RP_MAX_POINTS];
    int n_e5;
    rp_e5act e5[RP_MAX_ACTS];
} rp_analysis;

void rp_analyze(const rp_sweep *s, rp_analysis *a);

// Run pickers shared by the sections: ctx is the rp_analysis (or NULL where unused).
int rp_pick_main(const rp_run *r, const void *a);   // the E3/curves group
int rp_pick_e1(const rp_run *r, const void *unused);
int rp_pick_e2(const rp_run *r, const void *unused);
int rp_run_stable(const rp_run *r);                 // finished, status done, no divergence, no spikes

const rp_actval *rp_find_val(const rp_analysis *a, const char *act);
const rp_e1act *rp_find_e1(const rp_analysis *a, const char *act);
const rp_e5act *rp_find_e5(const rp_analysis *a, const char *act);
// E2: the (powlu, swiglu) ladders of the recipe the verdict uses ("delayed" when both have it).
int rp_e2_pair(const rp_analysis *a, const rp_e2group **powlu, const rp_e2group **swiglu);
// E5: the largest relative gap of the two fitted curves over the N range both measured.
double rp_e5_gap(const rp_e5act *powlu, const rp_e5act *swiglu, double *n_lo, double *n_hi);

#endif
