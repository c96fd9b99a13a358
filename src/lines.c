/*
 * lines.c: JSONL framing (see lines.h for the rules). A line that arrives whole in one feed
 * is handed to the callback in place, without a copy; only a line split across feeds is
 * collected in `partial`.
 */
#include "lines.h"

#include <string.h>

void anth_lines_init(anth_lines *f, size_t max_line)
{
    memset(f, 0, sizeof *f);
    f->max_line = max_line;
}

void anth_lines_reset(anth_lines *f)
{
    f->partial.len = 0;
    f->stopped = 0;
}

void anth_lines_free(anth_lines *f)
{
    anth_buf_free(&f->partial);
    f->stopped = 0;
}

static int emit(anth_lines_cb cb, void *ud, const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return 0;
    return cb(ud, p, n);
}

static int stop(anth_lines *f, int rc)
{
    f->stopped = rc;
    return rc;
}

int anth_lines_feed(anth_lines *f, const char *p, size_t len, anth_lines_cb cb, void *ud)
{
    const char *end = p + len, *nl;
    int rc;
    if (f->stopped)
        return f->stopped;
    if (len == 0)
        return 0;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        size_t n = (size_t)(nl - p);
        if (f->max_line && f->partial.len + n > f->max_line)
            return stop(f, ANTH_LINES_ETOOBIG);
        if (f->partial.len) {
            if (anth_buf_append(&f->partial, p, n) != 0)
                return stop(f, ANTH_LINES_ENOMEM);
            rc = emit(cb, ud, f->partial.p, f->partial.len);
            f->partial.len = 0;
        } else {
            rc = emit(cb, ud, p, n);
        }
        if (rc != 0)
            return stop(f, rc);
        p = nl + 1;
    }
    if (p < end) {
        if (f->max_line && f->partial.len + (size_t)(end - p) > f->max_line)
            return stop(f, ANTH_LINES_ETOOBIG);
        if (anth_buf_append(&f->partial, p, (size_t)(end - p)) != 0)
            return stop(f, ANTH_LINES_ENOMEM);
    }
    return 0;
}

int anth_lines_finish(anth_lines *f, anth_lines_cb cb, void *ud)
{
    int rc = 0;
    if (f->stopped)
        return f->stopped;
    if (f->partial.len) {
        rc = emit(cb, ud, f->partial.p, f->partial.len);
        f->partial.len = 0;
    }
    return rc ? stop(f, rc) : 0;
}
