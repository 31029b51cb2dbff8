// test_seed.h — the seed of a property test: $ACTLAB_SEED when set (to replay a failure), else a
// fresh one; printed either way, so any failing run can be replayed.
#ifndef ACTLAB_TEST_SEED_H
#define ACTLAB_TEST_SEED_H

#include "util/rng.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t test_seed(const char *name) {
    const char *s = getenv("ACTLAB_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 10) : rng_fresh_seed();
    printf("%s: seed %llu (replay with ACTLAB_SEED=%llu)\n", name, (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout);
    return seed;
}

#endif
