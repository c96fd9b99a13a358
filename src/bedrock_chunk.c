/*
 * bedrock_chunk.c: see bedrock_chunk.h. Every Bedrock stream event comes wrapped in one of
 * these objects; reading it by its bytes spares a table and two strings per event (the
 * cjson decode of the wrapper cost about as much as the event inside it).
 */
#include "bedrock_chunk.h"

#include <stdint.h>
#include <string.h>

#include "crypto.h"

#define PREFIX "{\"bytes\":\""
#define PADDING "\",\"p\":\""

/* What the padding may hold: printable ASCII but the two bytes a JSON string escapes. */
static unsigned padding_byte(unsigned char c)
{
    return ((unsigned)(c - 0x20) < 0x5fu) & (c != '"') & (c != '\\');
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS (ONES * 0x80)
/* Nonzero when some byte of w is 0 (its 0x80 bit set; a borrow may set more above it, which
 * changes nothing here: only whether any is set is read). */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/* 1 when each of p's n bytes is a padding byte. The padding is up to a few dozen bytes on every
 * event, so it is read eight at a time: a byte below 0x20 borrows, one above 0x7e carries into
 * (or already has) its 0x80 bit, and '"' or '\\' is a zero after the XOR; then byte by byte. */
static unsigned padding_ok(const char *p, size_t n)
{
    uint64_t bad = 0;
    unsigned ok = 1;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        bad |= ((w - ONES * 0x20) & ~w & HIGHS) | ((w + ONES) | w) |
               HAS_ZERO(w ^ (ONES * '"')) | HAS_ZERO(w ^ (ONES * '\\'));
    }
    for (; i < n; i++)
        ok &= padding_byte((unsigned char)p[i]);
    return ok & ((bad & HIGHS) == 0);
}

/* 1 when s[end..n) closes the object: '"}' or the padding member and '}'. */
static int closes(const char *s, size_t end, size_t n)
{
    const size_t qlen = sizeof PADDING - 1;
    if (n - end == 2)
        return s[end] == '"' && s[end + 1] == '}';
    if (n - end < qlen + 2 || memcmp(s + end, PADDING, qlen) != 0 || s[n - 2] != '"' ||
        s[n - 1] != '}')
        return 0;
    return (int)padding_ok(s + end + qlen, n - 2 - end - qlen);
}

int anth_bedrock_chunk_b64(const char *s, size_t n, size_t *off, size_t *len)
{
    const size_t plen = sizeof PREFIX - 1;
    size_t end;
    if (n < plen + 2 || memcmp(s, PREFIX, plen) != 0)
        return 0;
    end = plen + anth_base64_span(s + plen, n - plen);
    if (!closes(s, end, n))
        return 0;
    *off = plen;
    *len = end - plen;
    return 1;
}

size_t anth_bedrock_chunk_decode(const char *s, size_t n, unsigned char *out)
{
    size_t off, len;
    if (!anth_bedrock_chunk_b64(s, n, &off, &len))
        return (size_t)-1;
    return anth_base64_decode_span(s + off, len, out);   /* the match checked its bytes */
}
