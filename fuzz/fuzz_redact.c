/*
 * fuzz_redact.c: libFuzzer target for src/redact.c. Input: byte 0 is the secret's length
 * (mod 64), the secret follows, then the text. Besides "no crash, no UB", the covered bytes
 * must equal the oracle's (spec/c/redact_oracle.h) and the output must be the text with each
 * covered run replaced by one mark; any difference abort()s.
 */
#include "../spec/c/redact_oracle.h"
#include "../src/redact.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len, n;
    const char *secret, *text;
    unsigned char *want, *got;
    if (size < 1)
        return 0;
    len = data[0] % 64;
    if (len > size - 1)
        len = size - 1;
    secret = (const char *)data + 1;
    text = secret + len;
    n = size - 1 - len;
    want = calloc(n + 1, 1);
    got = calloc(n + 1, 1);
    if (want == NULL || got == NULL)
        abort();
    oracle_mark(text, n, secret, len, want);
    if (anth_redact_mark(text, n, secret, len, got) < 0)
        abort();
    if (memcmp(want, got, n) != 0) {
        fprintf(stderr, "fuzz_redact: covered bytes differ from the oracle\n");
        abort();
    }
    {
        /* The output is the text with each maximal covered run replaced by one mark. */
        size_t out_len = anth_redact_size(n, got), i = 0, o = 0;
        char *out = malloc(out_len + 1);
        if (out == NULL || anth_redact_apply(text, n, got, out) != out_len)
            abort();
        while (i < n) {
            if (got[i]) {
                while (i < n && got[i])
                    i++;
                if (o + 10 > out_len || memcmp(out + o, ANTH_REDACT_MARK, 10) != 0)
                    abort();
                o += 10;
            } else {
                if (o >= out_len || out[o] != text[i])
                    abort();
                o++;
                i++;
            }
        }
        if (o != out_len)
            abort();
        free(out);
    }
    free(want);
    free(got);
    return 0;
}
