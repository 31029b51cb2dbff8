// rp.h — the report layer's internal data model: one sweep folder as loaded from disk, a growing
// text buffer, and the small statistics every section shares.
#ifndef ACTLAB_REPORT_RP_H
#define ACTLAB_REPORT_RP_H

#include "util/fileio.h"

#include <stddef.h>

#define RP_NAME 128
#define RP_N_EXP 7   // E1..E7
// Bit RP_N_EXP of rp_run.exps: the run is a learning-rate tuning run ("tune", SUITE-CONTRACT.md).
#define RP_EXP_TUNE (1u << RP_N_EXP)
// Bit RP_N_EXP + 1: an E6 ladder run ("E6.E2.<act>[.ctl]", the FP8 ladder with an MoE FFN), besides
// E6's own bit: E6-E1/E3 leave these runs out, E6-E2 reads only them.
#define RP_EXP_E6_E2 (1u << (RP_N_EXP + 1))

// The FFN tensors the trainer's telemetry watches: the down-projection input, the up/gate-projection
// output gradients, and the up/gate weight gradients (the last two only in newer metrics files) of a
// dense FFN (the first RP_NT_DENSE); then an MoE layer's ("moe": {...}, docs/moe.md): the routed and
// the shared experts' down-projection inputs (E6).
enum { RP_ACT_OUT, RP_GRAD_UP, RP_GRAD_GATE, RP_WGRAD_UP, RP_WGRAD_GATE, RP_NT_DENSE,
       RP_MOE_OUT = RP_NT_DENSE, RP_MOE_SHARED_OUT, RP_NT };
extern const char *const RP_TENSOR_NAMES[RP_NT];   // "act_out", ..., "moe.act_out", "moe.shared_act_out"

typedef struct { long step; double v; } rp_pt;

// One telemetry step, reduced over layers: min of mins, max of maxes, min of P1, max of P99,
// max of amax; and the outlier statistics E1 decides on, each the max over layers: the P1-P99 band
// width (P99 - P1), amax/RMS and kurtosis (NAN when no layer has the keys).
typedef struct { double lo, hi, p1, p99, amax, width, crest, kurt; } rp_band;
// The gate pre-activation z (newer metrics only): the max over layers of each quantile and fraction.
typedef struct { double p50, p99, p999, max, gt4, gt_peak; } rp_zq;
typedef struct {
    long step;
    int has[RP_NT];
    rp_band b[RP_NT];
    int has_z;
    rp_zq z;
} rp_tele;

typedef struct {
    char name[RP_NAME];
    char dir[1024];            // DIR/runs/<name> (never printed: the report must not depend on paths)
    unsigned exps;             // bit k: experiment E(k+1) asked for this run; RP_EXP_TUNE: a tuning run
    int finished;              // run.json exists
    char status[24];           // run.json "status", or "not finished"
    long steps_planned, steps_done;
    long n_params, n_params_nonembed;   // -1 when unknown
    // from config.json
    char act[32], precision[16], recipe[24];
    double m, lr;              // m: NAN when the activation has none
    long seed, d_model, n_layers, n_heads, ffn_hidden, batch, seq, grad_accum;
    long n_kv_heads, vocab_size, tied, amax_history, steps_cfg;   // 0 / -1 when config.json lacks them
    // MoE FFN (config.json lists the moe_* keys only for MoE models): experts 0 = dense FFN.
    long moe_experts, moe_top_k, moe_shared, moe_hidden, moe_sigmoid;
    // from metrics.jsonl
    rp_pt *loss; size_t n_loss;
    rp_pt *val; size_t n_val;  // val_loss lines (null -> NAN)
    rp_tele *tele; size_t n_tele;
    double final_loss, final_val;   // last "loss" / last "val_loss" (NAN if none or null)
    long n_spikes;             // spike events: runs of consecutive steps flagged "spike" (docs/lowp.md)
    long last_spike_step;      // while loading: the last flagged step (-1: none)
    long diverged_step;        // -1: not diverged
    long n_grace_bumps;        // steps above divergence_loss inside divergence_grace ("above_divergence_loss")
    int has_lowp;
    double lowp_n, lowp_sat, lowp_ftz;
    // The down-projection input ("L<l>.ffn_down.x" in lowp.tensors, telemetry steps only), summed.
    int has_down;
    double down_n, down_sat, down_ftz;
    // Block formats (E7): "rht" of config.json (1 when absent), and the down-projection input's block
    // telemetry ("blk") summed the same way: blocks, outlier-dominated blocks, elements, zeros,
    // saturations, and Σ rel_err·n (rel_err is a mean over nearly all n elements).
    long rht;
    int has_down_blk;
    double down_blocks, down_outlier, down_bn, down_zero, down_bsat, down_err;
} rp_run;

typedef struct {
    char name[RP_NAME];
    rp_run *runs;
    size_t n;
} rp_sweep;

// report_load.c
int rp_load(const char *dir, rp_sweep *s, char *err, size_t errlen);
void rp_free(rp_sweep *s);
int rp_is_fp8(const rp_run *r);   // the E2 treatment; every other precision (fp32, bf16) is full-range
int rp_is_4bit(const rp_run *r);  // mxfp4 or nvfp4: the E7 treatment
int rp_in_exp(const rp_run *r, int e);   // e: 1..RP_N_EXP, finished runs only
int rp_is_tune(const rp_run *r);         // finished and tagged "tune"
// Parses one experiment id: "E<k>" or "E<k>.<suffix>" (k in 1..RP_N_EXP) -> its bit; "tune" -> RP_EXP_TUNE;
// "E6.E2" or "E6.E2.<suffix>" -> E6's bit | RP_EXP_E6_E2; anything else -> 0.
unsigned rp_exp_bit(const char *id);

// The report is assembled in util's growable byte buffer; the short rp_ names keep the many
// call sites of the section writers terse.
typedef byte_buf rp_buf;
#define rp_append byte_buf_put
#define rp_puts byte_buf_puts
#define rp_printf byte_buf_printf
#define rp_buf_free byte_buf_free
static inline int rp_read_file(const char *path, rp_buf *out) { return file_read_into(path, out, NULL, 0); }

// report_stats.c
typedef struct { double mean, sd; int n; } rp_stat;   // sd: sample (n-1) standard deviation
rp_stat rp_stat_of(const double *x, size_t n);         // NAN entries are skipped
// Mean over runs per step of several series (a step counts the runs that logged it).
// Returns the number of points written to *out (malloc'd, sorted by step).
size_t rp_mean_series(const rp_pt *const *series, const size_t *ns, size_t k, rp_pt **out);
// Bias-corrected exponential moving average with weight w on the past: the train-loss smoothing.
void rp_ema(rp_pt *p, size_t n, double w);
// Distinct activation names among runs picked by `use`, in plan order. Returns the count.
typedef int (*rp_pick)(const rp_run *r, const void *ctx);
int rp_acts(const rp_sweep *s, rp_pick use, const void *ctx, char names[][32], int max);

#endif
