/*
 * text_delta.c: see text_delta.h. Text deltas are most of the events of a stream; reading
 * their frame by its bytes spares the decode of two tables per delta, and for plain text
 * (no escapes) the decode altogether.
 */
#include "text_delta.h"

#include <string.h>

#define HEAD "{\"type\":\"content_block_delta\",\"index\":"
#define MIDDLE ",\"delta\":{\"type\":\"text_delta\",\"text\":\""

/* Reads a JSON integer of at most 9 digits (no sign, no leading zero) at s[*i..n). */
static int read_index(const char *s, size_t n, size_t *i, unsigned long *out)
{
    size_t start = *i, k = start;
    unsigned long v = 0;
    while (k < n && k - start < 10 && s[k] >= '0' && s[k] <= '9')
        v = v * 10 + (unsigned long)(s[k++] - '0');
    if (k == start || k - start > 9 || (s[start] == '0' && k - start > 1))
        return 0;
    *i = k;
    *out = v;
    return 1;
}

int anth_text_delta_match(const char *s, size_t n, anth_text_delta *d)
{
    const size_t hlen = sizeof HEAD - 1, mlen = sizeof MIDDLE - 1;
    size_t i = hlen, open, close, pad = 0, k;
    unsigned long index;
    if (n < hlen || memcmp(s, HEAD, hlen) != 0 || !read_index(s, n, &i, &index))
        return 0;
    if (n - i < mlen || memcmp(s + i, MIDDLE, mlen) != 0)
        return 0;
    open = i + mlen - 1;   /* the string's opening quote */
    /* From the end: '}', the padding, '}' and the string's closing quote. */
    if (n - open < 4 || s[n - 1] != '}')
        return 0;
    k = n - 2;
    while (k > open && s[k] == ' ' && pad <= ANTH_TEXT_DELTA_MAX_PADDING) {
        k--;
        pad++;
    }
    if (pad > ANTH_TEXT_DELTA_MAX_PADDING || k <= open + 1 || s[k] != '}' || s[k - 1] != '"')
        return 0;
    close = k - 1;
    /* cjson reads a NUL as the end of its input, so a string holding one is no string of
     * this frame to it, whatever follows: left to the caller's full decode. */
    if (memchr(s + open + 1, '\0', close - open - 1) != NULL)
        return 0;
    d->index = index;
    d->off = open;
    d->len = close - open + 1;
    d->plain = 1;
    for (k = open + 1; k < close; k++) {
        if (s[k] == '\\' || s[k] == '"') {
            d->plain = 0;
            break;
        }
    }
    return 1;
}
