// actlab.h — the one public header of libactlab.
//
// Defines: the activation registry (descriptors, lookup by name and enum, hyperparameters),
// forward/backward over f32 or bf16 arrays, bf16/FP8/FP4 conversion, per-tensor and block-scaled
// (MX, NVFP4) quantisation, and the random Hadamard transform.
// Every function is pure over the arrays it is given: no global state, results independent
// of the OpenMP thread count (bitwise).
#ifndef ACTLAB_H
#define ACTLAB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACTLAB_VERSION "0.1.0"

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

typedef enum {
    // non-gated: y = act(x)
    ACT_RELU = 0,
    ACT_RELU2,
    ACT_GELU,          // tanh approximation
    ACT_GELU_ERF,      // exact erf form
    ACT_SILU,
    ACT_POWLU_SCALAR,  // x * f_m(x), PowLU's scalar form
    ACT_POLYRELU,      // 4 learnable scalars, elementwise
    ACT_POLYNORM,      // 4 learnable scalars, normalises over each row
    // gated: y = u ⊙ g(z)   (z = gate projection, u = value projection)
    ACT_SWIGLU,
    ACT_GEGLU,
    ACT_REGLU,
    ACT_SWIGLU_CLIP,   // gpt-oss clamped SwiGLU: y = z'σ(αz')·(u'+1)
    ACT_POWLU,
    ACT_COUNT
} act_kind;

#define ACT_MAX_PARAMS 4
#define ACT_MAX_HYPER 2

typedef struct {
    const char *name;  // as used on the command line: "m", "limit", "alpha"
    float def;         // default value
    float lo, hi;      // accepted closed range
    const char *help;
} act_hyper_desc;

typedef struct {
    act_kind kind;
    const char *name;     // lookup key: "swiglu", "powlu", ...
    const char *summary;  // one line for --help listings
    int gated;            // 1: takes (z, u); 0: takes x
    int rowwise;          // 1: output depends on the whole row (PolyNorm)
    int n_params;         // learnable scalars (PolyCom: 4)
    float param_init[ACT_MAX_PARAMS];
    const char *param_names[ACT_MAX_PARAMS];
    int n_hyper;
    act_hyper_desc hyper[ACT_MAX_HYPER];
} act_desc;

// An activation with its hyperparameter values, in the order of act_desc.hyper.
typedef struct {
    act_kind kind;
    float hp[ACT_MAX_HYPER];
} act_spec;

const act_desc *act_desc_of(act_kind kind);   // NULL if out of range
const act_desc *act_find(const char *name);   // NULL if unknown
// Fills *s with the named activation and its default hyperparameters. Returns 0, or -1 if unknown.
int act_spec_init(act_spec *s, const char *name);
// Sets one hyperparameter by name. Returns 0; -1 unknown name; -2 value outside [lo, hi] or NaN.
int act_spec_set(act_spec *s, const char *hyper_name, float value);
// Writes the activation's initial learnable parameters (n_params floats).
void act_params_init(act_kind kind, float *params);

// ---------------------------------------------------------------------------------------------
// Forward / backward
// ---------------------------------------------------------------------------------------------

typedef enum { ACT_F32 = 0, ACT_BF16 = 1 } act_dtype;  // storage; compute is always f32 or wider
size_t act_dtype_size(act_dtype dt);  // bytes per element: 4 or 2

// Forward.  Non-gated: x (rows, cols) -> y (rows, cols); u must be NULL.
//           Gated:     x is the gate z (rows, cols), u the value (rows, cols) -> y (rows, cols).
// params: the n_params learnable scalars (NULL when n_params == 0). cols is the FFN hidden size
// (PolyNorm normalises over it). All arrays of the given storage dtype except params (f32).
void act_forward(const act_spec *s, act_dtype dt, size_t rows, size_t cols,
                 const void *x, const void *u, const float *params, void *y);

// Backward. dy (rows, cols) -> dx (rows, cols) and, gated, du (rows, cols).
// dparams (n_params floats) is ACCUMULATED into (+=), so gradient accumulation needs no copy;
// the sum over rows is taken in double in a fixed order, so it neither drifts with size nor
// depends on the thread count.
void act_backward(const act_spec *s, act_dtype dt, size_t rows, size_t cols,
                  const void *x, const void *u, const float *params, const void *dy,
                  void *dx, void *du, float *dparams);

// The elementwise curve of an activation: for gated ones the gate g(z) and g'(z), for non-gated
// elementwise ones act(x) and act'(x). Returns -1 for row-wise activations (PolyNorm).
int act_curve(const act_spec *s, const float *params, size_t n, const float *x,
              float *f, float *dfdx);

// ---------------------------------------------------------------------------------------------
// bf16 (round to nearest, ties to even; NaN stays NaN)
// ---------------------------------------------------------------------------------------------

static inline uint16_t num_f32_to_bf16(float f) {
    union { float f; uint32_t u; } v = { f };
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x0040u);  // quiet NaN
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(v.u >> 16);
}

static inline float num_bf16_to_f32(uint16_t b) {
    union { uint32_t u; float f; } v = { (uint32_t)b << 16 };
    return v.f;
}

void num_f32_to_bf16_array(const float *src, uint16_t *dst, size_t n);
void num_bf16_to_f32_array(const uint16_t *src, float *dst, size_t n);

// ---------------------------------------------------------------------------------------------
// FP8 (OCP 8-bit floating point): E4M3 (bias 7, max 448, no infinities, NaN 0x7F/0xFF) and
// E5M2 (bias 15, max 57344, ±inf 0x7C/0xFC, NaNs above). Round to nearest, ties to even.
// ---------------------------------------------------------------------------------------------

typedef enum { NUM_E4M3 = 0, NUM_E5M2 = 1 } num_fp8_format;

typedef enum {
    NUM_SATURATE = 0,  // values beyond the largest finite code become ±max (what training recipes use)
    NUM_OVERFLOW = 1,  // as hardware without saturation: E4M3 gives NaN, E5M2 gives ±inf
} num_fp8_overflow;

float num_fp8_max(num_fp8_format f);
float num_fp8_to_f32(uint8_t code, num_fp8_format f);
// Round to nearest even. NaN -> NaN; ±inf -> ±max (saturate) or NaN / ±inf (overflow mode).
uint8_t num_f32_to_fp8(float x, num_fp8_format f, num_fp8_overflow ov);
// Stochastic rounding: rounds up with probability (|x| − lo)/(hi − lo), where u in [0, 1) is the
// caller's uniform random number (so the caller owns the seeded generator).
uint8_t num_f32_to_fp8_stochastic(float x, num_fp8_format f, num_fp8_overflow ov, float u);

// ---------------------------------------------------------------------------------------------
// Scaled quantisation: what an FP8/bf16 matmul does to its inputs, emulated in f32 (scaling.c).
// A tensor x is multiplied by a scale, rounded to the format (saturating, nearest even), and
// multiplied back by 1/scale: y = Q(x·s)/s. Statistics say what the rounding did.
// ---------------------------------------------------------------------------------------------

typedef struct {
    uint64_t n;      // elements quantised
    uint64_t n_sat;  // of those, saturated: |x·s| rounded beyond the format's max (or ±inf)
    uint64_t n_ftz;  // non-zero elements that became zero (underflow)
    float amax;      // max |x| over finite elements, before scaling
} num_qstats;

void num_qstats_clear(num_qstats *s);
void num_qstats_merge(num_qstats *into, const num_qstats *s);
// max |x| over the finite elements (0 for none).
float num_amax(const float *x, size_t n);
// The scale that maps amax onto the format's max, backed off by 2^margin (Transformer Engine:
// fp8_max / amax / 2^margin). Returns `fallback` when amax is 0 or not finite.
float num_fp8_scale(num_fp8_format f, float amax, float margin, float fallback);
// x: (n) -> y: (n), y = Q(x·scale)/scale; y may alias x. NaN stays NaN. st (may be NULL) += counts;
// its amax takes the max with this tensor's.
void num_fp8_qdq(float *y, const float *x, size_t n, num_fp8_format f, float scale, num_qstats *st);
// The same rounding without the division: y = Q(x·scale), the FP8 values themselves (every one
// exact in bf16), with the same counts; y·(1/scale) is num_fp8_qdq's output bit for bit.
void num_fp8_codes(float *y, const float *x, size_t n, num_fp8_format f, float scale, num_qstats *st);
// x: (n) -> y: (n) rounded to bf16 and back (no scale: bf16 has f32's range); y may alias x.
void num_bf16_qdq(float *y, const float *x, size_t n, num_qstats *st);
// The codes a native bf16 GEMM multiplies, written as bf16 bits in one pass with the same
// counts: x: (rows, cols) of row stride ldx floats -> y: (rows, cols) of row stride ldy uint16.
// y may alias x when ldy = 2·ldx (each row's codes then fill the first half of its own storage).
// bf16: y = bits of Q_bf16(x) (num_f32_to_bf16). FP8: y = bits of Q(x·scale), num_fp8_codes's
// values, each exact in bf16.
void num_bf16_encode(uint16_t *y, size_t ldy, const float *x, size_t ldx, int rows, int cols, num_qstats *st);
void num_fp8_encode(uint16_t *y, size_t ldy, const float *x, size_t ldx, int rows, int cols, num_fp8_format f,
                    float scale, num_qstats *st);
// Block-wise scaling (DeepSeek-V3): x: (rows, cols) in tiles of br × bc (edge tiles smaller), each
// with its own current scale num_fp8_scale(f, tile amax, margin, 1). *min_scale (may be NULL)
// gets the smallest tile scale (the one of the tile holding the tensor's amax).
void num_fp8_qdq_blocks(float *y, const float *x, int rows, int cols, int br, int bc, num_fp8_format f,
                        float margin, num_qstats *st, float *min_scale);

// Delayed scaling (Transformer Engine's default recipe): the scale used now comes from the amax
// history of earlier steps. After a step's quantisations, push that step's amax: the history
// window (newest `len` entries) gives amax_h = max(window), and the next scale is
// num_fp8_scale(f, amax_h, margin, previous scale). The caller owns `hist` (len floats).
typedef struct {
    float *hist;  // ring buffer of the last len amaxes (zero-filled at start)
    int len, pos;
    float scale;  // the scale to use now (1 before any history, as in Transformer Engine)
} num_delayed;
void num_delayed_init(num_delayed *d, float *hist, int len);
void num_delayed_push(num_delayed *d, float amax, num_fp8_format f, float margin);

// ---------------------------------------------------------------------------------------------
// FP4 E2M1 and the E8M0 scale (OCP Microscaling Formats (MX) v1.0), counter-based random numbers
// for stochastic rounding (fp4.c). docs/lowp.md has the formats, block shapes and scale rules.
// ---------------------------------------------------------------------------------------------

// E2M1 code in the low 4 bits: sign, 2 exponent bits (bias 1), 1 mantissa bit. Values
// ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}; no infinities, no NaN.
float num_fp4_to_f32(uint8_t code);
// Round to nearest, ties to the even code, saturating to ±6 (±inf included). E2M1 has no NaN:
// NaN encodes as ±6 (block formats carry a NaN in their scale instead).
uint8_t num_f32_to_fp4(float x);
// Stochastic rounding: rounds up with probability (|x| − lo)/(hi − lo) for the caller's u in [0, 1);
// beyond ±6 saturates.
uint8_t num_f32_to_fp4_stochastic(float x, float u);
// E8M0: code 0..254 is 2^(code − 127) (code 0 is 2^-127, an f32 subnormal); 255 is NaN.
float num_e8m0_to_f32(uint8_t code);
// A uniform number in [0, 1) with 24 random bits that depends only on (seed, index): element i of a
// tensor rounded with seed s always draws num_sr_uniform(s, i), for any thread count or chunking.
float num_sr_uniform(uint64_t seed, uint64_t index);

// ---------------------------------------------------------------------------------------------
// Block-scaled quantisation (mx.c): MXFP8 (E4M3, E5M2) and MXFP4 with one E8M0 scale per block,
// NVFP4 with one E4M3 scale per block and one f32 scale per tensor. Emulated in f32: the output
// holds the exact values a block-scaled GEMM sees (element × block scale [× tensor scale]).
// ---------------------------------------------------------------------------------------------

typedef enum {
    NUM_MXFP8_E4M3 = 0,  // E4M3 elements, E8M0 scale (emax 8)
    NUM_MXFP8_E5M2 = 1,  // E5M2 elements, E8M0 scale (emax 15)
    NUM_MXFP4 = 2,       // E2M1 elements, E8M0 scale (emax 2)
    NUM_NVFP4 = 3,       // E2M1 elements, E4M3 block scale, f32 tensor scale
} num_block_format;

typedef enum { NUM_ROUND_NEAREST = 0, NUM_ROUND_STOCHASTIC = 1 } num_rounding;

// The MX spec's blocks are 32 along the reduction dimension (1×32 on a (rows, K) operand); NVFP4's
// are 1×16 (activations, gradients), 16×16 (weights) and 16×1 (the wgrad GEMM's right operand).
#define NUM_MX_BLOCK 32
#define NUM_NVFP4_BLOCK 16

typedef struct {
    num_block_format fmt;
    int br, bc;         // block shape in rows × columns (edge blocks are cut short)
    num_rounding rnd;   // elements only; scales are always chosen as below
    uint64_t seed;      // stochastic rounding: element (r, c) draws num_sr_uniform(seed, r·cols + c)
} num_block_spec;

// Telemetry of block-scaled quantisation (sums: merge by adding; docs/lowp.md defines each).
typedef struct {
    uint64_t n;              // elements quantised
    uint64_t n_sat;          // elements clamped to the element format's max (see docs/lowp.md)
    uint64_t n_zero;         // finite non-zero elements that became zero
    uint64_t n_err;          // elements in sum_rel_err: finite, non-zero, in a finite block
    double sum_rel_err;      // Σ |q − x| / |x| over those; mean relative error = sum_rel_err / n_err
    uint64_t blocks;         // blocks quantised
    uint64_t blocks_nonfinite;  // blocks holding a NaN or ±inf (scale NaN, every element NaN)
    uint64_t blocks_outlier; // blocks whose amax is more than twice every other |element|
} num_bstats;

void num_bstats_clear(num_bstats *s);
void num_bstats_merge(num_bstats *into, const num_bstats *s);

// The E8M0 scale code of an MX block (spec: shared exponent floor(log2 amax) − emax of the element
// format, clamped to [−127, 127]). amax 0 gives code 0 (2^-127); NaN or ±inf give 255 (NaN).
uint8_t num_mx_scale(float amax, num_block_format f);
// NVFP4 tensor scale (Transformer Engine): s_enc = min(448·6 / amax, FLT_MAX), or 1 when amax is 0,
// NaN or inf. The GEMM multiplies its result by s_dec = 1 / s_enc.
float num_nvfp4_tensor_scale(float amax);
// NVFP4 block scale: the E4M3 code (round to nearest even, saturating) of min(amax_b · (s_enc / 6), 448).
uint8_t num_nvfp4_block_scale(float block_amax, float s_enc);

// x: (rows, cols) -> y: (rows, cols) quantised and dequantised block by block; y may alias x.
// scales (NULL or (ceil(rows/br), ceil(cols/bc)), row-major): each block's scale code (E8M0 for MX,
// E4M3 for NVFP4). s_dec (NULL or one float): NVFP4's tensor decode scale (1 for MX).
// st (NULL or accumulated into). Returns 0, or -1 for a bad spec (block sides < 1, unknown format)
// or when out of memory (one double per work unit of ~4096 elements).
int num_block_qdq(float *y, const float *x, int rows, int cols, const num_block_spec *s, uint8_t *scales,
                  float *s_dec, num_bstats *st);
// The same rounding without NVFP4's tensor decode scale: y = ±element × block scale, the values a
// GEMM multiplies before scaling its f32 output by 1/s_enc (every one exact in bf16: an E2M1 or
// FP8 element times an E4M3 or power-of-two scale has at most 6 significant bits). *s_enc (may be
// NULL) gets the tensor encode scale (1 for MX), and y·(1.0f / *s_enc) is num_block_qdq's output
// up to one f32 rounding. Same statistics (computed on the dequantised values), same return.
int num_block_codes(float *y, const float *x, int rows, int cols, const num_block_spec *s, float *s_enc,
                    num_bstats *st);

// ---------------------------------------------------------------------------------------------
// 16×16 random Hadamard transform (hadamard.c): T = H16 · diag(signs) / 4, H16 the Sylvester
// Hadamard matrix, signs ±1 drawn from the seed. T is orthogonal, so transforming both operands of
// a GEMM along its reduction dimension leaves the product unchanged: (T A)ᵀ (T B) = Aᵀ B.
// ---------------------------------------------------------------------------------------------

#define NUM_RHT_SIZE 16

// The 16 signs (±1) of a seed.
void num_rht_signs(uint64_t seed, float signs[NUM_RHT_SIZE]);
// x: (rows, cols) -> y: (rows, cols), y may alias x. axis 0: each column's consecutive groups of 16
// rows are transformed (the reduction dimension of dW = dYᵀ X with dY, X of shape (tokens, ·));
// axis 1: each row's groups of 16 columns. inverse 1 applies Tᵀ. Returns 0, or -1 when that
// dimension is not a multiple of 16 or axis is not 0/1.
int num_rht16(float *y, const float *x, int rows, int cols, int axis, uint64_t seed, int inverse);

#ifdef __cplusplus
}
#endif
#endif
