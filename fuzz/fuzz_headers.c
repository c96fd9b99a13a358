/*
 * fuzz_headers.c: libFuzzer target for src/headers.c. The input is a header block (lines
 * split on LF, each handed over with its LF, as libcurl does). After parsing, every entry read
 * back must be what a naive reading of the same line gives (lowercased name before the first
 * colon, value trimmed of spaces, tabs, CR and LF), and a lookup of each name in upper case
 * must find the first entry of that name; any difference abort()s.
 */
#include "../src/headers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_headers: failed at line %d: %s\n", __LINE__, #cond);   \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static int fz_ows(char c)
{
    return c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    anth_headers h;
    size_t pos = 0, entries = 0;
    anth_header e;
    anth_headers_init(&h);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        FZ_CHECK(anth_headers_add_line(&h, p, (size_t)(le - p)) == 0);
        p = le;
    }
    /* Replay the lines with the naive reading, in step with the entries. */
    p = (const char *)data;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        size_t n = (size_t)(le - p);
        const char *colon = memchr(p, ':', n);
        if (!(n >= 5 && memcmp(p, "HTTP/", 5) == 0) && colon && colon > p) {
            const char *v, *ve;
            size_t k;
            FZ_CHECK(anth_headers_next(h.buf.p, h.buf.len, &pos, &e));
            FZ_CHECK(e.name_len == (size_t)(colon - p));
            for (k = 0; k < e.name_len; k++) {
                char c = p[k];
                if (c >= 'A' && c <= 'Z')
                    c = (char)(c + 32);
                FZ_CHECK(e.name[k] == c);
            }
            v = colon + 1;
            ve = le;
            while (ve > v && (ve[-1] == '\n' || ve[-1] == '\r' || fz_ows(ve[-1])))
                ve--;
            while (v < ve && fz_ows(*v))
                v++;
            FZ_CHECK(e.value_len == (size_t)(ve - v) && memcmp(e.value, v, e.value_len) == 0);
            if (e.name_len < 64) {
                char upper[64];
                size_t vlen;
                const char *found;
                for (k = 0; k < e.name_len; k++)
                    upper[k] = (char)((e.name[k] >= 'a' && e.name[k] <= 'z') ? e.name[k] - 32
                                                                             : e.name[k]);
                found = anth_headers_first(h.buf.p, h.buf.len, upper, e.name_len, &vlen);
                FZ_CHECK(found != NULL && found <= e.value);
            }
            entries++;
        }
        p = le;
    }
    FZ_CHECK(!anth_headers_next(h.buf.p, h.buf.len, &pos, &e));
    FZ_CHECK(entries == h.count);
    anth_headers_free(&h);
    return 0;
}
