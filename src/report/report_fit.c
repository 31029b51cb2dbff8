// report_fit.c — see report_fit.h. Internally N is scaled by its geometric mean (x = N/Nref), so the
// amplitude a = A·Nref^(−α) stays of the order of the losses and JᵀJ stays well conditioned.
#include "report/report_fit.h"

#include <math.h>
#include <string.h>

#define ALPHA_LO 1e-3
#define ALPHA_HI 3.0
#define ALPHA_GRID 3000
#define GN_ITERS 100

typedef struct {
    const double *x, *L;
    int n;
} pts;

// Linear least squares for (a, E) at fixed α; returns the residual sum of squares (INFINITY when
// x^-α does not vary).
static double solve_linear(const pts *p, double alpha, double *a, double *E) {
    double mu = 0, ml = 0;
    for (int i = 0; i < p->n; i++) mu += pow(p->x[i], -alpha), ml += p->L[i];
    mu /= p->n, ml /= p->n;
    double suu = 0, sul = 0;
    for (int i = 0; i < p->n; i++) {
        double du = pow(p->x[i], -alpha) - mu;
        suu += du * du, sul += du * (p->L[i] - ml);
    }
    if (!(suu > 1e-300)) return INFINITY;
    *a = sul / suu, *E = ml - *a * mu;
    double rss = 0;
    for (int i = 0; i < p->n; i++) {
        double r = p->L[i] - (*a * pow(p->x[i], -alpha) + *E);
        rss += r * r;
    }
    return rss;
}

static double profile(const pts *p, double alpha) {
    double a, E;
    return solve_linear(p, alpha, &a, &E);
}

static double golden(const pts *p, double lo, double hi) {
    const double g = 0.6180339887498949;
    double c = hi - g * (hi - lo), d = lo + g * (hi - lo), fc = profile(p, c), fd = profile(p, d);
    for (int it = 0; it < 200 && hi - lo > 1e-12; it++) {
        if (fc < fd) hi = d, d = c, fd = fc, c = hi - g * (hi - lo), fc = profile(p, c);
        else lo = c, c = d, fc = fd, d = lo + g * (hi - lo), fd = profile(p, d);
    }
    return 0.5 * (lo + hi);
}

static double rss_at(const pts *p, const double th[3]) {
    double s = 0;
    for (int i = 0; i < p->n; i++) {
        double r = p->L[i] - (th[0] * pow(p->x[i], -th[1]) + th[2]);
        s += r * r;
    }
    return s;
}

// JᵀJ and Jᵀr of the model a·x^-α + E at th = (a, α, E).
static void normal_eq(const pts *p, const double th[3], double JtJ[3][3], double Jtr[3]) {
    memset(JtJ, 0, 9 * sizeof(double));
    memset(Jtr, 0, 3 * sizeof(double));
    for (int i = 0; i < p->n; i++) {
        double u = pow(p->x[i], -th[1]);
        double J[3] = {u, -th[0] * u * log(p->x[i]), 1.0};
        double r = p->L[i] - (th[0] * u + th[2]);
        for (int j = 0; j < 3; j++) {
            Jtr[j] += J[j] * r;
            for (int k = 0; k < 3; k++) JtJ[j][k] += J[j] * J[k];
        }
    }
}

static int invert3(const double m[3][3], double inv[3][3]) {
    double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1], c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2],
           c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    double det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
    if (!(fabs(det) > 1e-300) || !isfinite(det)) return -1;
    inv[0][0] = c00 / det, inv[1][0] = c01 / det, inv[2][0] = c02 / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    return 0;
}

// Gauss-Newton with step halving: a step is taken only when it lowers the RSS.
static void gauss_newton(const pts *p, double th[3]) {
    double rss = rss_at(p, th);
    for (int it = 0; it < GN_ITERS; it++) {
        double JtJ[3][3], Jtr[3], inv[3][3];
        normal_eq(p, th, JtJ, Jtr);
        if (invert3(JtJ, inv)) return;
        double d[3];
        for (int j = 0; j < 3; j++) d[j] = inv[j][0] * Jtr[0] + inv[j][1] * Jtr[1] + inv[j][2] * Jtr[2];
        int moved = 0;
        for (double t = 1; t > 1e-6 && !moved; t *= 0.5) {
            double c[3] = {th[0] + t * d[0], th[1] + t * d[1], th[2] + t * d[2]};
            double r = rss_at(p, c);
            if (r < rss) memcpy(th, c, sizeof c), moved = rss - r > 1e-15 * rss, rss = r;
        }
        if (!moved) return;
    }
}

int rp_fit_power(const double *N, const double *L, int n, rp_fit *f) {
    memset(f, 0, sizeof *f);
    f->n = n;
    f->A = f->alpha = f->E = f->sA = f->salpha = f->sE = f->rss = NAN;
    if (n < 3 || n > 256) return 0;
    double x[256], lref = 0;
    for (int i = 0; i < n; i++) {
        if (!(N[i] > 0) || !isfinite(L[i])) return 0;
        lref += log(N[i]);
    }
    double nref = exp(lref / n);
    for (int i = 0; i < n; i++) x[i] = N[i] / nref;
    pts p = {x, L, n};
    int best = -1;
    double best_rss = INFINITY, step = (ALPHA_HI - ALPHA_LO) / ALPHA_GRID;
    for (int g = 0; g <= ALPHA_GRID; g++) {
        double r = profile(&p, ALPHA_LO + g * step);
        if (r < best_rss) best_rss = r, best = g;
    }
    if (best < 0) return 0;
    double alpha = golden(&p, fmax(ALPHA_LO, ALPHA_LO + (best - 1) * step), fmin(ALPHA_HI, ALPHA_LO + (best + 1) * step));
    double th[3];
    th[1] = alpha;
    if (!isfinite(solve_linear(&p, alpha, &th[0], &th[2]))) return 0;
    gauss_newton(&p, th);
    f->rss = rss_at(&p, th);
    double scale = pow(nref, th[1]);
    f->A = th[0] * scale, f->alpha = th[1], f->E = th[2];
    f->ok = isfinite(f->A) && isfinite(f->alpha) && isfinite(f->E);
    f->edge = !(th[1] > 2 * ALPHA_LO && th[1] < ALPHA_HI - step);
    if (n <= 3) return f->ok;
    double JtJ[3][3], Jtr[3], C[3][3];
    normal_eq(&p, th, JtJ, Jtr);
    if (invert3(JtJ, C)) return f->ok;
    double s2 = f->rss / (n - 3);
    // A = a·Nref^α: the delta method carries the (a, α) covariance over to A.
    double g[3] = {scale, th[0] * scale * log(nref), 0};
    double vA = 0;
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) vA += g[j] * C[j][k] * g[k];
    f->sA = sqrt(fmax(0, s2 * vA));
    f->salpha = sqrt(fmax(0, s2 * C[1][1]));
    f->sE = sqrt(fmax(0, s2 * C[2][2]));
    return f->ok;
}

double rp_fit_eval(const rp_fit *f, double N) { return f->A * pow(N, -f->alpha) + f->E; }
