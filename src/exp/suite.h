// suite.h — the built-in experiment suite of `actlab compare`: one sweep spec (CONTRACT of
// docs/sweep.md) covering E1–E5 of ../shared/spec/EXPERIMENTS.md at a scale two CPU cores finish
// in about half an hour (quick: a few minutes, same sections, fewer steps and seeds).
#ifndef ACTLAB_EXP_SUITE_H
#define ACTLAB_EXP_SUITE_H

// The suite's SPEC.json text (malloc'd) reading its shards from data_dir.
char *suite_spec(int quick, const char *data_dir);

#endif
