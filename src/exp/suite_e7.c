// suite_e7.c — E7 of `actlab compare --full` (issue 14): does PowLU's bounded growth narrow the
// loss gap of 4-bit block-scaled pre-training to its control, or avoid its divergence, where SwiGLU's
// near-quadratic growth does not? A question the papers did not test.
//
// * Judged like E2: a learning-rate ladder (E2's coarse rungs, run length and base model), E2's
//   control (bf16) at the same activation, rate and seed, and E2's stability rule; every rung gets the
//   seeds E2's decisive rungs need (no second phase: the 4-bit boundary is not known in advance).
// * Formats: NVFP4 (NVIDIA's pre-training recipe: 1×16 / 16×16 blocks, stochastic rounding of the
//   gradients, 16×16 random Hadamard transform on the weight-gradient inputs) and MXFP4 (1×32 /
//   32×32, same placement); NVFP4 also without the transform, at seed 1 only, to see what it buys
//   (E7.norht: descriptive, below the seeds E2's rule asks for, so its verdicts stay inconclusive).
// * The control's seed-1 runs are E2.ctl's (identical configurations are one run in the plan).
// * Only in the long suite: the default suite's time is measured and budgeted (docs/sweep.md).
#include "exp/suite_json.h"

static const char *const FORMATS[] = {"nvfp4", "mxfp4"};

// The grid acts × lr × seeds 1..seeds.
static json_t *grid(const char *const *acts, int n_acts, const double *ladder, int n_ladder, int seeds) {
    json_t *g = json_object();
    json_object_set_new(g, "act", str_list(acts, n_acts));
    json_object_set_new(g, "lr", real_list(ladder, n_ladder));
    json_object_set_new(g, "seed", int_list(1, seeds));
    return g;
}

void suite_e7(json_t *exps, const char *const *acts, int n_acts, const double *ladder, int n_ladder, int seeds,
              const json_t *len) {
    json_t *g = grid(acts, n_acts, ladder, n_ladder, seeds);
    json_object_set_new(g, "precision", str_list(FORMATS, 2));
    add_exp(exps, "E7", g, json_deep_copy(len));

    g = grid(acts, n_acts, ladder, n_ladder, 1);  // descriptive: one seed (4-bit runs cost ~3.5 bf16 runs)
    json_t *s = json_deep_copy(len);
    json_object_set_new(s, "precision", json_string("nvfp4"));
    json_object_set_new(s, "rht", json_integer(0));
    add_exp(exps, "E7.norht", g, s);

    // The control is E2's (len's precision, bf16 in the suite): its seed-1 runs are E2.ctl's.
    add_exp(exps, "E7.ctl", grid(acts, n_acts, ladder, n_ladder, seeds), json_deep_copy(len));
}
