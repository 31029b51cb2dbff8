// rng.h — a small seeded generator (xoshiro256** seeded through splitmix64). The state is a
// plain struct so it can be checkpointed; nothing here is global.
#ifndef ACTLAB_RNG_H
#define ACTLAB_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_u64(rng_t *r);
float rng_uniform(rng_t *r);  // [0, 1), 24 random bits
double rng_uniform_d(rng_t *r);  // [0, 1), 53 random bits
float rng_normal(rng_t *r);   // standard normal (Box-Muller)
// A fresh seed from the clock and pid, for property tests that print the seed they use.
uint64_t rng_fresh_seed(void);

#endif
