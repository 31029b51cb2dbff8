// actlab.h — the one public header of libactlab.
//
// Defines: the activation registry (descriptors, lookup by name and enum, hyperparameters),
// forward/backward over f32 or bf16 arrays, and bf16 conversion.
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

#ifdef __cplusplus
}
#endif
#endif
