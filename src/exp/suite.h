// suite.h — the built-in experiment suite of `actlab compare`: sweep specs (docs/sweep.md) covering
// E1–E5 of ../shared/spec/EXPERIMENTS.md (and with --full E6, E7), run in two phases because the
// second depends on the first:
//   phase 1  the learning-rate tuning runs of every E3 activation ("tune"), the E5 sizes, and the E2
//            learning-rate ladders (FP8 delayed scaling, its fp32 control, and a short amax history);
//   phase 2  everything of phase 1, plus the seeded comparisons at each activation's tuned learning
//            rate (E3, E1, E4) and, around each E2 activation's FP8 boundary, a √2 rung and extra
//            seeds, and seeds for PowLU and SwiGLU at the stress rung (found from phase 1's runs by
//            suite_decide); with --full also E6 (E1/E3 with an MoE FFN at the tuned rates) and E7.
// Why the suite looks as it does is written beside the numbers in suite.c and in docs/sweep.md.
#ifndef ACTLAB_EXP_SUITE_H
#define ACTLAB_EXP_SUITE_H

#include "exp/sweep.h"
#include "model/model.h"

#include <stddef.h>

typedef enum { SUITE_QUICK, SUITE_DEFAULT, SUITE_FULL } suite_kind;
extern const char *const suite_kind_names[];  // "quick", "default", "full" (NULL-terminated)

#define SUITE_N_E3 6  // swiglu, powlu, polynorm, polyrelu, gelu, relu
#define SUITE_N_E2 3  // swiglu, swiglu_clip, powlu
extern const char *const suite_e3_acts[SUITE_N_E3];
extern const char *const suite_e2_acts[SUITE_N_E2];
#define SUITE_N_E6 3  // swiglu, powlu, polynorm: E6 (--full only; suite_e6.c)
extern const char *const suite_e6_acts[SUITE_N_E6];
// E6's expert width for an activation on the base model c: the dense FFN's width / (top-k + shared).
int suite_e6_expert_hidden(const model_config *c, const char *act);

// What phase 1 decided (suite_decide), the input of phase 2.
typedef struct {
    double lr[SUITE_N_E3];      // tuned learning rate per E3 activation (the tuning grid's best)
    int e2_stable[SUITE_N_E2];  // per E2 activation: the index of the largest coarse rung at which the
                                // FP8 run and every lower rung were stable; -1 none
    double stress_lr;           // the largest coarse rung whose controls of PowLU and SwiGLU were both
                                // stable (0: none): E1 is repeated there with seeds ("E2.stress"),
                                // because the tuned runs never reach PowLU's bounded regime (z > 12.9)
} suite_decisions;

// The suite's folder name under runs/ and its shards' folder: compare's defaults.
const char *suite_default_out(suite_kind k);
const char *suite_default_data(void);
// The tokenizer the suite's shards must come from (actlab data --tokenizer ...), for the hint.
const char *suite_tokenizer(void);

// The model of the suite's base runs (E1/E3/tuning; sizes aside) and their sequence length.
void suite_base_model(suite_kind k, model_config *c, int *seq);

// The spec text (malloc'd): phase 1 when d is NULL, else phase 2 from those decisions.
char *suite_spec(suite_kind k, const char *data_dir, const suite_decisions *d);

// Reads phase 1's finished runs in dir (plan p1, as loaded from suite_spec(k, data, NULL)) and
// decides phase 2. Returns 0, or -1 with err when a run phase 2 depends on has not finished.
int suite_decide(suite_kind k, const sweep_plan *p1, const char *dir, suite_decisions *d, char *err, size_t errlen);

#endif
