// model_steps.h — one training step's loss and gradients, and the check that they do not depend on
// the OpenMP thread count; shared by the model tests (include after cmocka.h).
#ifndef ACTLAB_TEST_MODEL_STEPS_H
#define ACTLAB_TEST_MODEL_STEPS_H

#include "model/model.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void run_once(model *m, const int32_t *tok, const int32_t *tgt, int B, int T, float *loss,
                            float *grads) {
    *loss = model_forward(m, tok, tgt, B, T);
    model_zero_grad(m);
    model_backward(m);
    memcpy(grads, model_grads(m), sizeof(float) * model_num_params(m));
}

// The same step with 1 and 2 OpenMP threads: loss and every gradient bit-identical.
static inline void expect_thread_invariant(model *m, const int32_t *tok, const int32_t *tgt, int B, int T,
                                           const char *what) {
    size_t n = model_num_params(m);
    float *g1 = malloc(sizeof(float) * n), *g2 = malloc(sizeof(float) * n), l1, l2;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    run_once(m, tok, tgt, B, T, &l1, g1);
    omp_set_num_threads(2);
    run_once(m, tok, tgt, B, T, &l2, g2);
    omp_set_num_threads(saved);
    printf("  threads %s: loss 1 thread %.9g, 2 threads %.9g\n", what, l1, l2);
    assert_memory_equal(&l1, &l2, sizeof l1);
    for (size_t j = 0; j < n; j++)
        if (memcmp(&g1[j], &g2[j], sizeof(float)))
            fail_msg("%s: grad[%zu] %.9g (1 thread) vs %.9g (2 threads)", what, j, g1[j], g2[j]);
    free(g1), free(g2);
}

#endif
