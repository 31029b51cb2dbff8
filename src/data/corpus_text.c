// corpus_text.c — markup strippers for the corpus sources; see corpus_text.h.
#include "data/corpus_text.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

static void buf_putc(byte_buf *b, char c) { byte_buf_put(b, &c, 1); }

static void buf_trim_spaces(byte_buf *b) {
    while (b->n && b->p[b->n - 1] == ' ') b->p[--b->n] = '\0';
}

int corpus_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

// Calls fn on each line of s (without its '\n').
typedef void (*line_fn)(byte_buf *out, const char *line, size_t n, void *ctx);
static void for_each_line(byte_buf *out, const char *s, size_t n, line_fn fn, void *ctx) {
    size_t start = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || s[i] == '\n') {
            if (i > start || i < n) fn(out, s + start, i - start, ctx);
            start = i + 1;
        }
}

static size_t skip_indent(const char *line, size_t n) {
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    return i;
}

// ---- dictd ---------------------------------------------------------------------------------

long long corpus_dictd_b64(const char *s, size_t n) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n == 0 || n > 10) return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        const char *d = s[i] ? strchr(digits, s[i]) : NULL;
        if (!d) return -1;
        v = v * 64 + (d - digits);
    }
    return v;
}

static int cmp_span(const void *a, const void *b) {
    const corpus_span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off ? 1 : x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

corpus_span *corpus_dictd_entries(const char *index, size_t ilen, size_t dict_len, size_t *n_out) {
    size_t cap = 1024, n = 0;
    corpus_span *e = xmalloc(cap * sizeof *e);
    size_t start = 0;
    for (size_t i = 0; i <= ilen; i++) {
        if (i < ilen && index[i] != '\n') continue;
        const char *line = index + start, *end = index + i;
        start = i + 1;
        const char *t1 = memchr(line, '\t', (size_t)(end - line));
        if (!t1 || !strncmp(line, "00-", 3) || !strncmp(line, "00database", 10)) continue;  // dictd metadata
        const char *t2 = memchr(t1 + 1, '\t', (size_t)(end - t1 - 1));
        if (!t2) continue;
        const char *t3 = memchr(t2 + 1, '\t', (size_t)(end - t2 - 1));
        long long off = corpus_dictd_b64(t1 + 1, (size_t)(t2 - t1 - 1));
        long long len = corpus_dictd_b64(t2 + 1, (size_t)((t3 ? t3 : end) - t2 - 1));
        if (off < 0 || len <= 0 || (size_t)off + (size_t)len > dict_len) continue;
        if (n == cap) {
            cap *= 2;
            corpus_span *grown = realloc(e, cap * sizeof *e);
            if (!grown) die(NULL, "out of memory reading a dictd index");
            e = grown;
        }
        e[n++] = (corpus_span){(size_t)off, (size_t)len};
    }
    qsort(e, n, sizeof *e, cmp_span);
    // Several headwords may share one definition: keep each stretch of the file once.
    size_t kept = 0, covered = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && e[i].off < covered) continue;
        e[kept++] = e[i];
        covered = e[i].off + e[i].len;
    }
    *n_out = kept;
    return e;
}

// ---- GCIDE ---------------------------------------------------------------------------------

// GCIDE's named characters (the frequent ones) and their UTF-8.
static const char *const GCIDE_NAMED[][2] = {
    {"ae", "\u00e6"},   {"oe", "\u0153"},   {"imac", "\u012b"}, {"amac", "\u0101"}, {"emac", "\u0113"},
    {"omac", "\u014d"}, {"umac", "\u016b"}, {"aum", "\u00e4"},  {"eum", "\u00eb"},  {"ium", "\u00ef"},
    {"oum", "\u00f6"},  {"uum", "\u00fc"},  {"udd", "\u00fc"},  {"eth", "\u00f0"},  {"thorn", "\u00fe"},
    {"deg", "\u00b0"},  {"root", "\u221a"}, {"sect", "\u00a7"}, {"yogh", "\u021d"}, {"ng", "\u014b"},
    {"alpha", "\u03b1"}, {"beta", "\u03b2"},
};

// "[a^]", "[=e]", "[\"u]": a lowercase letter or two with diacritic marks -> the letters;
// "[imac]", "[ae]": a named character -> its UTF-8.
static int accent_code(const char *s, size_t n, size_t *consumed, byte_buf *out) {
    size_t close = 1;
    while (close < n && close <= 6 && s[close] != ']') close++;
    if (close >= n || s[close] != ']' || close == 1) return 0;
    for (size_t k = 0; k < sizeof GCIDE_NAMED / sizeof GCIDE_NAMED[0]; k++)
        if (strlen(GCIDE_NAMED[k][0]) == close - 1 && !memcmp(s + 1, GCIDE_NAMED[k][0], close - 1)) {
            byte_buf_puts(out, GCIDE_NAMED[k][1]);
            *consumed = close + 1;
            return 1;
        }
    int letters = 0, marks = 0;
    for (size_t i = 1; i < close; i++) {
        if (s[i] >= 'a' && s[i] <= 'z') letters++;
        else if (strchr("^=.`'\"~,-:", s[i])) marks++;
        else return 0;
    }
    if (letters < 1 || letters > 2 || !marks) return 0;
    for (size_t i = 1; i < close; i++)
        if (s[i] >= 'a' && s[i] <= 'z') buf_putc(out, s[i]);
    *consumed = close + 1;
    return 1;
}

// A whole line that is only a bracketed source tag: "[1913 Webster]", "[PJC]".
static int is_source_tag(const char *line, size_t n) {
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\r')) n--;
    return n >= 3 && line[0] == '[' && line[n - 1] == ']' && !memchr(line + 1, ']', n - 2);
}

// After a \head\ word: skip spaces and one "(pronunciation)" group.
static size_t skip_pronunciation(const char *s, size_t i, size_t n) {
    size_t j = i;
    while (j < n && s[j] == ' ') j++;
    if (j < n && s[j] == '(') {
        int depth = 0;
        for (; j < n; j++) {
            if (s[j] == '(') depth++;
            else if (s[j] == ')' && --depth == 0) {
                j++;
                break;
            }
        }
    }
    return j;
}

static void gcide_line(byte_buf *out, const char *line, size_t n, void *ctx) {
    (void)ctx;
    size_t i = skip_indent(line, n);
    if (is_source_tag(line + i, n - i)) return;
    for (; i < n; i++) {
        char c = line[i];
        size_t used;
        if (c == '\\') {
            const char *close = memchr(line + i + 1, '\\', n - i - 1);
            if (!close) continue;
            buf_trim_spaces(out);
            i = skip_pronunciation(line, (size_t)(close - line) + 1, n);
            if (i < n && line[i] != ',' && line[i] != ';' && line[i] != '.') buf_putc(out, ' ');
            i--;
        } else if (c == '{' || c == '}') {
            continue;
        } else if (c == '[' && accent_code(line + i, n - i, &used, out)) {
            i += used - 1;
        } else {
            buf_putc(out, c);
        }
    }
    buf_putc(out, '\n');
}

void corpus_strip_gcide(byte_buf *out, const char *s, size_t n) { for_each_line(out, s, n, gcide_line, NULL); }

// ---- FOLDOC, Jargon File ---------------------------------------------------------------------

static int is_date_line(const char *line, size_t n) {
    static const char pat[] = "(dddd-dd-dd)";
    if (n != sizeof pat - 1) return 0;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == 'd' ? !(line[i] >= '0' && line[i] <= '9') : line[i] != pat[i]) return 0;
    return 1;
}

static void braces_line(byte_buf *out, const char *line, size_t n, void *drop_dates) {
    size_t i = skip_indent(line, n);
    if (drop_dates && is_date_line(line + i, n - i)) return;
    for (; i < n; i++)
        if (line[i] != '{' && line[i] != '}') buf_putc(out, line[i]);
    buf_putc(out, '\n');
}

void corpus_strip_foldoc(byte_buf *out, const char *s, size_t n) {
    static int drop_dates = 1;
    for_each_line(out, s, n, braces_line, &drop_dates);
}

void corpus_strip_braces(byte_buf *out, const char *s, size_t n) { for_each_line(out, s, n, braces_line, NULL); }

// ---- WordNet -------------------------------------------------------------------------------

// Next field of line[*i..n), separated by spaces or tabs of line[*i..n).
static const char *next_field(const char *line, size_t n, size_t *i, size_t *len) {
    while (*i < n && (line[*i] == ' ' || line[*i] == '\t')) (*i)++;
    size_t start = *i;
    while (*i < n && line[*i] != ' ' && line[*i] != '\t') (*i)++;
    *len = *i - start;
    return *len ? line + start : NULL;
}

static void wordnet_line(byte_buf *out, const char *line, size_t n, void *ctx) {
    (void)ctx;
    if (n == 0 || line[0] == ' ') return;  // licence header lines start with two spaces
    const char *bar = NULL;
    for (size_t k = 0; k + 1 < n; k++)
        if (line[k] == '|' && line[k + 1] == ' ') bar = line + k;
    if (!bar) return;
    size_t i = 0, len;
    for (int k = 0; k < 3; k++) next_field(line, n, &i, &len);  // offset, lex file, synset type
    const char *cnt = next_field(line, n, &i, &len);
    if (!cnt) return;
    char hex[8] = {0};
    memcpy(hex, cnt, len < 7 ? len : 7);
    long words = strtol(hex, NULL, 16);
    for (long w = 0; w < words; w++) {
        const char *word = next_field(line, n, &i, &len);
        next_field(line, n, &i, &(size_t){0});  // lex_id
        if (!word) return;
        // Adjective markers "(a)", "(p)", "(ip)" follow the word without a space.
        const char *paren = memchr(word, '(', len);
        if (paren) len = (size_t)(paren - word);
        if (w) byte_buf_puts(out, ", ");
        for (size_t k = 0; k < len; k++) buf_putc(out, word[k] == '_' ? ' ' : word[k]);
    }
    byte_buf_puts(out, ": ");
    const char *gloss = bar + 2, *end = line + n;
    while (end > gloss && (end[-1] == ' ' || end[-1] == '\r')) end--;
    byte_buf_put(out, gloss, (size_t)(end - gloss));
    buf_putc(out, '\n');
}

void corpus_wordnet_glosses(byte_buf *out, const char *s, size_t n) { for_each_line(out, s, n, wordnet_line, NULL); }

// ---- Brown Corpus --------------------------------------------------------------------------

static int is_one_of(const char *w, size_t n, const char *const *set) {
    for (; *set; set++)
        if (strlen(*set) == n && !memcmp(*set, w, n)) return 1;
    return 0;
}

static void brown_line(byte_buf *out, const char *line, size_t n, void *ctx) {
    (void)ctx;
    static const char *const no_space_before[] = {".", ",", ";", ":", "?", "!", ")", "]", "''", "'", NULL};
    static const char *const no_space_after[] = {"``", "(", "[", NULL};
    size_t i = 0, len;
    int first = 1, glue = 0;
    const char *tok;
    while ((tok = next_field(line, n, &i, &len))) {
        const char *slash = NULL;
        for (size_t k = len; k-- > 0;)
            if (tok[k] == '/') {
                slash = tok + k;
                break;
            }
        size_t wlen = slash && slash > tok ? (size_t)(slash - tok) : len;
        if (!first && !glue && !is_one_of(tok, wlen, no_space_before)) buf_putc(out, ' ');
        if (wlen == 2 && (!memcmp(tok, "``", 2) || !memcmp(tok, "''", 2))) buf_putc(out, '"');
        else byte_buf_put(out, tok, wlen);
        glue = is_one_of(tok, wlen, no_space_after);
        first = 0;
    }
    if (!first) buf_putc(out, '\n');
}

void corpus_untag_brown(byte_buf *out, const char *s, size_t n) { for_each_line(out, s, n, brown_line, NULL); }

// ---- fortunes ------------------------------------------------------------------------------

static void fortune_line(byte_buf *out, const char *line, size_t n, void *ctx) {
    (void)ctx;
    if (!(n == 1 && line[0] == '%')) byte_buf_put(out, line, n);
    buf_putc(out, '\n');
}

void corpus_fortunes_paragraphs(byte_buf *out, const char *s, size_t n) {
    for_each_line(out, s, n, fortune_line, NULL);
}

// ---- the Bible -----------------------------------------------------------------------------

// "Genesis 1", "1 Samuel 1": a header line (no indentation) of chapter 1 opens a book.
static int book_header(const char *line, size_t n) {
    return n > 2 && line[0] != ' ' && line[n - 2] == ' ' && line[n - 1] == '1';
}

void corpus_split_bible_books(const char *s, size_t n, corpus_emit_fn emit, void *ctx) {
    byte_buf book = {0};
    char id[128] = "";
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\n') continue;
        const char *line = s + start;
        size_t len = i - start;
        start = i + 1;
        if (book_header(line, len)) {
            if (book.n && id[0]) emit(ctx, id, book.p, book.n);
            book.n = 0;
            snprintf(id, sizeof id, "kjv/%.*s", (int)(len - 2 < 100 ? len - 2 : 100), line);
        }
        size_t k = skip_indent(line, len);
        byte_buf_put(&book, line + k, len - k);
        buf_putc(&book, '\n');
    }
    if (book.n && id[0]) emit(ctx, id, book.p, book.n);
    free(book.p);
}
