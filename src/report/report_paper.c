// report_paper.c — the papers' numbers that the report sets beside ours. Facts from the papers, as
// quoted in /work/shared/spec/EXPERIMENTS.md. They were measured at a far larger scale than any
// sweep here, so the report only ever shows them as DIFFERENCES to SwiGLU (or to m = 3), never
// beside our absolute losses as if comparable.
#include "report/report_paper.h"

#include <math.h>
#include <string.h>

// PolyCom (Zhuo et al., 2025), 1B dense, 250B tokens, read off the figure: train loss, val PPL.
static const struct {
    const char *act;
    double train_loss, val_ppl;
} POLYCOM_1B[] = {
    {"swiglu", 2.190, 3.193}, {"gelu", 2.209, 3.223}, {"relu", 2.216, 3.240},
    {"polyrelu", 2.178, 3.161}, {"polynorm", 2.171, 3.150},
};

// PolyCom's MoE (OLMoE-style, 1B active / 7B total, 64 experts top-8): train loss.
#define POLYCOM_MOE_SWIGLU 2.355
#define POLYCOM_MOE_POLYNORM 2.341

// PowLU (Ling Team, 2026), m ablation: 47M activated parameters, 29.8B tokens, final loss.
#define POWLU_ABLATION_SWIGLU 1.910
static const struct {
    double m, loss;
} POWLU_M_ABLATION[] = {{2, 1.913}, {3, 1.912}, {4, 1.914}};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int polycom_index(const char *act) {
    for (size_t i = 0; i < N_OF(POLYCOM_1B); i++)
        if (!strcmp(POLYCOM_1B[i].act, act)) return (int)i;
    return -1;
}

double rp_paper_polycom_train(const char *act) {
    int i = polycom_index(act);
    return i < 0 ? NAN : POLYCOM_1B[i].train_loss;
}

double rp_paper_polycom_train_diff(const char *act) {
    int i = polycom_index(act);
    return i < 0 ? NAN : POLYCOM_1B[i].train_loss - POLYCOM_1B[0].train_loss;
}

double rp_paper_polycom_ppl(const char *act) {
    int i = polycom_index(act);
    return i < 0 ? NAN : POLYCOM_1B[i].val_ppl;
}

double rp_paper_polycom_ppl_swiglu(void) { return POLYCOM_1B[0].val_ppl; }

double rp_paper_powlu_m_loss(double m) {
    for (size_t i = 0; i < N_OF(POWLU_M_ABLATION); i++)
        if (POWLU_M_ABLATION[i].m == m) return POWLU_M_ABLATION[i].loss;
    return NAN;
}

double rp_paper_powlu_m_swiglu(void) { return POWLU_ABLATION_SWIGLU; }

double rp_paper_polycom_moe_train_diff(const char *act) {
    return !strcmp(act, "polynorm") ? POLYCOM_MOE_POLYNORM - POLYCOM_MOE_SWIGLU : !strcmp(act, "swiglu") ? 0 : NAN;
}

void rp_md_paper_scale(rp_buf *md) {
    rp_puts(md, "The papers trained far larger models on far more data: PolyCom 1B dense parameters on 250B "
                "tokens; PowLU 26M-368M activated parameters (MoE) for its scaling laws, 47M activated on 29.8B "
                "tokens for the m ablation, and its FP8 spikes appeared only after about 76,000 steps.");
}
