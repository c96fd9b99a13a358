/*
 * headers.c: response header lines -> a packed list (see headers.h for the rules).
 *
 * Lengths are stored as bytes (the packed buffer has no alignment), and every read checks
 * that an entry lies wholly inside the buffer, so a corrupt or truncated buffer cannot send a
 * reader past its end.
 */
#include "headers.h"

#include <stdint.h>
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

/* A response's header block is about 1.4 KB (the API's 23 lines): the first buffer holds one
 * whole, so a response's headers cost one allocation, not a 1 KB one and a regrowth. */
#define FIRST_CAP 2048

/* Copies n bytes of a header name, ASCII A-Z lowercased. Eight bytes at a time (every
 * header line passes here, and a byte loop was most of a line's cost): in each byte, with
 * its top bit cleared, adding 0x3f sets the top bit from 'A' up and adding 0x25 from '[' up,
 * neither carrying into the next byte; a byte that had its top bit set is no letter. */
static void copy_lower(char *dst, const char *src, size_t n)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu, top = 0x8080808080808080u;
    const uint64_t from_a = 0x3f3f3f3f3f3f3f3fu, past_z = 0x2525252525252525u;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w, hept, upper;
        memcpy(&w, src + k, 8);
        hept = w & low7;
        upper = (hept + from_a) & ~(hept + past_z) & ~w & top;
        w |= upper >> 2;
        memcpy(dst + k, &w, 8);
    }
    for (; k < n; k++) {
        char c = src[k];
        dst[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
}

int anth_headers_add_line(anth_headers *h, const char *line, size_t n)
{
    const char *end = line + n, *colon, *v;
    size_t nl, vl, need;
    char *entry;
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
    need = 2 * sizeof(size_t) + nl + vl; /* nl + vl < n: no overflow */
    if (h->buf.cap == 0 && need < FIRST_CAP && anth_buf_reserve(&h->buf, FIRST_CAP - 1) != 0)
        return -1;
    if (anth_buf_reserve(&h->buf, need) != 0)
        return -1;                    /* nothing written: no half entry */
    entry = h->buf.p + h->buf.len;
    memcpy(entry, &nl, sizeof nl);
    memcpy(entry + sizeof nl, &vl, sizeof vl);
    copy_lower(entry + 2 * sizeof(size_t), line, nl);
    memcpy(entry + 2 * sizeof(size_t) + nl, v, vl);
    h->buf.len += need;
    h->buf.p[h->buf.len] = '\0';
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
