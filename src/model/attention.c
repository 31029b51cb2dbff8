// attention.c — causal multi-head attention with grouped-query heads, on the CPU.
//
// Memory: the (T,T) probability matrix is never stored. The forward keeps one log-sum-exp per
// score row; the backward recomputes the probabilities tile by tile from it (the recompute costs
// one extra Q·Kᵀ product, about 1/5 of the attention FLOPs, in exchange for O(T) rather than
// O(T²) memory per head: at T = 1024, B = 16, 4 heads that is 256 KiB of lse instead of 256 MiB
// of probabilities per layer).
//
// Work goes in tiles of ATT_R query rows (attention_tiles.h), each multiplied only against the
// keys up to its last row, so the causal upper triangle is (almost) never computed. A head's
// Q, K, V are first packed into zero-padded, contiguous copies (K and V also transposed where a
// product reads them by column), so every tile product runs from L1 without tails. Each OpenMP
// thread owns whole heads: results do not depend on the thread count.
#include "layers.h"

#include "act/vmath.h"
#include "attention_tiles.h"
#include "util/check.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

// The rotary tables (rope_table's), or none.
typedef struct {
    const float *cos_t, *sin_t;
} rope_tabs;

// The tables from position t0 on (for rows that start there).
static rope_tabs tabs_from(rope_tabs r, int t0, int D) {
    if (r.cos_t) r.cos_t += (size_t)t0 * (D / 2), r.sin_t += (size_t)t0 * (D / 2);
    return r;
}

// A head's rows lie one token's width apart (3 KiB in the anchor's qkv), and packing, unpacking
// and the backward's row dot products touch each once and briefly: a stride the hardware
// prefetchers followed poorly, so the row ATT_AHEAD further on is requested explicitly (measured on
// one thread at the anchor's shape, with the rotation vectorised too: forward 7.0 -> 6.3 ms,
// backward 14 -> 13 ms).
enum { ATT_AHEAD = 6 };

// Row t + ATT_AHEAD of rows of stride ld from base, if there is one (w: it is about to be written).
static void prefetch_ahead(const float *base, size_t ld, int t, int T, int D, int w) {
    if (t + ATT_AHEAD >= T) return;
    const float *x = base + (size_t)(t + ATT_AHEAD) * ld;
    for (int c = 0; c < D; c += 16) {
        if (w) __builtin_prefetch(x + c, 1);
        else __builtin_prefetch(x + c, 0);
    }
}

// src: (T, D) rows of stride ld -> dst: (Tp, Dp) contiguous, times scale, zero-padded; each row
// first rotated to its position when r has tables (scale·(R·x), as rope_forward then the plain
// packing computed it).
static void pack_rows(float *dst, const float *src, int ld, int T, int D, int Tp, int Dp, float scale, rope_tabs r) {
    for (int t = 0; t < T; t++) {
        float *d = dst + (size_t)t * Dp;
        const float *x = src + (size_t)t * ld;
        prefetch_ahead(src, (size_t)ld, t, T, D, 0);
        if (r.cos_t) {
            rope_rotate(d, x, D, r.cos_t + (size_t)t * (D / 2), r.sin_t + (size_t)t * (D / 2), 1.0f);
            if (scale != 1.0f)
                for (int c = 0; c < D; c++) d[c] *= scale;
        } else
            for (int c = 0; c < D; c++) d[c] = scale * x[c];
        for (int c = D; c < Dp; c++) d[c] = 0.0f;  // only the padding is zeroed
    }
    memset(dst + (size_t)T * Dp, 0, sizeof(float) * (size_t)(Tp - T) * Dp);
}

// src: (T, Dp) packed -> dst: (T, D) rows of stride ld, times scale, then rotated back with r's
// tables (Rᵀ·(scale·x), as the plain unpacking then rope_backward computed it); row t is at
// position t of the tables (tabs_from for rows further on).
static void unpack_rows(float *dst, int ld, const float *src, int T, int D, int Dp, float scale, rope_tabs r) {
    for (int t = 0; t < T; t++) {
        float *d = dst + (size_t)t * ld;
        prefetch_ahead(dst, (size_t)ld, t, T, D, 1);
        for (int c = 0; c < D; c++) d[c] = scale * src[(size_t)t * Dp + c];
        if (r.cos_t) rope_rotate(d, d, D, r.cos_t + (size_t)t * (D / 2), r.sin_t + (size_t)t * (D / 2), -1.0f);
    }
}

// The causal prefix of one score row exponentiated in place: s[0..len) -> e^(s − max),
// s[len..n8) -> 0, n8 a multiple of ATT_W. Returns the sum of the exps in *sum and the row's
// log-sum-exp. The normalisation by 1/sum is left to the output (head_forward): ATT_R·D products
// per tile instead of one per score.
// Whole blocks of ATT_W with the masked keys selected to 0: the rows are short (T/2 keys on
// average), and a scalar tail of up to 15 exps per row cost as much as the rest. The sum is kept in
// ATT_W running sums added up in a fixed order (as the loss does, crossentropy.c): an omp simd
// reduction ended in a serial horizontal sum per row.
static float causal_exp_row(float *s, int len, int n8, float *sum) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < len; j++) mx = s[j] > mx ? s[j] : mx;
    float part[ATT_W] = {0};
    for (int j0 = 0; j0 < n8; j0 += ATT_W)
#pragma omp simd
        for (int k = 0; k < ATT_W; k++) {
            float e = j0 + k < len ? am_expf_nonpos(s[j0 + k] - mx) : 0.0f;  // s − max ≤ 0
            s[j0 + k] = e;
            part[k] += e;
        }
    *sum = am_lanes_sumf(part, ATT_W);
    return mx + logf(*sum);
}

// One thread's packed copies of a head and its tiles (sizes for Tp × Dp heads).
typedef struct {
    float *q, *k, *kt, *v, *vt, *dout, *dk, *dv;  // (Tp, Dp) or, transposed, (Dp, Tp)
    float *s, *ds, *tile;                         // (ATT_R, Tp), (ATT_R, Tp), (ATT_R, Dp)
} att_work;

// The forward uses q, k, kt, v, s and tile; the backward all of them.
static att_work work_alloc(int Tp, int Dp, int backward) {
    size_t head = sizeof(float) * (size_t)Tp * Dp, row = sizeof(float) * ATT_R * (size_t)Tp;
    att_work w = {xaligned(head), xaligned(head), xaligned(head), xaligned(head), NULL, NULL, NULL, NULL,
                  xaligned(row), NULL, xaligned(sizeof(float) * ATT_R * (size_t)Dp)};
    if (backward) w.vt = xaligned(head), w.dout = xaligned(head), w.dk = xaligned(head), w.dv = xaligned(head),
                  w.ds = xaligned(row);
    return w;
}

// A call's sizes: qkv and out row strides, query heads per kv head, the padded head (Tp, Dp), the
// score scale 1/√D and the rotary tables.
typedef struct {
    int ld, od, grp, Tp, Dp;
    float scale;
    rope_tabs rot;
} att_shape;

static att_shape shape_of(int T, int H, int Hkv, int D, const float *cos_t, const float *sin_t) {
    return (att_shape){(H + 2 * Hkv) * D, H * D, H / Hkv, round_up(T, ATT_W), round_up(D, ATT_W),
                       1.0f / sqrtf((float)D), {cos_t, sin_t}};
}

static void work_free(att_work *w) {
    float *all[] = {w->q, w->k, w->kt, w->v, w->vt, w->dout, w->dk, w->dv, w->s, w->ds, w->tile};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

// How many parts a group of grp query heads sharing a kv head is cut into for the forward: each
// part packs its kv head's K and V once for all its query heads (grouped-query attention would
// otherwise pack them grp times), and there are enough parts to keep every thread busy. A head's
// output does not depend on the part it falls in, so neither do the results.
static int group_parts(int B, int Hkv, int grp) {
    int threads = omp_get_max_threads(), parts = 1;
    while (parts < grp && (long)B * Hkv * parts < threads) {
        parts++;
        while (grp % parts) parts++;
    }
    return parts;
}

// Query head h's forward from its packed Q and the packed K (and Kᵀ), V of its kv head.
// qh: (T, ld) rows of the head in qkv; o: (T, od) rows of its output; L: its (T) lse.
static void head_forward(att_work *w, const att_shape *a, const float *qh, float *o, float *L, int T, int D) {
    int Tp = a->Tp, Dp = a->Dp;
    pack_rows(w->q, qh, a->ld, T, D, Tp, Dp, a->scale, a->rot);  // S = (scale·Q)·Kᵀ
    for (int i0 = 0; i0 < T; i0 += ATT_R) {
        int rows = T - i0 < ATT_R ? T - i0 : ATT_R, n = i0 + rows, nb = (n + ATT_W - 1) / ATT_W;
        float sum[ATT_R];
        att_tile_ab(w->s, Tp, w->q + (size_t)i0 * Dp, Dp, w->kt, Tp, Dp, nb * ATT_W);
        for (int r = 0; r < ATT_R; r++) {
            float *s = w->s + (size_t)r * Tp;
            if (r < rows) L[i0 + r] = causal_exp_row(s, i0 + r + 1, nb * ATT_W, &sum[r]);
            else memset(s, 0, sizeof(float) * (size_t)nb * ATT_W);  // padding rows add nothing
        }
        att_tile_ab(w->tile, Dp, w->s, Tp, w->v, Dp, n, Dp);  // (e^(S − max))·V, then row r times 1/sum_r
        for (int r = 0; r < rows; r++) {
            float inv = 1.0f / sum[r], *dst = o + (size_t)(i0 + r) * a->od;
            const float *src = w->tile + (size_t)r * Dp;
#pragma omp simd
            for (int c = 0; c < D; c++) dst[c] = src[c] * inv;
        }
    }
}

// qkv: (B,T,(H+2Hkv)·D) -> out: (B,T,H·D), lse: (B,H,T)
void attention_forward(float *out, float *lse, const float *qkv, int B, int T, int H, int Hkv, int D,
                       const float *cos_t, const float *sin_t) {
    att_shape a = shape_of(T, H, Hkv, D, cos_t, sin_t);
    int ld = a.ld, grp = a.grp, Tp = a.Tp, Dp = a.Dp;
    int parts = group_parts(B, Hkv, grp), per = grp / parts;
#pragma omp parallel if ((size_t)B * H * T * T * D >= 64 * PAR_MIN)
    {
        att_work w = work_alloc(Tp, Dp, 0);
#pragma omp for schedule(static)
        for (int item = 0; item < B * Hkv * parts; item++) {
            int b = item / (Hkv * parts), kvh = item / parts % Hkv, h0 = kvh * grp + item % parts * per;
            const float *base = qkv + (size_t)b * T * ld;
            pack_rows(w.k, base + (size_t)(H + kvh) * D, ld, T, D, Tp, Dp, 1.0f, a.rot);
            att_transpose(w.kt, Tp, w.k, Dp, Tp, Dp);
            pack_rows(w.v, base + (size_t)(H + Hkv + kvh) * D, ld, T, D, Tp, Dp, 1.0f, (rope_tabs){NULL, NULL});
            for (int h = h0; h < h0 + per; h++)
                head_forward(&w, &a, base + (size_t)h * D, out + (size_t)b * T * a.od + (size_t)h * D,
                             lse + ((size_t)b * H + h) * T, T, D);
        }
        work_free(&w);
    }
}

// Probabilities of one tile from its scores, in place: P = exp(S − lse) for key j ≤ query i, else 0
// (also for the padding rows r ≥ rows). s: (ATT_R, Tp), the first n8 = nb·ATT_W columns used.
// S − lse ≤ 0: the scores are recomputed bit for bit as the forward computed them (same packing,
// same tile), and there lse = max + log(sum ≥ 1) ≥ max.
static void tile_probs(float *s, int Tp, int i0, int rows, int n8, const float *L) {
    for (int r = 0; r < ATT_R; r++) {
        float *p = s + (size_t)r * Tp;
        int len = r < rows ? i0 + r + 1 : 0;
        float l = r < rows ? L[i0 + r] : 0.0f;
#pragma omp simd
        for (int j = 0; j < n8; j++) p[j] = j < len ? am_expf_nonpos(p[j] - l) : 0.0f;  // whole blocks: see causal_exp_row
    }
}

// dout: (B,T,H·D) -> dqkv: (B,T,(H+2Hkv)·D)
// With P the probabilities, dO the output gradient and Dᵢ = dOᵢ·Oᵢ:
//   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q.
// Threads split (batch, kv head) pairs, so the query heads sharing a kv head add their dK, dV
// contributions in a fixed order on one thread.
void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *out,
                        const float *lse, int B, int T, int H, int Hkv, int D, const float *cos_t,
                        const float *sin_t) {
    att_shape a = shape_of(T, H, Hkv, D, cos_t, sin_t);
    int ld = a.ld, od = a.od, grp = a.grp, Tp = a.Tp, Dp = a.Dp;
    float scale = a.scale;
    rope_tabs rot = a.rot, none = {NULL, NULL};
#pragma omp parallel if ((size_t)B * H * T * T * D >= 64 * PAR_MIN)
    {
        att_work w = work_alloc(Tp, Dp, 1);
        float *Drow = xmalloc(sizeof(float) * (size_t)Tp);
#pragma omp for schedule(static)
        for (int bk = 0; bk < B * Hkv; bk++) {
            int b = bk / Hkv, kvh = bk % Hkv;
            size_t base = (size_t)b * T * ld;
            pack_rows(w.k, qkv + base + (size_t)(H + kvh) * D, ld, T, D, Tp, Dp, 1.0f, rot);
            att_transpose(w.kt, Tp, w.k, Dp, Tp, Dp);
            pack_rows(w.v, qkv + base + (size_t)(H + Hkv + kvh) * D, ld, T, D, Tp, Dp, 1.0f, none);
            att_transpose(w.vt, Tp, w.v, Dp, Tp, Dp);
            memset(w.dk, 0, sizeof(float) * (size_t)Tp * Dp);
            memset(w.dv, 0, sizeof(float) * (size_t)Tp * Dp);
            for (int h = kvh * grp; h < (kvh + 1) * grp; h++) {
                const float *o = out + (size_t)b * T * od + (size_t)h * D;
                const float *dO = dout + (size_t)b * T * od + (size_t)h * D;
                const float *L = lse + ((size_t)b * H + h) * T;
                pack_rows(w.q, qkv + base + (size_t)h * D, ld, T, D, Tp, Dp, scale, rot);
                pack_rows(w.dout, dO, od, T, D, Tp, Dp, 1.0f, none);
                for (int t = 0; t < T; t++) {
                    const float *orow = o + (size_t)t * od, *grow = dO + (size_t)t * od;
                    prefetch_ahead(o, (size_t)od, t, T, D, 0);
                    float dd = 0.0f;
#pragma omp simd reduction(+ : dd)
                    for (int c = 0; c < D; c++) dd += orow[c] * grow[c];
                    Drow[t] = dd;
                }
                float *dq = dqkv + base + (size_t)h * D;
                for (int i0 = 0; i0 < T; i0 += ATT_R) {
                    int rows = T - i0 < ATT_R ? T - i0 : ATT_R, n = i0 + rows, nb = (n + ATT_W - 1) / ATT_W;
                    int n8 = nb * ATT_W;
                    const float *qr = w.q + (size_t)i0 * Dp, *gr = w.dout + (size_t)i0 * Dp;
                    att_tile_ab(w.s, Tp, qr, Dp, w.kt, Tp, Dp, n8);   // S = (scale·Q)·Kᵀ
                    tile_probs(w.s, Tp, i0, rows, n8, L);
                    att_tile_ab(w.ds, Tp, gr, Dp, w.vt, Tp, Dp, n8);  // dP = dO·Vᵀ
                    for (int r = 0; r < ATT_R; r++) {
                        float *ds = w.ds + (size_t)r * Tp;
                        const float *p = w.s + (size_t)r * Tp;
                        float dr = r < rows ? Drow[i0 + r] : 0.0f;
#pragma omp simd
                        for (int j = 0; j < n8; j++) ds[j] = p[j] * (ds[j] - dr);  // 0 wherever P is
                    }
                    att_tile_ab(w.tile, Dp, w.ds, Tp, w.k, Dp, n, Dp);  // dQ = scale·dS·K
                    unpack_rows(dq + (size_t)i0 * ld, ld, w.tile, rows, D, Dp, scale, tabs_from(rot, i0, D));
                    att_tile_atb_acc(w.dv, Dp, w.s, Tp, gr, Dp, n, Dp);   // dV += Pᵀ·dO
                    att_tile_atb_acc(w.dk, Dp, w.ds, Tp, qr, Dp, n, Dp);  // dK += dSᵀ·(scale·Q)
                }
            }
            unpack_rows(dqkv + base + (size_t)(H + kvh) * D, ld, w.dk, T, D, Dp, 1.0f, rot);
            unpack_rows(dqkv + base + (size_t)(H + Hkv + kvh) * D, ld, w.dv, T, D, Dp, 1.0f, none);
        }
        free(Drow);
        work_free(&w);
    }
}
