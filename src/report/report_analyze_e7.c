// report_analyze_e7.c — E7's numbers (report_e7.h): the 4-bit ladders with their fp32/bf16 controls,
// the loss gaps to the control and the down-projection input's block telemetry.
#include "report/report_e7.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rp_pick_e7(const rp_run *r, const void *unused) { return (void)unused, rp_in_exp(r, 7); }

const rp_e7group *rp_find_e7(const rp_e7 *e, const char *act, const char *fmt, long rht) {
    for (int k = 0; k < e->n; k++)
        if (!strcmp(e->g[k].act, act) && !strcmp(e->g[k].fmt, fmt) && e->g[k].rht == rht) return &e->g[k];
    return NULL;
}

static rp_e7group *group_of(rp_e7 *e, const rp_run *r) {
    rp_e7group *g = (rp_e7group *)rp_find_e7(e, r->act, r->precision, r->rht);
    if (g || e->n == RP_E7_MAX_GROUPS) return g;
    g = &e->g[e->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->act, sizeof g->act, "%s", r->act);
    snprintf(g->fmt, sizeof g->fmt, "%s", r->precision);
    g->rht = r->rht;
    return g;
}

// The stable control (fp32 or bf16) E7 run of (act, lr, seed), or NULL.
static const rp_run *control_of(const rp_sweep *s, const rp_run *r) {
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *c = &s->runs[i];
        if (rp_pick_e7(c, NULL) && (!strcmp(c->precision, "bf16") || !strcmp(c->precision, "fp32")) && !strcmp(c->act, r->act) && c->lr == r->lr &&
            c->seed == r->seed && rp_run_stable(c))
            return c;
    }
    return NULL;
}

static void add_treatment(const rp_sweep *s, rp_e7group *g, const rp_run *r, double blk[5]) {
    rp_rung *u = rp_rung_at(&g->lad, r->lr);
    if (!u) return;
    u->n++;
    u->unstable += !rp_run_stable(r);
    if (r->has_down) {
        if (isnan(u->down_n)) u->down_n = u->down_sat = u->down_ftz = 0;
        u->down_n += r->down_n, u->down_sat += r->down_sat, u->down_ftz += r->down_ftz;
    }
    if (r->has_down_blk) {
        blk[0] += r->down_blocks, blk[1] += r->down_outlier, blk[2] += r->down_bn;
        blk[3] += r->down_zero, blk[4] += r->down_bsat, g->rel_err += r->down_err;
    }
    const rp_run *c = rp_run_stable(r) ? control_of(s, r) : NULL;
    if (c && g->n_gap < RP_E7_MAX_GAPS && isfinite(r->final_val) && isfinite(c->final_val)) {
        g->gap_lr[g->n_gap] = r->lr, g->gap_seed[g->n_gap] = (double)r->seed;
        g->gap[g->n_gap++] = r->final_val - c->final_val;
    }
}

void rp_analyze_e7(const rp_sweep *s, rp_e7 *out) {
    memset(out, 0, sizeof *out);
    double blk[RP_E7_MAX_GROUPS][5] = {{0}};
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_pick_e7(r, NULL) || !rp_is_4bit(r)) continue;
        rp_e7group *g = group_of(out, r);
        if (g) add_treatment(s, g, r, blk[g - out->g]);
    }
    // Controls: the bf16 E7 runs of the same activation and lr, in every format's ladder.
    for (size_t i = 0; i < s->n; i++) {
        const rp_run *r = &s->runs[i];
        if (!rp_pick_e7(r, NULL) || strcmp(r->precision, "bf16")) continue;
        for (int k = 0; k < out->n; k++) {
            if (strcmp(out->g[k].act, r->act)) continue;
            rp_rung *u = rp_rung_at(&out->g[k].lad, r->lr);
            if (u) u->ctl_n++, u->ctl_unstable += !rp_run_stable(r);
        }
    }
    for (int k = 0; k < out->n; k++) {
        rp_e7group *g = &out->g[k];
        qsort(g->lad.r, (size_t)g->lad.n, sizeof(rp_rung), rp_rung_by_lr);
        g->gap_stat = rp_stat_of(g->gap, (size_t)g->n_gap);
        double *b = blk[k];
        g->outlier_frac = b[0] > 0 ? b[1] / b[0] : NAN;
        g->zero_frac = b[2] > 0 ? b[3] / b[2] : NAN;
        g->sat_frac = b[2] > 0 ? b[4] / b[2] : NAN;
        g->rel_err = b[2] > 0 ? g->rel_err / b[2] : NAN;
    }
}

rp_e7gap rp_e7_gap_cmp(const rp_e7group *powlu, const rp_e7group *base) {
    double a[RP_E7_MAX_GAPS], b[RP_E7_MAX_GAPS];
    size_t n = 0;
    for (int i = 0; i < powlu->n_gap; i++)
        for (int j = 0; j < base->n_gap; j++)
            if (powlu->gap_lr[i] == base->gap_lr[j] && powlu->gap_seed[i] == base->gap_seed[j]) {
                a[n] = powlu->gap[i], b[n++] = base->gap[j];
                break;
            }
    rp_e7gap g;
    g.n_pairs = (int)n;
    g.c = rp_cmp_paired(a, b, n, RP_LEVEL);
    g.v = rp_verdict_e7_gap(g.c.ok, g.c.lo, g.c.hi);
    return g;
}

rp_verdict rp_verdict_e7_gap(int ok, double lo, double hi) {
    if (!ok || !isfinite(lo) || !isfinite(hi) || lo > hi) return RP_INCONCLUSIVE;
    if (hi < 0) return RP_REPRODUCED;
    if (lo > 0 || (lo > -RP_E7_MARGIN && hi < RP_E7_MARGIN)) return RP_NOT_REPRODUCED;
    return RP_INCONCLUSIVE;
}
