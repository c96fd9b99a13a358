/*
 * fuzz_text_delta.c: libFuzzer target for src/text_delta.c. Besides "no crash, no UB, no
 * read past the input", the match must agree with an oracle written apart (it tries every
 * position of the closing quote from the left, as the first Lua version did, and checks the
 * padding space by space) on whether an input is the frame, its index, where its string lies and
 * whether that string is plain: any difference abort()s. Inputs are also tried behind the
 * frame's head, so that most of them reach the index, the string and the padding.
 */
#include "../src/text_delta.h"

#include "as_is_and_behind.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char HEAD[] = "{\"type\":\"content_block_delta\",\"index\":";
static const char MIDDLE[] = ",\"delta\":{\"type\":\"text_delta\",\"text\":\"";

/* 1 when s[i..j) holds only spaces. */
static int spaces(const char *s, size_t i, size_t j)
{
    for (; i < j; i++)
        if (s[i] != ' ')
            return 0;
    return 1;
}

static int oracle(const char *s, size_t n, anth_text_delta *d)
{
    size_t h = sizeof HEAD - 1, m = sizeof MIDDLE - 1, i = h, digits, open, c, k;
    unsigned long index = 0;
    if (n < h || memcmp(s, HEAD, h) != 0)
        return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    digits = i - h;
    if (digits == 0 || digits > 9 || (s[h] == '0' && digits > 1))
        return 0;
    for (k = h; k < i; k++)
        index = index * 10 + (unsigned long)(s[k] - '0');
    if (n - i < m || memcmp(s + i, MIDDLE, m) != 0)
        return 0;
    open = i + m - 1;
    for (c = open + 1; c + 2 < n + 1; c++) {
        /* the string closes at c when '"}' follows, then only padding and the last '}' */
        size_t gap;
        if (c + 2 > n - 1 || s[c] != '"' || s[c + 1] != '}')
            continue;
        gap = n - 1 - (c + 2);
        if (s[n - 1] != '}' || gap > ANTH_TEXT_DELTA_MAX_PADDING || !spaces(s, c + 2, n - 1))
            continue;
        d->index = index;
        d->off = open;
        d->len = c - open + 1;
        d->plain = 1;
        for (k = open + 1; k < c; k++) {
            if (s[k] == '\0')
                return 0;   /* cjson would stop at it: not a string of the frame */
            if (s[k] == '\\' || s[k] == '"')
                d->plain = 0;
        }
        return 1;
    }
    return 0;
}

static void one(const char *s, size_t n)
{
    anth_text_delta got, want;
    int g, w;
    memset(&got, 0, sizeof got);
    memset(&want, 0, sizeof want);
    g = anth_text_delta_match(s, n, &got);
    w = oracle(s, n, &want);
    if (g != w || (g && (got.index != want.index || got.off != want.off || got.len != want.len ||
                         got.plain != want.plain))) {
        fprintf(stderr, "fuzz_text_delta: %d where the oracle says %d\n", g, w);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_is_and_behind(one, HEAD, data, size);
    return 0;
}
