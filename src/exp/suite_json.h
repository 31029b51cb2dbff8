// suite_json.h — (internal to the suite: suite.c, suite_e6.c, suite_e7.c) the JSON building blocks of a spec.
#ifndef ACTLAB_EXP_SUITE_JSON_H
#define ACTLAB_EXP_SUITE_JSON_H

#include "model/model.h"

#include <jansson.h>

json_t *int_list(int from, int to);                  // [from, ..., to]
json_t *real_list(const double *v, int n);
json_t *str_list(const char *const *v, int n);
// Appends {"id", "grid", "set"} to exps (takes the references of grid and set; set may be NULL).
void add_exp(json_t *exps, const char *id, json_t *grid, json_t *set);
// E6 (suite_e6.c): E6's MoE FFN for activation act on the base model, into a run's set; and the
// experiments E6.<act> of suite_e6_acts at lr[i] (their tuned dense rates), seeds 1..seeds.
void suite_e6_moe(json_t *set, const model_config *base, const char *act);
void suite_e6(json_t *exps, const model_config *base, const double *lr, int seeds);
// E6-E2: E6.E2.<act> (FP8, the set fp8) and E6.E2.<act>.ctl (the control, the set ctl) for swiglu and
// powlu on the whole ladder, seeds 1..seeds at every rung, each set with E6's MoE FFN added.
void suite_e6_e2(json_t *exps, const model_config *base, const double *ladder, int n_ladder, int seeds,
                 const json_t *fp8, const json_t *ctl);
// E7 (suite_e7.c): acts × 4-bit formats × ladder × seeds 1..seeds, NVFP4 without the Hadamard
// transform, and the bf16 control at every (act, lr, seed); run length and other keys from `len`.
void suite_e7(json_t *exps, const char *const *acts, int n_acts, const double *ladder, int n_ladder, int seeds,
              const json_t *len);

#endif
