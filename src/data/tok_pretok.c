// tok_pretok.c — GPT-2's pre-tokenisation through PCRE2 (JIT), tolerant of invalid UTF-8.
#include "tok_internal.h"
#include "util/check.h"

// GPT-2's pattern (OpenAI's encoder.py): English contractions, optionally space-prefixed runs of
// letters, of digits, of other symbols, then whitespace that leaves its last space to the next word.
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

pcre2_code *pretok_compile(void) {
    int err;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)GPT2_PATTERN, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        die("PCRE2 10.34 or newer with Unicode support is needed (Debian: libpcre2-dev)",
            "compiling GPT-2's pre-tokenisation pattern failed at offset %zu: %s", (size_t)at, (char *)msg);
    }
    // Without JIT (some builds lack it) the interpreter gives the same matches, only slower.
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

void pretok_begin(pretok_iter *it, const pcre2_code *re, const void *text, size_t len) {
    it->re = re;
    it->md = pcre2_match_data_create_from_pattern(re, NULL);
    it->mctx = NULL;  // made on the first match that outgrows JIT's default stack (rare)
    it->jit = NULL;
    if (!it->md) die("the machine is out of memory", "PCRE2 match data allocation failed");
    it->text = text;
    it->len = len;
    it->pos = 0;
    it->pend_start = it->pend_end = 0;
}

void pretok_end(pretok_iter *it) {
    pcre2_match_data_free(it->md);
    if (it->mctx) pcre2_match_context_free(it->mctx);
    if (it->jit) pcre2_jit_stack_free(it->jit);
}

int pretok_next(pretok_iter *it, size_t *start, size_t *end) {
    if (it->pend_end > it->pend_start) {
        *start = it->pend_start;
        *end = it->pos = it->pend_end;
        it->pend_start = it->pend_end = 0;
        return 1;
    }
    if (it->pos >= it->len) return 0;
    int rc = pcre2_match(it->re, it->text, it->len, it->pos, 0, it->md, it->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !it->jit) {
        it->mctx = pcre2_match_context_create(NULL);
        it->jit = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, NULL);
        if (!it->mctx || !it->jit) die("the machine is out of memory", "PCRE2 JIT stack allocation failed");
        pcre2_jit_stack_assign(it->mctx, NULL, it->jit);
        rc = pcre2_match(it->re, it->text, it->len, it->pos, 0, it->md, it->mctx);
    }
    if (rc == PCRE2_ERROR_NOMATCH) {  // only invalid UTF-8 is left
        *start = it->pos;
        *end = it->pos = it->len;
        return 1;
    }
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        die("please report this with the input that caused it", "pre-tokenising at byte %zu of %zu failed: %s",
            it->pos, it->len, (char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
    if (ov[0] > it->pos) {  // invalid UTF-8 before the match: a piece of its own
        *start = it->pos;
        *end = ov[0];
        it->pend_start = ov[0];
        it->pend_end = ov[1];
        it->pos = ov[0];
        return 1;
    }
    *start = ov[0];
    *end = it->pos = ov[1];
    return 1;
}
