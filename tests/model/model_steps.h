// model_steps.h — one training step's loss and gradients, and the check that they do not depend on
// the OpenMP thread count; shared by the model tests (include after cmocka.h).
#ifndef ACTLAB_TEST_MODEL_STEPS_H
#define ACTLAB_TEST_MODEL_STEPS_H

#include "model/model.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// train: the training step's forward (model_forward_train), which leaves the loss's gradient itself.
static inline void run_step(model *m, const int32_t *tok, const int32_t *tgt, int B, int T, float *loss,
                            float *grads, int train) {
    *loss = train ? model_forward_train(m, tok, tgt, B, T) : model_forward(m, tok, tgt, B, T);
    model_zero_grad(m);
    model_backward(m);
    memcpy(grads, model_grads(m), sizeof(float) * model_num_params(m));
}

static inline void run_once(model *m, const int32_t *tok, const int32_t *tgt, int B, int T, float *loss,
                            float *grads) {
    run_step(m, tok, tgt, B, T, loss, grads, 0);
}

// The same step with 1 and 2 OpenMP threads: loss and every gradient bit-identical, with the plain
// forward and with the training step's.
static inline void expect_thread_invariant(model *m, const int32_t *tok, const int32_t *tgt, int B, int T,
                                           const char *what) {
    size_t n = model_num_params(m);
    float *g1 = malloc(sizeof(float) * n), *g2 = malloc(sizeof(float) * n), l1, l2;
    int saved = omp_get_max_threads();
    for (int train = 0; train < 2; train++) {
        omp_set_num_threads(1);
        run_step(m, tok, tgt, B, T, &l1, g1, train);
        omp_set_num_threads(2);
        run_step(m, tok, tgt, B, T, &l2, g2, train);
        printf("  threads %s%s: loss 1 thread %.9g, 2 threads %.9g\n", what, train ? " (train)" : "", l1, l2);
        assert_memory_equal(&l1, &l2, sizeof l1);
        for (size_t j = 0; j < n; j++)
            if (memcmp(&g1[j], &g2[j], sizeof(float)))
                fail_msg("%s%s: grad[%zu] %.9g (1 thread) vs %.9g (2 threads)", what, train ? " (train)" : "", j,
                         g1[j], g2[j]);
    }
    omp_set_num_threads(saved);
    free(g1), free(g2);
}

#endif
