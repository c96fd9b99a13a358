/*
 * headers.c: response header lines -> a packed list (see headers.h for the rules).
 *
 * Lengths are stored with memcpy (the packed buffer has no alignment), and every read checks
 * that an entry lies wholly inside the buffer, so a corrupt or truncated buffer cannot send a
 * reader past its end.
 */
#include "headers.h"

#include <stdlib.h>
#include <string.h>

void anth_headers_init(anth_headers *h)
{
    h->p = NULL;
    h->len = h->cap = h->count = 0;
}

void anth_headers_free(anth_headers *h)
{
    free(h->p);
    anth_headers_init(h);
}

void anth_headers_clear(anth_headers *h)
{
    h->len = h->count = 0;
}

static int reserve(anth_headers *h, size_t more)
{
    size_t need = h->len + more, cap;
    char *q;
    if (need < h->len)
        return -1;
    if (need <= h->cap)
        return 0;
    cap = h->cap ? h->cap : 512;
    while (cap < need) {
        if (cap > (size_t)-1 / 2)
            return -1;
        cap *= 2;
    }
    q = realloc(h->p, cap);
    if (q == NULL)
        return -1;
    h->p = q;
    h->cap = cap;
    return 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int anth_headers_add_line(anth_headers *h, const char *line, size_t n)
{
    const char *end = line + n, *colon, *v;
    size_t nl, vl, k;
    char *dst;
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
    if (reserve(h, 2 * sizeof(size_t) + nl + vl) != 0)
        return -1;
    dst = h->p + h->len;
    memcpy(dst, &nl, sizeof nl);
    memcpy(dst + sizeof nl, &vl, sizeof vl);
    dst += 2 * sizeof(size_t);
    for (k = 0; k < nl; k++)
        dst[k] = (char)((line[k] >= 'A' && line[k] <= 'Z') ? line[k] + 32 : line[k]);
    memcpy(dst + nl, v, vl);
    h->len += 2 * sizeof(size_t) + nl + vl;
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
