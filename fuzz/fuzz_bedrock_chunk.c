/*
 * fuzz_bedrock_chunk.c: libFuzzer target for src/bedrock_chunk.c. Besides "no crash, no
 * UB, no read past the input", the match must agree with an oracle written apart (strchr
 * on the allowed sets, byte by byte) on whether an input is AWS's shape and where its
 * base64 text lies, and the decode must give what the full base64 decoder gives for that
 * text, refusing exactly the texts an oracle refuses ('=' anywhere but the last one or two
 * bytes, a length not a multiple of 4): any difference abort()s.
 * Inputs are also tried behind the prefix, so that most of them reach the ending's checks.
 */
#include "../src/bedrock_chunk.h"
#include "../src/crypto.h"

#include "as_is_and_behind.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char PREFIX[] = "{\"bytes\":\"";
static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

static int in(const char *set, unsigned char c)
{
    return c != 0 && strchr(set, c) != NULL;
}

/* The oracle: is s exactly PREFIX + b64 + ('"}' | '","p":"' padding '"}'), with b64 the
 * longest run of the alphabet after the prefix? Sets *len to that run. */
static int oracle(const char *s, size_t n, size_t *len)
{
    size_t i, off = sizeof PREFIX - 1, end;
    if (n < off || memcmp(s, PREFIX, off) != 0)
        return 0;
    for (end = off; end < n && in(ALPHABET, (unsigned char)s[end]); end++)
        ;
    *len = end - off;
    if (n - end == 2)
        return s[end] == '"' && s[end + 1] == '}';
    if (n - end < 9 || memcmp(s + end, "\",\"p\":\"", 7) != 0 || memcmp(s + n - 2, "\"}", 2) != 0)
        return 0;
    /* a padding byte: printable ASCII but '"' and '\' */
    for (i = end + 7; i < n - 2; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* Whether a text of the alphabet and '=' is base64: '=' only as its last one or two bytes. */
static int oracle_base64(const char *b, size_t len)
{
    size_t i, body = len;
    if (len % 4 != 0)
        return 0;
    while (body > 0 && len - body < 2 && b[body - 1] == '=')
        body--;
    for (i = 0; i < body; i++)
        if (b[i] == '=')
            return 0;
    return 1;
}

static void check_decode(const char *s, size_t n, int matched, size_t off, size_t len)
{
    unsigned char *a = malloc(ANTH_BEDROCK_CHUNK_ROOM(n) + 1), *b = malloc(3 * (len / 4) + 1);
    size_t got, want;
    if (a == NULL || b == NULL)
        abort();
    got = anth_bedrock_chunk_decode(s, n, a);
    want = matched ? anth_base64_decode(s + off, len, b) : (size_t)-1;
    if (got != want || (got != (size_t)-1 && memcmp(a, b, got) != 0) ||
        (matched && (got != (size_t)-1) != oracle_base64(s + off, len))) {
        fprintf(stderr, "fuzz_bedrock_chunk: decoded %zu where the base64 decoder gives %zu\n",
                got, want);
        abort();
    }
    free(a);
    free(b);
}

static void one(const char *s, size_t n)
{
    size_t off = 0, len = 0, want_len = 0;
    int got, want;
    got = anth_bedrock_chunk_b64(s, n, &off, &len);
    want = oracle(s, n, &want_len);
    if (got != want || (got && (off != sizeof PREFIX - 1 || len != want_len))) {
        fprintf(stderr, "fuzz_bedrock_chunk: %d where the oracle says %d\n", got, want);
        abort();
    }
    check_decode(s, n, got, off, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_is_and_behind(one, PREFIX, data, size);
    return 0;
}
