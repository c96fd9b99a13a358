/*
 * fuzz_lines.c: libFuzzer target for src/lines.c, differential like fuzz_sse.c.
 *
 * Input layout: byte 0 = max_line (0 = none, else 1..255), byte 1 = chunking seed, the rest =
 * the body. It is framed three ways and the renderings (lines, final code) must be identical,
 * else we abort(): src/lines.c fed it whole; fed in PRNG-sized pieces (0 included); and a
 * naive reference framer below, written straight from the rules in lines.h.
 */
#include "../src/lines.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fz_out {
    anth_buf text;
    int count;
} fz_out;

static int fz_on_line(void *ud, const char *p, size_t n)
{
    fz_out *o = ud;
    char len[32];
    if (n == 0)
        abort();                  /* the framer never hands over an empty line */
    snprintf(len, sizeof len, "%lu:", (unsigned long)n);
    anth_buf_append(&o->text, len, strlen(len));
    anth_buf_append(&o->text, p, n);
    o->count++;
    return 0;
}

static int fz_frame(const uint8_t *p, size_t n, size_t max, uint32_t seed, fz_out *o)
{
    anth_lines f;
    size_t at = 0;
    int rc = 0;
    anth_lines_init(&f, max);
    while (at < n && rc == 0) {
        size_t piece = n - at;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            piece = (seed >> 16) % 9;
            if (piece > n - at)
                piece = n - at;
        }
        rc = anth_lines_feed(&f, (const char *)p + at, piece, fz_on_line, o);
        at += piece;
    }
    if (rc == 0)
        rc = anth_lines_finish(&f, fz_on_line, o);
    anth_lines_free(&f);
    return rc;
}

/* The rules, naively: split on LF, drop one CR at the end, skip empties, cap each line. */
static int fz_reference(const uint8_t *p, size_t n, size_t max, fz_out *o)
{
    size_t start = 0, i;
    for (i = 0; i <= n; i++) {
        if (i == n || p[i] == '\n') {
            size_t len = i - start;
            if (i == n && len == 0)
                break;
            if (max && len > max)
                return ANTH_LINES_ETOOBIG;
            if (len && p[start + len - 1] == '\r')
                len--;
            if (len)
                fz_on_line(o, (const char *)p + start, len);
            start = i + 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_out a, b, c;
    size_t max;
    int ra, rb, rc;
    if (size < 2)
        return 0;
    max = data[0];
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    ra = fz_frame(data + 2, size - 2, max, 0, &a);
    rb = fz_frame(data + 2, size - 2, max, (uint32_t)data[1] * 2654435761u + 1u, &b);
    rc = fz_reference(data + 2, size - 2, max, &c);
    /* The reference renders every line before a too-long one; so does the framer (lines are
     * handed over as their LF arrives). Compare the renderings and the codes. */
    if (ra != rc || rb != rc || a.text.len != c.text.len || b.text.len != c.text.len ||
        (c.text.len && (memcmp(a.text.p, c.text.p, c.text.len) != 0 ||
                        memcmp(b.text.p, c.text.p, c.text.len) != 0))) {
        fprintf(stderr, "fuzz_lines: renderings differ (codes %d %d %d)\n", ra, rb, rc);
        abort();
    }
    anth_buf_free(&a.text);
    anth_buf_free(&b.text);
    anth_buf_free(&c.text);
    return 0;
}
