// rp_md.h — the markdown sections of report.md; each appends to ctx->md.
#ifndef ACTLAB_REPORT_RP_MD_H
#define ACTLAB_REPORT_RP_MD_H

#include "report/report_analyze.h"
#include "report/report_plot.h"

typedef struct {
    const rp_sweep *s;
    const rp_analysis *a;
    rp_plotter *pl;
    rp_buf *md;
    char acts[RP_MAX_ACTS][32];   // every activation in plan order: its index is its colour
    int n_acts;
} rp_ctx;

int rp_color(const rp_ctx *c, const char *act);
// "n/a" for a non-finite value, else v printed with fmt (into buf).
const char *rp_f(char buf[48], const char *fmt, double v);
// The image line for a drawn figure, or a line saying why it is missing.
void rp_md_figure(rp_ctx *c, int drawn, const char *name, const char *caption);
void rp_md_no_runs(rp_ctx *c);

// The papers' numbers (report_paper.c). NAN when the paper has no such number.
double rp_paper_polycom_train_diff(const char *act);   // train loss − SwiGLU's, PolyCom 1B dense
double rp_paper_polycom_ppl(const char *act);          // validation perplexity, PolyCom 1B dense
double rp_paper_polycom_ppl_swiglu(void);
double rp_paper_powlu_m_loss(double m);                // final loss of PowLU with this m (47M activated)
double rp_paper_powlu_m_swiglu(void);                  // SwiGLU's final loss in that ablation
void rp_md_paper_scale(rp_buf *md);                    // one sentence: the papers' scale

void rp_md_overview(rp_ctx *c);    // 1
void rp_md_curves(rp_ctx *c);      // 2
void rp_md_valtable(rp_ctx *c);    // 3
void rp_md_e1(rp_ctx *c);          // 4
void rp_md_e2(rp_ctx *c);          // 5
void rp_md_e4(rp_ctx *c);          // 6
void rp_md_e5(rp_ctx *c);          // 7
void rp_md_verdicts(rp_ctx *c);    // 8

#endif
