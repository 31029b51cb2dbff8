// host_eval.cu — see host_eval.h.
#include "cuda/host_eval.h"
#include "gates.cuh"
#include "polynorm_math.cuh"

using namespace actcu;

template <bool F>
static int host_eval(const act_spec *s, const float *params, size_t n, const float *x, const float *u,
                     const float *dy, float *y, float *dx, float *du, double *dparams) {
    return with_elementwise_op<F>(s->kind, -1, [&](auto proto) -> int {
        using Op = decltype(proto);
        float w[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int k = 0; k < Op::kParams; k++) w[k] = params[k];
        const Op op(s->hp, w);
        double acc[4] = {0.0, 0.0, 0.0, 0.0};
        for (size_t i = 0; i < n; i++) {
            const float ui = Op::kGated ? u[i] : 0.0f;
            float a, b;
            y[i] = op.fwd(x[i], ui);
            op.bwd(x[i], ui, dy[i], a, b, acc);
            dx[i] = a;
            if (Op::kGated) du[i] = b;
        }
        for (int k = 0; k < Op::kParams; k++) dparams[k] += acc[k];
        return 0;
    });
}

extern "C" int actlab_cuda_host_eval(const act_spec *s, int fast, const float *params, size_t n, const float *x,
                                     const float *u, const float *dy, float *y, float *dx, float *du,
                                     double *dparams) {
    if (s == nullptr) return -1;
    return fast ? host_eval<true>(s, params, n, x, u, dy, y, dx, du, dparams)
                : host_eval<false>(s, params, n, x, u, dy, y, dx, du, dparams);
}

extern "C" void actlab_cuda_host_eval_polynorm(const float *params, size_t rows, size_t cols, const float *x,
                                               const float *dy, float *y, float *dx, double *dparams) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *gr = dy + r * cols;
        double acc[7] = {0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < cols; i++) {
            const float v[1] = {xr[i]}, g[1] = {gr[i]};
            pn_add_bwd_sums<1>(v, g, acc);
        }
        const PnForward pf(acc, (double)cols, params);
        const PnBackward pb(acc, (double)cols, params);
        for (size_t i = 0; i < cols; i++) {
            y[r * cols + i] = pf(xr[i]);
            dx[r * cols + i] = pb(xr[i], gr[i]);
        }
        for (int k = 0; k < 4; k++) dparams[k] += pb.dp[k];
    }
}
