// suite_e6.c — E6 of `actlab compare --full` (issue 11): the claims E1 and E3 again with an MoE FFN,
// as both papers measured them (PowLU in Ling's routed and shared experts, PolyCom's OLMoE-style MoE).
//
// * The model: the suite's base model with every FFN an MoE of 8 routed experts, top-2, 1 shared
//   expert, a softmax router with OLMoE's coefficients (load balancing 0.01, router z-loss 0.001).
//   Each expert is 1/(top-k + shared) of the dense FFN's width, so a token uses as many FFN
//   parameters as in the dense model (the rule of `actlab bench train --moe`, docs/moe.md); the
//   width follows the activation (gated 384/3, non-gated 576/3), as the dense FFN's does.
// * Each activation at the learning rate the dense tuning found for it (phase 1): tuning again with
//   experts would cost as much as E6 itself; the rates are ×2 apart, and what matters for fairness is
//   that each activation gets its own tuned rate by the same procedure (docs/sweep.md).
// * Seeds 1..seeds shared by every activation (paired, as E3); the base runs' length, validations and
//   telemetry (E1 reads the experts' down-projection inputs from the "moe" telemetry).
// * E6-E2: E2's coarse ladder for PowLU and SwiGLU (E2's claim) with this MoE FFN, in FP8 (E2's
//   delayed recipe, every expert with its own scales, the router f32) and the control, at E2's run
//   length. There is no third phase to refine a boundary, so every rung gets the seeds E2's rule
//   asks for at a decisive rung (RP_E2_MIN_SEEDS = 3) from the start.
#include "exp/suite.h"
#include "exp/suite_json.h"
#include "util/check.h"

#include <stdio.h>

const char *const suite_e6_acts[SUITE_N_E6] = {"swiglu", "powlu", "polynorm"};

#define E6_EXPERTS 8
#define E6_TOP_K 2
#define E6_SHARED 1
#define E6_AUX_COEF 0.01    // OLMoE
#define E6_Z_COEF 0.001     // OLMoE

int suite_e6_expert_hidden(const model_config *base, const char *act) {
    model_config c = *base;
    if (act_spec_init(&c.act, act)) die("this is a bug in actlab", "E6: unknown activation '%s'", act);
    int h = model_ffn_hidden(&c), parts = E6_TOP_K + E6_SHARED;
    // The dense widths are multiples of 64 (gated) or 96 (non-gated): a remainder means the rule broke.
    if (h % parts) die("this is a bug in actlab", "E6: FFN width %d of %s is not divisible by %d", h, act, parts);
    return h / parts;
}

void suite_e6_moe(json_t *set, const model_config *base, const char *act) {
    json_object_set_new(set, "moe_experts", json_integer(E6_EXPERTS));
    json_object_set_new(set, "moe_top_k", json_integer(E6_TOP_K));
    json_object_set_new(set, "moe_shared", json_integer(E6_SHARED));
    json_object_set_new(set, "moe_hidden", json_integer(suite_e6_expert_hidden(base, act)));
    json_object_set_new(set, "moe_router", json_string("softmax"));
    json_object_set_new(set, "moe_aux_coef", json_real(E6_AUX_COEF));
    json_object_set_new(set, "moe_z_coef", json_real(E6_Z_COEF));
}

void suite_e6(json_t *exps, const model_config *base, const double *lr, int seeds) {
    for (int i = 0; i < SUITE_N_E6; i++) {
        const char *act = suite_e6_acts[i];
        json_t *g = json_object();
        json_object_set_new(g, "seed", int_list(1, seeds));
        json_t *s = json_object();
        json_object_set_new(s, "act", json_string(act));
        json_object_set_new(s, "lr", json_real(lr[i]));
        suite_e6_moe(s, base, act);
        char id[48];
        snprintf(id, sizeof id, "E6.%s", act);
        add_exp(exps, id, g, s);
    }
}

void suite_e6_e2(json_t *exps, const model_config *base, const double *ladder, int n_ladder, int seeds,
                 const json_t *fp8, const json_t *ctl) {
    static const char *const ACTS[2] = {"swiglu", "powlu"};
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 2; c++) {
            json_t *g = json_object();
            json_object_set_new(g, "lr", real_list(ladder, n_ladder));
            json_object_set_new(g, "seed", int_list(1, seeds));
            json_t *s = json_deep_copy(c ? ctl : fp8);
            json_object_set_new(s, "act", json_string(ACTS[i]));
            suite_e6_moe(s, base, ACTS[i]);
            char id[48];
            snprintf(id, sizeof id, "E6.E2.%s%s", ACTS[i], c ? ".ctl" : "");
            add_exp(exps, id, g, s);
        }
}
