// test_tok_cli.c — `actlab tokenize` end to end (its source is compiled in; each run is a forked
// child with stdin and stdout on files): exit statuses, encode/decode round trips, GPT-2's ids.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_tmp.h"
#include "commands.h"
#include "test_tok_common.h"

#ifndef ACTLAB_NPM_DIR_DEFAULT
#define ACTLAB_NPM_DIR_DEFAULT ".deps/npm"
#endif

static char dir[64], in_path[128], out_path[128];

// Runs `actlab tokenize ARGS...` (NULL-terminated) on in_path; returns its exit status.
static int run(const char *arg, ...) {
    char *argv[16] = {"tokenize"};
    int argc = 1;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && argc < 15; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(in_path, "rb", stdin) || !freopen(out_path, "wb", stdout)) _exit(99);
        exit(cmd_tokenize(argc, argv));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int setup(void **state) {
    (void)state;
    test_tmpdir(dir, sizeof dir, "tok_cli");
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    if (!getenv("ACTLAB_NPM_DIR")) setenv("ACTLAB_NPM_DIR", ACTLAB_NPM_DIR_DEFAULT, 1);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir) != 0;
}

static void test_usage(void **state) {
    (void)state;
    write_whole(in_path, "", 0);
    assert_int_equal(run("--help", NULL), 0);
    size_t n;
    char *out = (char *)read_whole(out_path, &n);
    assert_non_null(strstr(out, "usage: actlab tokenize"));
    free(out);
    assert_int_equal(run(NULL), 2);                                     // no --tokenizer
    assert_int_equal(run("--tokenizer", "gpt2", "--bogus", NULL), 2);  // unknown flag
    assert_int_equal(run("--tokenizer", NULL), 2);                     // flag without its value
    assert_int_equal(run("--tokenizer", "bpe:4096", "--data-dir", dir, NULL), 1);  // not trained
    assert_int_equal(run("--tokenizer", "wordpiece", NULL), 1);
}

static void test_gpt2(void **state) {
    (void)state;
    write_whole(in_path, "Hello world\n", 12);
    assert_int_equal(run("--tokenizer", "gpt2", NULL), 0);
    size_t n;
    char *out = (char *)read_whole(out_path, &n);
    assert_string_equal(out, "15496 995 198\n");
    free(out);
    write_whole(in_path, "15496 995\n50256", 15);
    assert_int_equal(run("--tokenizer", "gpt2", "--decode", NULL), 0);
    out = (char *)read_whole(out_path, &n);
    assert_string_equal(out, "Hello world<|endoftext|>");
    free(out);
    write_whole(in_path, "15496 50257", 11);
    assert_int_equal(run("--tokenizer", "gpt2", "--decode", NULL), 1);
    write_whole(in_path, "15496 x", 7);
    assert_int_equal(run("--tokenizer", "gpt2", "--decode", NULL), 1);
}

// Fresh random bytes through a trained bpe:300: the ids are tok_encode's, and decode gives the bytes.
static void test_bpe_roundtrip(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("tokenize cli round trip"));
    size_t n = 100000;
    uint8_t *text = malloc(n);
    random_text(&r, text, n, 2);
    tokenizer *t = tok_train_bpe((const char *)text, n, 300);
    assert_non_null(t);
    char path[160];
    snprintf(path, sizeof path, "%s/tokenizer-bpe-300.bin", dir);
    assert_int_equal(tok_save_file(t, path), 0);
    random_text(&r, text, n, (int)(rng_u64(&r) % 4));
    write_whole(in_path, text, n);
    assert_int_equal(run("--tokenizer", "bpe:300", "--data-dir", dir, NULL), 0);
    int32_t *ids;
    size_t k = tok_encode(t, (const char *)text, n, &ids), m;
    char *out = (char *)read_whole(out_path, &m), *p = out;
    for (size_t i = 0; i < k; i++) {
        char *end;
        assert_int_equal(strtol(p, &end, 10), ids[i]);
        assert_true(end > p);
        p = end;
    }
    assert_string_equal(p, "\n");
    write_whole(in_path, out, m);
    free(out);
    assert_int_equal(run("--tokenizer", "bpe:300", "--data-dir", dir, "--decode", NULL), 0);
    out = (char *)read_whole(out_path, &m);
    assert_int_equal(m, n);
    assert_memory_equal(out, text, n);
    free(out);
    free(ids);
    free(text);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_gpt2),
        cmocka_unit_test(test_bpe_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
