// test_sweep_spec.c — SPEC.json parsing, validation, grid expansion, precedence, dedupe and run
// names (no training).
#include "exp/sweep.h"
#include "test_seed.h"
#include "util/hash.h"
#include "util/rng.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char g_err[1024];

static int load(sweep_plan *p, const char *spec) { return sweep_plan_load(p, spec, strlen(spec), g_err, sizeof g_err); }

static void expect_error(const char *spec, const char *text) {
    sweep_plan p;
    int r = load(&p, spec);
    if (r == 0 || !strstr(g_err, text)) fprintf(stderr, "spec %s\n  error '%s', expected '%s'\n", spec, g_err, text);
    assert_int_equal(r, -1);
    assert_non_null(strstr(g_err, text));
    assert_int_equal(p.n_runs, 0);
}

static const sweep_entry *find(const sweep_plan *p, const char *name) {
    for (int i = 0; i < p->n_runs; i++)
        if (!strcmp(p->runs[i].name, name)) return &p->runs[i];
    fprintf(stderr, "no run named %s\n", name);
    return NULL;
}

static void test_expansion_order_and_names(void **state) {
    (void)state;
    sweep_plan p;
    assert_int_equal(load(&p, "{\"version\":1,\"name\":\"t\",\"experiments\":[{\"id\":\"E3\",\"grid\":"
                              "{\"act\":[\"swiglu\",\"gelu\"],\"seed\":[1,2,3]}}]}"), 0);
    assert_int_equal(p.n_runs, 6);
    static const char *WANT[] = {"e3-swiglu-seed1", "e3-swiglu-seed2", "e3-swiglu-seed3",
                                 "e3-gelu-seed1", "e3-gelu-seed2", "e3-gelu-seed3"};
    for (int i = 0; i < 6; i++) assert_string_equal(p.runs[i].name, WANT[i]);  // last key fastest
    assert_string_equal(p.runs[4].coords_json, "{\"act\":\"gelu\",\"seed\":2}");
    assert_int_equal(p.runs[4].cfg.seed, 2);
    assert_int_equal(p.runs[4].cfg.model.act.kind, ACT_GELU);
    assert_string_equal(p.name, "t");
    sweep_plan_free(&p);
}

static void test_names(void **state) {
    (void)state;
    char name[SWEEP_NAME];
    sweep_run_name("E2", "{\"act\":\"powlu\",\"lr\":0.001,\"m\":3,\"keep_act_bf16\":true}", name, sizeof name);
    assert_string_equal(name, "e2-powlu-lr0.001-m3-keep_act_bf16true");
    sweep_run_name("My Exp", "{\"lr\":1e-05,\"tag\":\"A/b\"}", name, sizeof name);
    assert_string_equal(name, "my_exp-lr1e-05-__b");
}

// defaults < base < size preset < set < grid, whatever order the spec writes them in.
static void test_precedence(void **state) {
    (void)state;
    sweep_plan p;
    assert_int_equal(load(&p, "{\"version\":1,\"experiments\":[{\"id\":\"P\",\"grid\":{\"lr\":[0.004],\"size\":"
                              "[\"s\"]},\"set\":{\"batch\":3,\"eps\":1e-6}}],\"sizes\":{\"s\":{\"d_model\":48,"
                              "\"batch\":2,\"lr\":0.002}},\"base\":{\"batch\":1,\"lr\":0.001,\"d_model\":40,"
                              "\"n_layers\":3}}"), 0);
    assert_int_equal(p.n_runs, 1);
    const train_config *c = &p.runs[0].cfg;
    assert_true(fabsf(c->opt.lr - 0.004f) == 0);  // grid beats size and base
    assert_int_equal(c->batch, 3);                // set beats size and base
    assert_int_equal(c->model.d_model, 48);       // size beats base
    assert_int_equal(c->model.n_layers, 3);       // base beats defaults
    assert_true(c->opt.eps == 1e-6f);
    assert_int_equal(c->steps, 1000);             // defaults
    assert_string_equal(p.runs[0].name, "p-lr0.004-s");
    assert_string_equal(p.name, "sweep");
    sweep_plan_free(&p);
}

// A hyperparameter written before (or outside) "act" still applies to the activation.
static void test_act_before_hyper(void **state) {
    (void)state;
    sweep_plan p;
    assert_int_equal(load(&p, "{\"version\":1,\"base\":{\"m\":2,\"act\":\"powlu\"},\"experiments\":[{\"id\":"
                              "\"E4\",\"grid\":{\"m\":[3,4]}},{\"id\":\"X\",\"grid\":{\"seed\":[5]},\"set\":{\"m\":"
                              "4,\"act\":\"powlu\"}}]}"), 0);
    assert_int_equal(p.n_runs, 3);
    const act_desc *d = act_desc_of(ACT_POWLU);
    int h = 0;
    while (strcmp(d->hyper[h].name, "m")) h++;
    assert_true(p.runs[0].cfg.model.act.hp[h] == 3.0f);
    assert_true(p.runs[1].cfg.model.act.hp[h] == 4.0f);
    assert_int_equal(p.runs[2].cfg.seed, 5);
    sweep_plan_free(&p);
}

static void test_dedupe(void **state) {
    (void)state;
    sweep_plan p;
    assert_int_equal(load(&p, "{\"version\":1,\"base\":{\"seed\":1},\"experiments\":["
                              "{\"id\":\"E3\",\"grid\":{\"act\":[\"swiglu\",\"gelu\"],\"seed\":[1,2]}},"
                              "{\"id\":\"E1\",\"grid\":{\"act\":[\"swiglu\"]}},"
                              "{\"id\":\"E7\",\"grid\":{\"seed\":[2,2]},\"set\":{\"act\":\"gelu\"}}]}"), 0);
    assert_int_equal(p.n_runs, 4);
    const sweep_entry *e = find(&p, "e3-swiglu-seed1");
    assert_non_null(e);
    assert_int_equal(e->n_experiments, 2);
    assert_string_equal(e->experiments[0], "E3");
    assert_string_equal(e->experiments[1], "E1");
    assert_string_equal(e->coords_json, "{\"act\":\"swiglu\",\"seed\":1}");
    e = find(&p, "e3-gelu-seed2");
    assert_non_null(e);
    assert_int_equal(e->n_experiments, 2);
    assert_string_equal(e->experiments[1], "E7");
    sweep_plan_free(&p);
}

// Two distinct configurations whose names would clash get distinct names.
static void test_name_collision(void **state) {
    (void)state;
    sweep_plan p;
    assert_int_equal(load(&p, "{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"tokenizer\":"
                              "[\"x/y\",\"x:y\"]}}]}"), 0);
    assert_int_equal(p.n_runs, 2);
    assert_string_equal(p.runs[0].name, "a-x_y");
    assert_string_equal(p.runs[1].name, "a-x_y-2");
    sweep_plan_free(&p);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("{\"version\":1,", "malformed JSON");
    expect_error("[1]", "must be a JSON object");
    expect_error("{\"experiments\":[{\"id\":\"A\",\"grid\":{\"seed\":[1]}}]}", "\"version\" must be the integer 1");
    expect_error("{\"version\":1,\"experiments\":[]}", "\"experiments\" must be a non-empty array");
    expect_error("{\"version\":1,\"extra\":1,\"experiments\":[]}", "unknown top-level key 'extra'");
    expect_error("{\"version\":1,\"base\":{\"stepz\":3},\"experiments\":[{\"id\":\"A\",\"grid\":{\"seed\":[1]}}]}",
                 "base: unknown key 'stepz'");
    expect_error("{\"version\":1,\"base\":{\"steps\":\"many\"},\"experiments\":[{\"id\":\"A\",\"grid\":"
                 "{\"seed\":[1]}}]}", "'steps': expected an integer");
    expect_error("{\"version\":1,\"base\":{\"out\":\"x\"},\"experiments\":[{\"id\":\"A\",\"grid\":{\"seed\":[1]}}]}",
                 "'out' is chosen by the sweep");
    expect_error("{\"version\":1,\"base\":{\"size\":\"s\"},\"experiments\":[{\"id\":\"A\",\"grid\":{\"seed\":[1]}}]}",
                 "'size' is valid only as a grid key");
    expect_error("{\"version\":1,\"sizes\":{\"s\":{\"d_model\":-4}},\"experiments\":[{\"id\":\"A\",\"grid\":"
                 "{\"seed\":[1]}}]}", "sizes.s: 'd_model'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"size\":[\"xl\"]}}]}",
                 "experiment 'A': unknown size \"xl\"");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{}}]}", "experiment 'A': \"grid\" must be");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"lr\":[]}}]}", "grid key 'lr'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"lr\":0.1}}]}", "grid key 'lr'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"lr\":[[1]]}}]}", "value 0 must be");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"seed\":[1]}},{\"id\":\"A\",\"grid\":"
                 "{\"seed\":[2]}}]}", "duplicate experiment id 'A'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"seed\":[1]},\"sett\":{}}]}",
                 "experiment 'A': unknown key 'sett'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"act\":[\"gelu\",\"nope\"]}}]}",
                 "experiment 'A', grid point {\"act\":\"nope\"}: 'act': unknown activation 'nope'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"m\":[3]},\"set\":{\"act\":\"gelu\"}}]}",
                 "unknown key 'm'");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"lr\":[\"fast\"]}}]}",
                 "'lr': expected a number");
    expect_error("{\"version\":1,\"experiments\":[{\"id\":\"A\",\"grid\":{\"seq\":[100000]}}]}",
                 "exceeds the model's max_seq_len");
}

static void test_plan_json(void **state) {
    (void)state;
    const char *spec = "{\"version\":1,\"name\":\"pj\",\"experiments\":[{\"id\":\"E2\",\"grid\":{\"act\":"
                       "[\"swiglu\"],\"lr\":[1e-3,0.01]},\"set\":{\"steps\":7,\"warmup_steps\":0}}]}";
    sweep_plan p;
    assert_int_equal(load(&p, spec), 0);
    char *txt = sweep_plan_to_json(&p);
    json_t *j = json_loads(txt, 0, NULL);
    assert_non_null(j);
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)fnv1a64(FNV1A64_OFFSET, spec, strlen(spec)));
    assert_string_equal(json_string_value(json_object_get(j, "spec_hash")), hash);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    json_t *runs = json_object_get(j, "runs"), *r0 = json_array_get(runs, 0);
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(json_string_value(json_object_get(r0, "name")), "e2-swiglu-lr0.001");
    assert_string_equal(json_string_value(json_object_get(r0, "dir")), "runs/e2-swiglu-lr0.001");
    assert_int_equal(json_integer_value(json_object_get(r0, "steps")), 7);
    assert_true(json_is_real(json_object_get(json_object_get(r0, "coords"), "lr")));
    assert_true(json_real_value(json_object_get(json_object_get(r0, "coords"), "lr")) == 1e-3);
    json_decref(j);
    free(txt);
    sweep_plan_free(&p);
}

// Random grids: the plan has the product of the grid sizes as runs (all values distinct), unique
// names, and each run's seed/lr/batch are its coordinates.
static void test_random_grids(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_random_grids"));
    for (int trial = 0; trial < 20; trial++) {
        int ns = 1 + (int)(rng_u64(&r) % 4), nl = 1 + (int)(rng_u64(&r) % 3), nb = 1 + (int)(rng_u64(&r) % 3);
        char spec[1024], seeds[256] = "", lrs[256] = "", bs[256] = "";
        for (int i = 0; i < ns; i++) snprintf(seeds + strlen(seeds), 32, "%s%d", i ? "," : "", 10 * i + 1);
        for (int i = 0; i < nl; i++) snprintf(lrs + strlen(lrs), 32, "%s%g", i ? "," : "", 0.001 * (i + 1));
        for (int i = 0; i < nb; i++) snprintf(bs + strlen(bs), 32, "%s%d", i ? "," : "", i + 1);
        snprintf(spec, sizeof spec, "{\"version\":1,\"experiments\":[{\"id\":\"R\",\"grid\":{\"seed\":[%s],\"lr\":"
                 "[%s],\"batch\":[%s]}}]}", seeds, lrs, bs);
        sweep_plan p;
        assert_int_equal(load(&p, spec), 0);
        assert_int_equal(p.n_runs, ns * nl * nb);
        for (int i = 0; i < p.n_runs; i++) {
            int is = i / (nl * nb), il = i / nb % nl, ib = i % nb;
            assert_int_equal(p.runs[i].cfg.seed, 10 * is + 1);
            assert_true(p.runs[i].cfg.opt.lr == (float)(0.001 * (il + 1)));
            assert_int_equal(p.runs[i].cfg.batch, ib + 1);
            for (int k = 0; k < i; k++) assert_string_not_equal(p.runs[i].name, p.runs[k].name);
        }
        sweep_plan_free(&p);
    }
}

static void test_jobs_auto(void **state) {
    (void)state;
    assert_int_equal(sweep_jobs_auto(1), 1);
    assert_true(sweep_jobs_auto(2) >= 1 && sweep_jobs_auto(2) <= 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansion_order_and_names),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_act_before_hyper),
        cmocka_unit_test(test_dedupe),
        cmocka_unit_test(test_name_collision),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_plan_json),
        cmocka_unit_test(test_random_grids),
        cmocka_unit_test(test_jobs_auto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
