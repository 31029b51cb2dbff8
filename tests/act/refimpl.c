// refimpl.c — see refimpl.h.
#include "refimpl.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

double ref_gate(const act_spec *s, const double *p, double x) {
    double r = x > 0 ? x : 0;
    switch (s->kind) {
    case ACT_RELU:
    case ACT_REGLU: return r;
    case ACT_RELU2: return r * r;
    case ACT_GELU:
    case ACT_GEGLU: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case ACT_GELU_ERF: return 0.5 * x * erfc(-x / sqrt(2.0));
    case ACT_SILU:
    case ACT_SWIGLU: return x * sigmoid(x);
    case ACT_POWLU: return x > 0 ? pow(x, s->hp[0] / (sqrt(x) + 1.0)) * sigmoid(x) : x * sigmoid(x);
    case ACT_POWLU_SCALAR: return x > 0 ? x * pow(x, s->hp[0] / (sqrt(x) + 1.0)) * sigmoid(x) : x * x * sigmoid(x);
    case ACT_POLYRELU: return p[0] * r * r * r + p[1] * r * r + p[2] * r + p[3];
    case ACT_SWIGLU_CLIP: {
        double zc = fmin(x, (double)s->hp[0]);
        return zc * sigmoid((double)s->hp[1] * zc);
    }
    default: abort();  // PolyNorm is not elementwise
    }
}

double ref_value(const act_spec *s, double u) {
    if (s->kind != ACT_SWIGLU_CLIP) return u;
    double L = s->hp[0];
    return fmax(-L, fmin(u, L)) + 1.0;
}

static void ref_polynorm_row(const double *p, size_t d, const double *x, double *y) {
    double m[4] = {0};
    for (int q = 1; q <= 3; q++) {
        for (size_t i = 0; i < d; i++) m[q] += pow(x[i], 2 * q);
        m[q] /= (double)d;
    }
    for (size_t i = 0; i < d; i++)
        y[i] = p[0] * pow(x[i], 3) / sqrt(m[3] + 1e-6) + p[1] * x[i] * x[i] / sqrt(m[2] + 1e-6) +
               p[2] * x[i] / sqrt(m[1] + 1e-6) + p[3];
}

void ref_forward(const act_spec *s, const double *params, size_t rows, size_t cols, const double *x, const double *u,
                 double *y) {
    if (s->kind == ACT_POLYNORM) {
        for (size_t r = 0; r < rows; r++) ref_polynorm_row(params, cols, x + r * cols, y + r * cols);
        return;
    }
    for (size_t i = 0; i < rows * cols; i++) y[i] = ref_gate(s, params, x[i]) * (u ? ref_value(s, u[i]) : 1.0);
}

