// test_tok_hf.c — tok_save_hf's files parsed back: tokenizer.json's pipeline, vocab spelt in
// GPT-2's byte characters, merges as pairs in rank order, the special token; tokenizer_config.json
// and special_tokens_map.json; refusals (two ids with one string, a missing folder). That the
// files encode like actlab is test_hf_export's job (tokenizers.js).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <unistd.h>

#include "test_tok_common.h"

// 256 bytes (id = byte), then merges of a b c; the last id is end-of-text. With dup, a fourth
// merge spells "abc" a second way.
static tokenizer *abc_tokenizer(int dup) {
    int n = dup ? 4 : 3, V = 256 + n + 1;
    tok_merge *m = malloc(4 * sizeof *m);
    m[0] = (tok_merge){'a', 'b', 256};   // "ab"
    m[1] = (tok_merge){' ', 'c', 257};   // " c"
    m[2] = (tok_merge){256, 'c', 258};   // "abc"
    m[3] = (tok_merge){'a', 'b', 0};
    if (dup) {
        m[1] = (tok_merge){'b', 'c', 257};  // "bc"
        m[3] = (tok_merge){'a', 257, 259};  // "abc" again
    }
    int32_t byte_id[256];
    for (int i = 0; i < 256; i++) byte_id[i] = i;
    char err[256];
    tokenizer *t = tok_build("bpe:test", V, V - 1, byte_id, m, n, err, sizeof err);
    if (!t) fail_msg("tok_build: %s", err);
    return t;
}

static json_t *load(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) fail_msg("%s: %s", path, je.text);
    return j;
}

static const char *str_at(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static void test_files(void **state) {
    (void)state;
    char dir[] = "/tmp/actlab_tok_hf_XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    tokenizer *t = abc_tokenizer(0);
    assert_int_equal(tok_save_hf(t, dir, 64, err, sizeof err), 0);

    json_t *tj = load(dir, "tokenizer.json");
    json_t *model = json_object_get(tj, "model");
    assert_string_equal(str_at(model, "type"), "BPE");
    assert_true(json_is_false(json_object_get(model, "byte_fallback")));
    assert_true(json_is_false(json_object_get(model, "ignore_merges")));  // BPE runs on every word
    const char *stages[] = {"pre_tokenizer", "decoder", "post_processor"};
    for (int i = 0; i < 3; i++) {
        json_t *st = json_object_get(tj, stages[i]);
        assert_string_equal(str_at(st, "type"), "ByteLevel");
        assert_true(json_is_false(json_object_get(st, "add_prefix_space")));
        assert_true(json_is_true(json_object_get(st, "use_regex")));
    }
    assert_true(json_is_null(json_object_get(tj, "normalizer")));
    json_t *vocab = json_object_get(model, "vocab");
    assert_int_equal(json_object_size(vocab), 260);
    assert_int_equal(json_integer_value(json_object_get(vocab, "a")), 'a');
    assert_int_equal(json_integer_value(json_object_get(vocab, "\xc4\xa0")), ' ');     // ' ' is "Ġ" (U+0120)
    assert_int_equal(json_integer_value(json_object_get(vocab, "\xc4\x80")), 0);       // byte 0 is U+0100
    assert_int_equal(json_integer_value(json_object_get(vocab, "\xc3\xbf")), 255);     // ÿ stands for itself
    assert_int_equal(json_integer_value(json_object_get(vocab, "\xc4\xa0" "c")), 257);
    assert_int_equal(json_integer_value(json_object_get(vocab, "abc")), 258);
    assert_int_equal(json_integer_value(json_object_get(vocab, "<|endoftext|>")), 259);
    json_t *merges = json_object_get(model, "merges");
    assert_int_equal(json_array_size(merges), 3);
    const char *want[3][2] = {{"a", "b"}, {"\xc4\xa0", "c"}, {"ab", "c"}};
    for (int r = 0; r < 3; r++) {
        json_t *pair = json_array_get(merges, (size_t)r);
        assert_int_equal(json_array_size(pair), 2);
        assert_string_equal(json_string_value(json_array_get(pair, 0)), want[r][0]);
        assert_string_equal(json_string_value(json_array_get(pair, 1)), want[r][1]);
    }
    json_t *added = json_array_get(json_object_get(tj, "added_tokens"), 0);
    assert_int_equal(json_integer_value(json_object_get(added, "id")), 259);
    assert_string_equal(str_at(added, "content"), "<|endoftext|>");
    assert_true(json_is_true(json_object_get(added, "special")));
    json_decref(tj);

    json_t *cfg = load(dir, "tokenizer_config.json");
    assert_string_equal(str_at(cfg, "tokenizer_class"), "PreTrainedTokenizerFast");
    assert_string_equal(str_at(cfg, "eos_token"), "<|endoftext|>");
    assert_int_equal(json_integer_value(json_object_get(cfg, "model_max_length")), 64);
    assert_true(json_is_false(json_object_get(cfg, "clean_up_tokenization_spaces")));
    assert_non_null(json_object_get(json_object_get(cfg, "added_tokens_decoder"), "259"));
    json_decref(cfg);
    json_t *map = load(dir, "special_tokens_map.json");
    assert_string_equal(str_at(map, "bos_token"), "<|endoftext|>");
    json_decref(map);

    const char *names[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    tok_free(t);
}

static void test_refusals(void **state) {
    (void)state;
    char dir[] = "/tmp/actlab_tok_hf_XXXXXX", err[256] = "";
    assert_non_null(mkdtemp(dir));
    tokenizer *t = abc_tokenizer(1);
    assert_int_equal(tok_save_hf(t, dir, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "ids 258 and 259 are the same string 'abc'"));
    char path[512];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    assert_int_equal(access(path, F_OK), -1);  // nothing half-written
    assert_int_equal(rmdir(dir), 0);           // and no temp file left
    tok_free(t);
    t = abc_tokenizer(0);
    assert_int_equal(tok_save_hf(t, "/nonexistent/actlab/hf", 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/actlab/hf"));
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
