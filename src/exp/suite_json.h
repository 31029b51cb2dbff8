// suite_json.h — (internal to the suite: suite.c, suite_e7.c) the JSON building blocks of a spec.
#ifndef ACTLAB_EXP_SUITE_JSON_H
#define ACTLAB_EXP_SUITE_JSON_H

#include <jansson.h>

json_t *int_list(int from, int to);                  // [from, ..., to]
json_t *real_list(const double *v, int n);
json_t *str_list(const char *const *v, int n);
// Appends {"id", "grid", "set"} to exps (takes the references of grid and set; set may be NULL).
void add_exp(json_t *exps, const char *id, json_t *grid, json_t *set);
// E7 (suite_e7.c): acts × 4-bit formats × ladder × seeds 1..seeds, NVFP4 without the Hadamard
// transform, and the bf16 control at every (act, lr, seed); run length and other keys from `len`.
void suite_e7(json_t *exps, const char *const *acts, int n_acts, const double *ladder, int n_ladder, int seeds,
              const json_t *len);

#endif
