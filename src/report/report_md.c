// report_md.c — shared markdown helpers and sections 1-3: runs overview, loss curves,
// validation-loss table. Numbers use fixed formats so identical runs give identical bytes.
#include "report/rp_md.h"
#include "util/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rp_color(const rp_ctx *c, const char *act) {
    for (int k = 0; k < c->n_acts; k++)
        if (!strcmp(c->acts[k], act)) return k;
    return c->n_acts;
}

const char *rp_f(char buf[48], const char *fmt, double v) {
    if (!isfinite(v)) return "n/a";
    snprintf(buf, 48, fmt, v);
    return buf;
}

void rp_md_figure(rp_ctx *c, int drawn, const char *name, const char *caption) {
    if (drawn) rp_printf(c->md, "![%s](figures/%s.svg)\n\n", caption, name);
    else if (c->pl->enabled) rp_printf(c->md, "_Figure %s: nothing to draw or gnuplot failed._\n\n", name);
    else rp_printf(c->md, "_Figure %s skipped: %s._\n\n", name, c->pl->why);
}

void rp_md_no_runs(rp_ctx *c) { rp_puts(c->md, "No runs in this sweep.\n\n"); }

static void exps_str(const rp_run *r, char *out, size_t n) {
    size_t k = 0;
    out[0] = 0;
    for (int e = 0; e < RP_N_EXP; e++)
        if (r->exps >> e & 1u) k += (size_t)snprintf(out + k, n - k, "%sE%d", k ? " " : "", e + 1);
}

static void runs_table(rp_ctx *c) {
    rp_puts(c->md, "| run | experiments | act | m | precision | recipe | lr | seed | status | steps | params | "
                   "non-embed params | final loss | final val loss |\n");
    rp_puts(c->md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &c->s->runs[i];
        char ex[64], b[6][48];
        exps_str(r, ex, sizeof ex);
        if (!r->finished) {
            rp_printf(c->md, "| %s | %s | n/a | n/a | n/a | n/a | n/a | n/a | not finished | 0/%ld | n/a | n/a | n/a | n/a |\n",
                      r->name, ex, r->steps_planned);
            continue;
        }
        rp_printf(c->md, "| %s | %s | %s | %s | %s | %s | %s | %ld | %s | %ld/%ld | %s | %s | %s | %s |\n", r->name, ex,
                  r->act, rp_f(b[0], "%g", r->m), r->precision, r->recipe, rp_f(b[1], "%g", r->lr), r->seed, r->status,
                  r->steps_done, r->steps_planned, rp_f(b[2], "%.0f", r->n_params >= 0 ? (double)r->n_params : NAN),
                  rp_f(b[3], "%.0f", r->n_params_nonembed >= 0 ? (double)r->n_params_nonembed : NAN),
                  rp_f(b[4], "%.4f", r->final_loss), rp_f(b[5], "%.4f", r->final_val));
    }
    rp_puts(c->md, "\n");
}

// The distinct model shapes of the finished runs, with their parameter and token counts.
static void sizes_table(rp_ctx *c, long *min_params, long *max_params, double *max_tokens) {
    rp_puts(c->md, "| d_model | layers | heads | ffn_hidden | params | tokens per run | runs |\n");
    rp_puts(c->md, "|---|---|---|---|---|---|---|\n");
    *min_params = -1, *max_params = -1, *max_tokens = 0;
    const rp_run *rs = c->s->runs;
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &rs[i];
        if (!r->finished || !r->d_model) continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = !(rs[j].finished && rs[j].d_model == r->d_model && rs[j].n_layers == r->n_layers &&
                      rs[j].n_heads == r->n_heads && rs[j].ffn_hidden == r->ffn_hidden);
        if (!first) continue;
        long plo = -1, phi = -1, runs = 0;
        double tlo = INFINITY, thi = 0;
        for (size_t j = i; j < c->s->n; j++) {
            const rp_run *q = &rs[j];
            if (!(q->finished && q->d_model == r->d_model && q->n_layers == r->n_layers && q->n_heads == r->n_heads &&
                  q->ffn_hidden == r->ffn_hidden))
                continue;
            runs++;
            double tok = (double)q->steps_planned * q->batch * q->seq * q->grad_accum;
            tlo = fmin(tlo, tok), thi = fmax(thi, tok);
            if (q->n_params < 0) continue;
            plo = plo < 0 || q->n_params < plo ? q->n_params : plo;
            phi = q->n_params > phi ? q->n_params : phi;
        }
        if (plo >= 0) {
            *min_params = *min_params < 0 || plo < *min_params ? plo : *min_params;
            *max_params = phi > *max_params ? phi : *max_params;
        }
        *max_tokens = fmax(*max_tokens, thi);
        char ffn[48];
        if (r->ffn_hidden) snprintf(ffn, sizeof ffn, "%ld", r->ffn_hidden);
        else snprintf(ffn, sizeof ffn, "equal-parameter rule");
        rp_printf(c->md, "| %ld | %ld | %ld | %s | %ld-%ld | %.0f-%.0f | %ld |\n", r->d_model, r->n_layers, r->n_heads, ffn,
                  plo, phi, tlo, thi, runs);
    }
    rp_puts(c->md, "\n");
}

void rp_md_overview(rp_ctx *c) {
    rp_puts(c->md, "## 1. Runs overview\n\n");
    size_t done = 0;
    for (size_t i = 0; i < c->s->n; i++) done += c->s->runs[i].finished;
    rp_printf(c->md, "%zu runs planned, %zu finished. Runs without run.json are listed as not finished and left out "
                     "of every number below.\n\n", c->s->n, done);
    if (!c->s->n) {
        rp_md_no_runs(c);
        return;
    }
    runs_table(c);
    rp_puts(c->md, "### Model sizes in this sweep (from each run's config.json and run.json)\n\n");
    long pmin, pmax;
    double tmax;
    sizes_table(c, &pmin, &pmax, &tmax);
    rp_puts(c->md, "### What this scale can and cannot tell\n\n");
    rp_printf(c->md, "These models have %ld to %ld parameters and see at most %.0f training tokens each. ", pmin, pmax, tmax);
    rp_md_paper_scale(c->md);
    rp_puts(c->md, " At this scale the sweep can show whether each activation trains, whether a difference is larger "
                   "than the seed-to-seed noise of these tiny models, how wide the activation and gradient outlier "
                   "bands are early in training, and whether a learning rate is stable in FP8 over a short run. It "
                   "cannot tell whether the papers' small gaps (about 0.01-0.02 in loss) hold at their scale, nor "
                   "anything about FP8 instabilities that need tens of thousands of steps to develop, nor MoE (E6 "
                   "is not run). A verdict below is about these models only.\n\n");
}

// Per activation, the mean over the group's runs (seeds) of one series per run.
static size_t act_mean(rp_ctx *c, const char *act, int val, rp_pt **out) {
    const rp_pt *ser[512];
    size_t ns[512], k = 0;
    for (size_t i = 0; i < c->s->n && k < 512; i++) {
        const rp_run *r = &c->s->runs[i];
        if (!rp_pick_main(r, c->a) || strcmp(r->act, act)) continue;
        ser[k] = val ? r->val : r->loss, ns[k++] = val ? r->n_val : r->n_loss;
    }
    return rp_mean_series(ser, ns, k, out);
}

static int curve_figure(rp_ctx *c, int val) {
    rp_fig f;
    rp_fig_begin(&f, c->pl, val ? "val_loss" : "train_loss", val ? "validation loss, mean over seeds" :
                 "training loss (EMA, weight 0.9), mean over seeds", "step", val ? "validation loss" : "training loss", 0);
    for (int k = 0; k < c->a->n_val; k++) {
        rp_pt *p;
        size_t n = act_mean(c, c->a->val[k].act, val, &p);
        if (!val) rp_ema(p, n, 0.9);
        double *x = malloc((n + 1) * sizeof(double)), *y = malloc((n + 1) * sizeof(double));
        for (size_t i = 0; i < n; i++) x[i] = (double)p[i].step, y[i] = p[i].v;
        const double *cols[2] = {x, y};
        rp_fig_series(&f, cols, 2, n, val ? "1:2 with linespoints lw 2 pt 7" : "1:2 with lines lw 2", c->a->val[k].act,
                      rp_color(c, c->a->val[k].act));
        free(x), free(y), free(p);
    }
    return rp_fig_end(&f);
}

void rp_md_curves(rp_ctx *c) {
    rp_puts(c->md, "## 2. Loss and validation-loss curves\n\n");
    if (!c->a->n_val) {
        rp_md_no_runs(c);
        return;
    }
    rp_printf(c->md, "Runs: %s. Each curve is the mean over that activation's runs (seeds) at every logged step. The "
                     "training loss is smoothed with a bias-corrected exponential moving average (weight 0.9 on the "
                     "past); the validation loss is not smoothed.\n\n",
              c->a->e3_tagged ? "the E3 runs" : "all finished fp32 runs (the sweep has no E3 run)");
    rp_md_figure(c, curve_figure(c, 0), "train_loss", "training loss per activation");
    rp_md_figure(c, curve_figure(c, 1), "val_loss", "validation loss per activation");
}

void rp_md_valtable(rp_ctx *c) {
    rp_puts(c->md, "## 3. Validation loss\n\n");
    if (!c->a->n_val) {
        rp_md_no_runs(c);
        return;
    }
    const rp_actval *sw = rp_find_val(c->a, "swiglu");
    rp_printf(c->md, "Final validation loss of %s: mean ± sample standard deviation over seeds (n runs), perplexity "
                     "= exp(mean). The papers' columns are differences to SwiGLU measured at their scale (PolyCom "
                     "1B dense, 250B tokens; PowLU 47M activated, m = 3): compare them with our difference to "
                     "SwiGLU, never with our absolute values.\n\n",
              c->a->e3_tagged ? "the E3 runs" : "all finished fp32 runs");
    rp_puts(c->md, "| activation | n | final val loss | val PPL | ours: val loss − SwiGLU | paper: train loss − SwiGLU "
                   "| paper: val PPL vs SwiGLU |\n|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < c->a->n_val; k++) {
        const rp_actval *v = &c->a->val[k];
        char b[6][48], paper_ppl[96] = "n/a", ms[112];
        double diff = sw && sw->val.n ? v->val.mean - sw->val.mean : NAN;
        double ptrain = rp_paper_polycom_train_diff(v->act);
        if (!strcmp(v->act, "powlu")) ptrain = rp_paper_powlu_m_loss(3) - rp_paper_powlu_m_swiglu();
        double pppl = rp_paper_polycom_ppl(v->act);
        if (isfinite(pppl))
            snprintf(paper_ppl, sizeof paper_ppl, "%.3f vs %.3f (%+.3f)", pppl, rp_paper_polycom_ppl_swiglu(),
                     pppl - rp_paper_polycom_ppl_swiglu());
        snprintf(ms, sizeof ms, "%s ± %s", rp_f(b[0], "%.4f", v->val.mean), rp_f(b[1], "%.4f", v->val.sd));
        rp_printf(c->md, "| %s | %d | %s | %s | %s | %s | %s |\n", v->act, v->val.n, ms,
                  rp_f(b[2], "%.3f", exp(v->val.mean)), rp_f(b[3], "%+.4f", diff), rp_f(b[4], "%+.3f", ptrain),
                  paper_ppl);
    }
    rp_puts(c->md, "\n");
    if (!sw) rp_puts(c->md, "No SwiGLU runs in this group, so no difference to SwiGLU.\n\n");
}
