// test_sample.c — the token picker: greedy, top-k, and sampled frequencies against the softmax.
#include "train/sample.h"
#include "util/rng.h"
#include "testutil.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static void test_greedy_and_top1(void **state) {
    (void)state;
    float logits[5] = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    sample_opts greedy = {0, 0, 0}, top1 = {1.0f, 1, 0};
    for (int i = 0; i < 20; i++) {
        assert_int_equal(sample_pick(logits, 5, &greedy, r.s), 1);
        assert_int_equal(sample_pick(logits, 5, &top1, r.s), 1);
    }
}

// Frequencies over many draws match softmax(logits / T) within 5 standard errors.
static void check_frequencies(float temperature, int top_k) {
    float logits[4] = {0.0f, logf(2), logf(4), -3.0f};
    double w[4], total = 0;
    for (int i = 0; i < 4; i++) {
        int kept = top_k == 0 || i < 3 ? 1 : 0;  // top-3 drops the last (smallest) logit
        w[i] = kept ? exp(logits[i] / temperature) : 0;
        total += w[i];
    }
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    sample_opts o = {temperature, top_k, 0};
    int counts[4] = {0}, draws = 40000;
    for (int i = 0; i < draws; i++) counts[sample_pick(logits, 4, &o, r.s)]++;
    for (int i = 0; i < 4; i++) {
        double p = w[i] / total, f = (double)counts[i] / draws, se = sqrt(p * (1 - p) / draws) + 1e-9;
        printf("T %.1f top-k %d: id %d p %.4f observed %.4f\n", temperature, top_k, i, p, f);
        assert_true(fabs(f - p) <= 5 * se + 1e-12);
    }
}

static void test_frequencies_full(void **state) {
    (void)state;
    check_frequencies(1.0f, 0);
    check_frequencies(2.0f, 0);
}

static void test_frequencies_top_k(void **state) {
    (void)state;
    check_frequencies(1.0f, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_and_top1),
        cmocka_unit_test(test_frequencies_full),
        cmocka_unit_test(test_frequencies_top_k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
