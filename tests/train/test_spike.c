// test_spike.c — the loss-spike detector on synthetic loss sequences: quiet noise raises nothing,
// a planted jump is flagged at its step with the window's statistics, spikes stay out of the
// window, k = 0 disables it, and the checkpointed state resumes to identical decisions.
#include "train/spike.h"
#include "testutil.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

static void test_flags_planted_jump(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    spike_detector d;
    spike_init(&d, 20, 4);
    double mean, sd;
    for (int i = 0; i < 200; i++) {
        double loss = 3.0 - 0.001 * i + 0.01 * rng_uniform(&r);  // a falling, slightly noisy loss
        if (spike_observe(&d, loss, &mean, &sd)) fail_msg("quiet step %d flagged: %g vs %g ± %g", i, loss, mean, sd);
    }
    assert_true(spike_observe(&d, 3.5, &mean, &sd));
    assert_true(mean > 2.79 && mean < 2.82 && sd > 0 && sd < 0.01);
    assert_true(spike_observe(&d, 3.4, &mean, &sd));  // the first spike did not widen the window
    assert_false(spike_observe(&d, 2.8, &mean, &sd));
    assert_false(spike_observe(&d, NAN, &mean, &sd));  // skipped steps are not judged
    spike_free(&d);
}

static void test_needs_full_window_and_k(void **state) {
    (void)state;
    spike_detector d;
    double mean, sd;
    spike_init(&d, 4, 2);
    for (int i = 0; i < 3; i++) assert_false(spike_observe(&d, 1.0 + 0.01 * i, &mean, &sd));
    assert_false(spike_observe(&d, 100.0, &mean, &sd));  // window not full yet: joins it
    spike_free(&d);
    spike_init(&d, 4, 0);  // off
    for (int i = 0; i < 10; i++) assert_false(spike_observe(&d, i % 2 ? 1.0 : 50.0, &mean, &sd));
    spike_free(&d);
}

static void test_state_round_trip(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    spike_detector a, b;
    spike_init(&a, 7, 3);
    spike_init(&b, 7, 3);
    double mean, sd;
    for (int i = 0; i < 30; i++) spike_observe(&a, 2 + 0.1 * rng_uniform(&r), &mean, &sd);
    float st[9];
    assert_int_equal(spike_state_size(&a), 9);
    spike_state_save(&a, st);
    assert_int_equal(spike_state_load(&b, st, 9), 0);
    for (int i = 0; i < 50; i++) {
        double x = i % 10 == 9 ? 5.0 : 2 + 0.1 * rng_uniform(&r), m2, s2;
        assert_int_equal(spike_observe(&a, x, &mean, &sd), spike_observe(&b, x, &m2, &s2));
    }
    assert_int_equal(spike_state_load(&b, st, 8), -1);  // wrong size
    st[1] = 7;                                           // ring position out of range
    assert_int_equal(spike_state_load(&b, st, 9), -1);
    spike_free(&a);
    spike_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_planted_jump),
        cmocka_unit_test(test_needs_full_window_and_k),
        cmocka_unit_test(test_state_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
