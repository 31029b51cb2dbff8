// rp_md.h — the markdown sections of report.md; each appends to ctx->md.
#ifndef ACTLAB_REPORT_RP_MD_H
#define ACTLAB_REPORT_RP_MD_H

#include "report/report_analyze.h"
#include "report/report_paper.h"
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

void rp_md_overview(rp_ctx *c);    // 1
void rp_md_curves(rp_ctx *c);      // 2
void rp_md_valtable(rp_ctx *c);    // 3
void rp_md_e1(rp_ctx *c);          // 4
void rp_md_e2(rp_ctx *c);          // 5
void rp_md_e3(rp_ctx *c);          // 6
void rp_md_e4(rp_ctx *c);          // 7
void rp_md_e5(rp_ctx *c);          // 8
void rp_md_verdicts(rp_ctx *c);    // 9
void rp_md_e6(rp_ctx *c);          // 10, only with E6 runs (report_md_e6.c)
void rp_md_e7(rp_ctx *c);          // 11, only with E7 runs (report_md_e7.c)

// The gate pre-activation z: a table header (first column titled `first`), one row, and the
// sentence saying whether z > 4 and z > 12.9 were reached (report_md_e1.c).
void rp_md_z_header(rp_buf *md, const char *first);
void rp_md_z_row(rp_buf *md, const char *label, const rp_zsum *z);
void rp_md_z_sentence(rp_buf *md, const char *what, const rp_zsum *z);
// E1's ratio table (report_md_e1.c, shared with E6): its header, and one row of act / swiglu of
// quantity q with the paper's ratio and, when it decides a claim, its verdict.
void rp_md_e1_ratio_header(rp_buf *md);
void rp_md_e1_ratio_row(rp_buf *md, const char *act, int q, const rp_e1ratio *r, int decides);
// E3's table of paired differences (report_md_e3.c, shared with E6): header and one row.
void rp_md_e3_pair_header(rp_buf *md);
void rp_md_e3_pair_row(rp_buf *md, const rp_e3pair *p);
// E2 (report_md_e2.c): a ladder's FP8 limit as text; PowLU's group against each baseline of its
// recipe (SwiGLU, SwiGLU-Clip, those that exist): returns how many, with their verdicts and reasons.
void rp_md_e2_limit(char out[64], const rp_ladder *l, const rp_ladder_sum *s);
int rp_e2_recipe_verdicts(const rp_analysis *a, const rp_e2group *powlu, rp_verdict v[2], const char *why[2],
                          const rp_e2group *base[2]);
// E2's rung and limit tables (shared with E6): the header, then one ladder's rows.
void rp_md_e2_rung_header(rp_ctx *c);
void rp_md_e2_rung_rows(rp_ctx *c, const char *act, const char *recipe, long hist, const rp_ladder *l);
void rp_md_e2_limit_header(rp_ctx *c);
void rp_md_e2_limit_row(rp_ctx *c, const char *act, const char *recipe, long hist, const rp_ladder *l);

#endif
