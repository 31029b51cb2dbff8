// rp_html.h — report.html from the markdown of report.md (report_html.c).
#ifndef ACTLAB_REPORT_RP_HTML_H
#define ACTLAB_REPORT_RP_HTML_H

#include "report/rp.h"

// dir: the sweep folder (figure paths in md are relative to it). Returns 0, or -1 with err set.
int rp_html(const char *dir, const char *md, rp_buf *out, char *err, size_t errlen);

#endif
