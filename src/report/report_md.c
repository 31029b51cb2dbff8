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
    if (r->exps & RP_EXP_TUNE) snprintf(out + k, n - k, "%stune", k ? " " : "");
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

static int same_model(const rp_run *a, const rp_run *b) {
    return a->finished && b->finished && a->d_model == b->d_model && a->n_layers == b->n_layers &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads && a->ffn_hidden == b->ffn_hidden &&
           a->vocab_size == b->vocab_size && a->tied == b->tied && !strcmp(a->act, b->act) &&
           a->moe_experts == b->moe_experts && a->moe_top_k == b->moe_top_k && a->moe_shared == b->moe_shared &&
           a->moe_hidden == b->moe_hidden && a->moe_sigmoid == b->moe_sigmoid;
}

typedef struct {
    long pmin, pmax;
    double tmax, ffn_min, ffn_max;
    int n_low;   // models below RP_FFN_MIN_SHARE
} sizes_sum;

static void pct(char b[48], double part, double total) { rp_f(b, "%.1f%%", total > 0 ? 100 * part / total : NAN); }

// One row per distinct model (activation and shape) of the finished runs: its parameter split,
// checked against run.json, and the tokens its runs saw.
static void sizes_table(rp_ctx *c, sizes_sum *z) {
    rp_puts(c->md, "| activation | d_model | layers | heads (kv) | ffn hidden | vocab | tied | params | embeddings | "
                   "attention | FFN | norms | = n_params | tokens per run | runs |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    *z = (sizes_sum){-1, -1, 0, INFINITY, -INFINITY, 0};
    rp_buf warn = {0};
    const rp_run *rs = c->s->runs;
    for (size_t i = 0; i < c->s->n; i++) {
        const rp_run *r = &rs[i];
        int first = r->finished && r->d_model > 0;
        for (size_t j = 0; j < i && first; j++) first = !same_model(&rs[j], r);
        if (!first) continue;
        long runs = 0, np = -1;
        double tlo = INFINITY, thi = 0;
        for (size_t j = i; j < c->s->n; j++) {
            if (!same_model(&rs[j], r)) continue;
            runs++;
            double tok = (double)rs[j].steps_planned * rs[j].batch * rs[j].seq * rs[j].grad_accum;
            tlo = fmin(tlo, tok), thi = fmax(thi, tok);
            if (rs[j].n_params >= 0) np = rs[j].n_params;
        }
        rp_split sp;
        rp_param_split(r, &sp);
        if (np >= 0) z->pmin = z->pmin < 0 || np < z->pmin ? np : z->pmin, z->pmax = np > z->pmax ? np : z->pmax;
        z->tmax = fmax(z->tmax, thi);
        char b[6][48], ffn[80], eh[24];
        snprintf(eh, sizeof eh, "%ld", r->moe_hidden);
        if (r->moe_experts > 0)   // MoE: experts × width (0: the dense rule), top-k, shared
            snprintf(ffn, sizeof ffn, "MoE %ld×%s, top-%ld, %ld shared", r->moe_experts, r->moe_hidden ? eh : "derived",
                     r->moe_top_k, r->moe_shared);
        else if (r->ffn_hidden) snprintf(ffn, sizeof ffn, "%ld", r->ffn_hidden);
        else snprintf(ffn, sizeof ffn, "derived");
        pct(b[0], sp.embed, sp.total), pct(b[1], sp.attn, sp.total), pct(b[2], sp.ffn, sp.total), pct(b[3], sp.other, sp.total);
        rp_printf(c->md, "| %s | %ld | %ld | %ld (%ld) | %s | %ld | %s | %s | %.0f (%s) | %.0f (%s) | %.0f (%s) | %.0f (%s) | %s "
                         "| %.0f-%.0f | %ld |\n", r->act, r->d_model, r->n_layers, r->n_heads, r->n_kv_heads, ffn,
                  r->vocab_size, r->tied < 0 ? "?" : r->tied ? "yes" : "no", rp_f(b[4], "%.0f", np >= 0 ? (double)np : NAN),
                  sp.embed, b[0], sp.attn, b[1], sp.ffn, b[2], sp.other, b[3],
                  !sp.ok ? "not computable" : sp.matches < 0 ? "n/a" : sp.matches ? "yes" : "**no**", tlo, thi, runs);
        if (!sp.ok) continue;
        double share = sp.ffn / sp.total;
        z->ffn_min = fmin(z->ffn_min, share), z->ffn_max = fmax(z->ffn_max, share);
        if (share < RP_FFN_MIN_SHARE) {
            z->n_low++;
            rp_printf(&warn, "**Warning: %s at d_model %ld, %ld layers has only %.1f%% of its parameters in the FFNs "
                             "(the suite asks for at least %.0f%%): an activation difference is diluted by the "
                             "embeddings and attention.**\n\n", r->act, r->d_model, r->n_layers, 100 * share,
                      100 * RP_FFN_MIN_SHARE);
        }
    }
    rp_puts(c->md, "\n");
    if (warn.p) rp_puts(c->md, warn.p);
    rp_buf_free(&warn);
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
    rp_puts(c->md, "Parameters by part, counted from config.json as the model lays them out (embeddings: the token "
                   "embedding and an untied LM head; attention: q, k, v, o; FFN: gate/up/down and the activation's "
                   "scalars; norms: the RMSNorm gains) and checked against run.json's n_params.\n\n");
    sizes_sum z;
    sizes_table(c, &z);
    rp_puts(c->md, "### What this scale can and cannot tell\n\n");
    rp_printf(c->md, "These models have %ld to %ld parameters and see at most %.0f training tokens each. ", z.pmin,
              z.pmax, z.tmax);
    if (isfinite(z.ffn_min))
        rp_printf(c->md, "Their FFNs hold %.1f%% to %.1f%% of the parameters%s. ", 100 * z.ffn_min, 100 * z.ffn_max,
                  z.n_low ? " (some below the 40% the suite asks for, see the warnings above)" : "");
    rp_md_paper_scale(c->md);
    rp_printf(c->md, " At this scale the sweep can show whether each activation trains, whether a difference is larger "
                   "than the seed-to-seed noise of these tiny models, how wide the activation and gradient outlier "
                   "bands are early in training, and whether a learning rate is stable in FP8 over a short run. It "
                   "cannot tell whether the papers' small gaps (about 0.01-0.02 in loss) hold at their scale, nor "
                   "anything about FP8 instabilities that need tens of thousands of steps to develop%s. A verdict below "
                   "is about these models only.\n\n", c->a->e6.n_runs ? "" : ", nor MoE (E6 runs in --full only)");
    const rp_e1act *p = rp_find_e1(c->a, "powlu");
    rp_md_z_sentence(c->md, "Whether PowLU's bounded gate regime is reached (E1 runs)", p ? &p->z : &(rp_zsum){0});
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
              c->a->e3_tagged ? "the E3 runs" : "all finished non-FP8, non-tuning runs (the sweep has no E3 run)");
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
              c->a->e3_tagged ? "the E3 runs" : "all finished non-FP8, non-tuning runs");
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
