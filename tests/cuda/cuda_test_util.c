// cuda_test_util.c — see cuda_test_util.h.
#include "test_seed.h"
#include "cuda_test_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int cmp_arrays(const char *what, const char *act, const char *variant, double rtol, double arel,
               const float *ref, const float *got, size_t n, const float *in) {
    double ss = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(ref[i])) ss += (double)ref[i] * ref[i], cnt++;
    const double rms = cnt ? sqrt(ss / (double)cnt) : 0.0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float r = ref[i], g = got[i];
        int ok;
        if (isnan(r) || isnan(g)) ok = isnan(r) && isnan(g);
        else if (isinf(r) || isinf(g)) ok = r == g;
        else ok = fabs((double)g - r) <= rtol * fabs(r) + arel * rms + 1e-37;
        if (!ok && bad++ < 5)
            printf("  %s %s %s: [%zu] input %.9g: got %.9g, reference %.9g\n", act, variant, what, i,
                   in ? in[i] : 0.0f, g, r);
    }
    return bad;
}

const float cuda_test_edge[] = {
    NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, FLT_MIN, -FLT_MIN, 1e-30f, 1e-20f, 1e-10f,
    1e-3f, -1e-3f, 0.5f, 1.0f, -1.0f, 2.0f, 7.0f, -7.0f, 7.0001f, -7.0001f, 12.9f, 30.0f, -30.0f, 50.0f, 100.0f,
    1e4f, -1e4f, 1e10f, 1e20f, 1e30f, 3e38f, -3e38f, -1e30f, -200.0f, -200.5f, -104.0f, -88.0f, -50.0f, -5.0f};
const size_t cuda_test_n_edge = sizeof cuda_test_edge / sizeof cuda_test_edge[0];

uint64_t cuda_test_seed(rng_t *r) {
    uint64_t seed = test_seed("cuda");
    rng_seed(r, seed);
    return seed;
}
