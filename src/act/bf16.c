// bf16.c — array conversions between f32 and bf16 (round to nearest even, NaN kept quiet).
#include "actlab.h"

void num_f32_to_bf16_array(const float *src, uint16_t *dst, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) dst[i] = num_f32_to_bf16(src[i]);
}

void num_bf16_to_f32_array(const uint16_t *src, float *dst, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) dst[i] = num_bf16_to_f32(src[i]);
}
