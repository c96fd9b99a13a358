/*
 * bedrock_chunk.c: see bedrock_chunk.h. Every Bedrock stream event comes wrapped in one of
 * these objects; reading it by its bytes spares a table and two strings per event (the
 * cjson decode of the wrapper cost about as much as the event inside it).
 */
#include "bedrock_chunk.h"

#include <string.h>

#include "crypto.h"

#define PREFIX "{\"bytes\":\""
#define PADDING "\",\"p\":\""

/* What the padding may hold: printable ASCII but the two bytes a JSON string escapes. No
 * branch a byte (the padding is up to a few dozen bytes on every event). */
static unsigned padding_byte(unsigned char c)
{
    return ((unsigned)(c - 0x20) < 0x5fu) & (c != '"') & (c != '\\');
}

/* 1 when s[end..n) closes the object: '"}' or the padding member and '}'. */
static int closes(const char *s, size_t end, size_t n)
{
    const size_t qlen = sizeof PADDING - 1;
    size_t i;
    unsigned ok = 1;
    if (n - end == 2)
        return s[end] == '"' && s[end + 1] == '}';
    if (n - end < qlen + 2 || memcmp(s + end, PADDING, qlen) != 0 || s[n - 2] != '"' ||
        s[n - 1] != '}')
        return 0;
    for (i = end + qlen; i < n - 2; i++)
        ok &= padding_byte((unsigned char)s[i]);
    return (int)ok;
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
