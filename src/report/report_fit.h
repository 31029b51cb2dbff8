// report_fit.h — the E5 scaling-law fit L(N) = A·N^(−α) + E by nonlinear least squares.
#ifndef ACTLAB_REPORT_FIT_H
#define ACTLAB_REPORT_FIT_H

typedef struct {
    int ok;                   // 0: not fitted (too few points, or degenerate)
    int n;                    // points used
    double A, alpha, E;
    double sA, salpha, sE;    // standard errors from s²(JᵀJ)⁻¹, s² = RSS/(n−3); NAN when n <= 3
    double rss;
    int edge;                 // α ended at the edge of the searched range: no power-law curvature in
                              // the points, so A and E trade off freely and the fit is not to be trusted
} rp_fit;

// Profiles α over a fine grid (A and E by linear least squares for each α), refines α by golden
// section, then all three by Gauss-Newton. Needs n >= 3 distinct N > 0 (the report asks for 4).
// Returns f->ok.
int rp_fit_power(const double *N, const double *L, int n, rp_fit *f);
double rp_fit_eval(const rp_fit *f, double N);

#endif
