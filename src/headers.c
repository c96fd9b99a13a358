/*
 * headers.c: response header lines -> a packed list (see headers.h for the rules).
 *
 * Lengths are stored as bytes (the packed buffer has no alignment), and every read checks
 * that an entry lies wholly inside the buffer, so a corrupt or truncated buffer cannot send a
 * reader past its end.
 */
#include "headers.h"

#include <string.h>

void anth_headers_init(anth_headers *h)
{
    h->buf.p = NULL;
    h->buf.len = h->buf.cap = 0;
    h->count = 0;
}

void anth_headers_free(anth_headers *h)
{
    anth_buf_free(&h->buf);
    h->count = 0;
}

void anth_headers_clear(anth_headers *h)
{
    h->buf.len = h->count = 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int anth_headers_add_line(anth_headers *h, const char *line, size_t n)
{
    const char *end = line + n, *colon, *v;
    size_t nl, vl, k, at;
    char *name;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0)
        return 0;
    colon = memchr(line, ':', n);
    if (colon == NULL || colon == line)
        return 0;
    nl = (size_t)(colon - line);
    v = colon + 1;
    while (end > v && (end[-1] == '\n' || end[-1] == '\r' || is_ows(end[-1])))
        end--;
    while (v < end && is_ows(*v))
        v++;
    vl = (size_t)(end - v);
    at = h->buf.len;
    if (anth_buf_append(&h->buf, (const char *)&nl, sizeof nl) != 0 ||
        anth_buf_append(&h->buf, (const char *)&vl, sizeof vl) != 0 ||
        anth_buf_append(&h->buf, line, nl) != 0 || anth_buf_append(&h->buf, v, vl) != 0) {
        h->buf.len = at;              /* no half entry */
        return -1;
    }
    name = h->buf.p + at + 2 * sizeof(size_t);
    for (k = 0; k < nl; k++)
        if (name[k] >= 'A' && name[k] <= 'Z')
            name[k] = (char)(name[k] + 32);
    h->count++;
    return 0;
}

int anth_headers_next(const char *packed, size_t len, size_t *pos, anth_header *out)
{
    size_t at = *pos, nl, vl;
    if (packed == NULL || at >= len || len - at < 2 * sizeof(size_t))
        return 0;
    memcpy(&nl, packed + at, sizeof nl);
    memcpy(&vl, packed + at + sizeof nl, sizeof vl);
    at += 2 * sizeof(size_t);
    if (nl > len - at || vl > len - at - nl)
        return 0;
    out->name = packed + at;
    out->name_len = nl;
    out->value = packed + at + nl;
    out->value_len = vl;
    *pos = at + nl + vl;
    return 1;
}

static int same_name(const char *lower, const char *name, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (lower[i] != c)
            return 0;
    }
    return 1;
}

const char *anth_headers_first(const char *packed, size_t len, const char *name,
                               size_t name_len, size_t *value_len)
{
    size_t pos = 0;
    anth_header e;
    while (anth_headers_next(packed, len, &pos, &e))
        if (e.name_len == name_len && same_name(e.name, name, name_len)) {
            *value_len = e.value_len;
            return e.value;
        }
    *value_len = 0;
    return NULL;
}
