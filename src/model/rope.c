// rope.c — rotary position embedding, "rotate-half" convention (as in Hugging Face Llama):
// within a head of D values, element i < D/2 pairs with i + D/2 and both rotate by the angle
// t · theta^(−2i/D) of position t:
//   y[i]       = x[i]·cos − x[i+D/2]·sin
//   y[i+D/2]   = x[i+D/2]·cos + x[i]·sin
#include "layers.h"

#include <math.h>

// cos_t, sin_t: (max_T, D/2); angles in double so long positions keep their precision.
void rope_table(float *cos_t, float *sin_t, int max_T, int D, float theta) {
    int half = D / 2;
    for (int t = 0; t < max_T; t++)
        for (int i = 0; i < half; i++) {
            double ang = (double)t * pow((double)theta, -2.0 * i / (double)D);
            cos_t[(size_t)t * half + i] = (float)cos(ang);
            sin_t[(size_t)t * half + i] = (float)sin(ang);
        }
}

// sign = +1 rotates forward, −1 applies the transpose (the backward of a rotation).
static void rope_apply(float *x, int B, int T, int n_heads, int D, int ld, const float *cos_t,
                       const float *sin_t, float sign) {
    int half = D / 2;
#pragma omp parallel for schedule(static) if ((size_t)B * T * n_heads * D >= PAR_MIN)
    for (int row = 0; row < B * T; row++) {
        int t = row % T;
        for (int h = 0; h < n_heads; h++) {
            float *a = x + (size_t)row * ld + (size_t)h * D;
            rope_rotate(a, a, D, cos_t + (size_t)t * half, sin_t + (size_t)t * half, sign);
        }
    }
}

// x: (B,T) rows of stride ld with n_heads heads of D from column 0, in place
void rope_forward(float *x, int B, int T, int n_heads, int D, int ld, const float *cos_t, const float *sin_t) {
    rope_apply(x, B, T, n_heads, D, ld, cos_t, sin_t, 1.0f);
}

// dx: same layout, in place: dx ← Rᵀ·dy
void rope_backward(float *dx, int B, int T, int n_heads, int D, int ld, const float *cos_t, const float *sin_t) {
    rope_apply(dx, B, T, n_heads, D, ld, cos_t, sin_t, -1.0f);
}
