// report_paper.h — the papers' numbers (report_paper.c). NAN when the paper has no such number.
#ifndef ACTLAB_REPORT_PAPER_H
#define ACTLAB_REPORT_PAPER_H

#include "report/rp.h"

double rp_paper_polycom_train(const char *act);        // train loss, PolyCom 1B dense, 250B tokens
double rp_paper_polycom_train_diff(const char *act);   // train loss − SwiGLU's, PolyCom 1B dense
double rp_paper_polycom_ppl(const char *act);          // validation perplexity, PolyCom 1B dense
double rp_paper_polycom_ppl_swiglu(void);
double rp_paper_powlu_m_loss(double m);                // final loss of PowLU with this m (47M activated)
double rp_paper_powlu_m_swiglu(void);                  // SwiGLU's final loss in that ablation
// train loss − SwiGLU's in PolyCom's MoE (OLMoE-style, 1B active / 7B total; polynorm only)
double rp_paper_polycom_moe_train_diff(const char *act);
void rp_md_paper_scale(rp_buf *md);                    // one sentence: the papers' scale

#endif
