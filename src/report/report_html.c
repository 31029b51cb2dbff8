// report_html.c — report.html from report.md: the markdown subset the report writes (headings,
// paragraphs, "- " lists, pipe tables, `code`, **bold**, _emphasis_ lines, image lines) turned into HTML,
// with each figure's SVG embedded as a base64 data URI, so the file needs nothing beside it.
#include "report/rp_html.h"

#include <stdio.h>
#include <string.h>

static void escape(rp_buf *o, const char *s, size_t n) {
    int code = 0, strong = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '*' && i + 1 < n && s[i + 1] == '*' && !code) {   // **bold** (the report's warnings)
            rp_puts(o, (strong = !strong) ? "<strong>" : "</strong>");
            i++;
        } else if (ch == '&') rp_puts(o, "&amp;");
        else if (ch == '<') rp_puts(o, "&lt;");
        else if (ch == '>') rp_puts(o, "&gt;");
        else if (ch == '"') rp_puts(o, "&quot;");
        else if (ch == '`') rp_puts(o, (code = !code) ? "<code>" : "</code>");
        else rp_append(o, &ch, 1);
    }
    if (code) rp_puts(o, "</code>");
    if (strong) rp_puts(o, "</strong>");
}

static void base64(rp_buf *o, const unsigned char *p, size_t n) {
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {T[v >> 18 & 63], T[v >> 12 & 63], i + 1 < n ? T[v >> 6 & 63] : '=', i + 2 < n ? T[v & 63] : '='};
        rp_append(o, q, 4);
    }
}

// "![caption](figures/x.svg)": the figure inline. Returns 0, or -1 with err set.
static int image(rp_buf *o, const char *dir, const char *line, size_t n, char *err, size_t errlen) {
    const char *mid = memchr(line, ']', n);
    if (!mid || mid[1] != '(' || line[n - 1] != ')') return escape(o, line, n), 0;
    char path[1200];
    snprintf(path, sizeof path, "%s/%.*s", dir, (int)(line + n - 1 - (mid + 2)), mid + 2);
    rp_buf svg = {0};
    if (rp_read_file(path, &svg)) {
        snprintf(err, errlen, "cannot read the figure %s for report.html", path);
        return -1;
    }
    rp_puts(o, "<figure><img alt=\"");
    escape(o, line + 2, (size_t)(mid - line - 2));
    rp_puts(o, "\" src=\"data:image/svg+xml;base64,");
    base64(o, (const unsigned char *)svg.p, svg.n);
    rp_puts(o, "\"><figcaption>");
    escape(o, line + 2, (size_t)(mid - line - 2));
    rp_puts(o, "</figcaption></figure>\n");
    rp_buf_free(&svg);
    return 0;
}

static void table_row(rp_buf *o, const char *line, size_t n, const char *cell) {
    rp_puts(o, "<tr>");
    const char *p = line + 1, *end = line + n;
    while (p < end) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        if (!bar) break;
        const char *a = p, *b = bar;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        rp_printf(o, "<%s>", cell);
        escape(o, a, (size_t)(b - a));
        rp_printf(o, "</%s>", cell);
        p = bar + 1;
    }
    rp_puts(o, "</tr>\n");
}

static const char *STYLE =
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #bbb;padding:3px 7px;"
    "text-align:left}th{background:#eee}figure{margin:1em 0}img{max-width:100%}code{background:#f3f3f3}"
    "h2{border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:2em}";

int rp_html(const char *dir, const char *md, rp_buf *o, char *err, size_t errlen) {
    rp_printf(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>actlab report</title>\n"
                 "<style>%s</style>\n</head>\n<body>\n", STYLE);
    enum { NONE, PARA, LIST, TABLE };
    int open = NONE;
    int table_head = 0;
    const char *p = md;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        int kind = n == 0 ? NONE : p[0] == '|' ? TABLE : (n > 1 && p[0] == '-' && p[1] == ' ') ? LIST : PARA;
        int heading = p[0] == '#', img = n > 4 && !strncmp(p, "![", 2);
        if (open != NONE && (kind != open || heading || img)) {
            rp_puts(o, open == PARA ? "</p>\n" : open == LIST ? "</ul>\n" : "</tbody></table>\n");
            open = NONE;
        }
        if (heading) {
            int lv = 0;
            while (lv < (int)n && p[lv] == '#') lv++;
            rp_printf(o, "<h%d>", lv);
            escape(o, p + lv + 1, n > (size_t)lv ? n - (size_t)lv - 1 : 0);
            rp_printf(o, "</h%d>\n", lv);
        } else if (img) {
            if (image(o, dir, p, n, err, errlen)) return -1;
        } else if (kind == TABLE) {
            if (open != TABLE) rp_puts(o, "<table><thead>\n"), open = TABLE, table_head = 1;
            if (n > 2 && p[1] == '-') rp_puts(o, "</thead><tbody>\n"), table_head = 0;
            else table_row(o, p, n, table_head ? "th" : "td");
        } else if (kind == LIST) {
            if (open != LIST) rp_puts(o, "<ul>\n"), open = LIST;
            rp_puts(o, "<li>");
            escape(o, p + 2, n - 2);
            rp_puts(o, "</li>\n");
        } else if (kind == PARA) {
            if (open != PARA) rp_puts(o, "<p>"), open = PARA;
            else rp_puts(o, "\n");
            int em = n > 2 && p[0] == '_' && p[n - 1] == '_';
            if (em) rp_puts(o, "<em>");
            escape(o, p + em, n - 2 * (size_t)em);
            if (em) rp_puts(o, "</em>");
        }
        p += n + (nl != NULL);
    }
    if (open != NONE) rp_puts(o, open == PARA ? "</p>\n" : open == LIST ? "</ul>\n" : "</tbody></table>\n");
    rp_puts(o, "</body>\n</html>\n");
    return 0;
}
