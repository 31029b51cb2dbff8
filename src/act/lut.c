// lut.c — see lut.h: the tables, one per activation and hyperparameter setting, cached; and the
// non-gated table kernels (kernels.h).
#include "lut.h"

#include "kernels.h"

#include "util/check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// A sweep over PowLU's m or SwiGLU-Clip's limits makes one table per value; past this many the
// kernels compute instead (16 MiB of tables at most).
enum { LUT_MAX = 16 };

typedef struct {
    act_kind kind;
    float hp[ACT_MAX_HYPER];
    float *tab;
} lut_entry;

static lut_entry g_lut[LUT_MAX];
static int g_n_lut;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static float *lut_build(const act_spec *s, lut_fill_fn fill) {
    float *tab = xaligned(sizeof(float) * 4 * LUT_SIZE), *z = xaligned(sizeof(float) * LUT_SIZE);
    float *df = tab + LUT_SIZE, *pairs = tab + 2 * LUT_SIZE;
    for (uint32_t c = 0; c < LUT_SIZE; c++) z[c] = num_bf16_to_f32((uint16_t)c);
    fill(z, tab, df, LUT_SIZE, s->hp);
    for (uint32_t c = 0; c < LUT_SIZE; c++) pairs[2 * c] = tab[c], pairs[2 * c + 1] = df[c];
    free(z);
    return tab;
}

const float *act_lut(const act_spec *s, lut_fill_fn fill) {
    const float *found = NULL;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_n_lut && !found; i++)
        if (g_lut[i].kind == s->kind && !memcmp(g_lut[i].hp, s->hp, sizeof s->hp)) found = g_lut[i].tab;
    if (!found && g_n_lut < LUT_MAX) {
        lut_entry *e = &g_lut[g_n_lut];
        e->kind = s->kind;
        memcpy(e->hp, s->hp, sizeof e->hp);
        found = e->tab = lut_build(s, fill);
        g_n_lut++;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

void lut_plain_fwd(const uint16_t *restrict x, const uint16_t *restrict u, uint16_t *restrict y, size_t n,
                   const float *hp, const float *restrict tab) {
    (void)u, (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = num_f32_to_bf16(tab[x[i]]);
}

void lut_plain_bwd(const uint16_t *restrict x, const uint16_t *restrict u, const uint16_t *restrict dy,
                   uint16_t *restrict dx, uint16_t *restrict du, size_t n, const float *hp, const float *restrict tab) {
    (void)u, (void)du, (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) dx[i] = num_f32_to_bf16(num_bf16_to_f32(dy[i]) * tab[LUT_SIZE + x[i]]);
}
