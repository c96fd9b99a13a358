/*
 * test_headers.c: unit tests for src/headers.c, the one header parser: names lowercased,
 * values trimmed, the status line and malformed lines skipped, repeats kept in order, lookups
 * in any case, and a corrupt packed buffer read safely.
 */
#include "check.h"
#include "../../src/headers.h"

static void add(anth_headers *h, const char *line)
{
    CHECK(anth_headers_add_line(h, line, strlen(line)) == 0, "add %s", line);
}

static int first_is(const anth_headers *h, const char *name, const char *want)
{
    size_t n;
    const char *v = anth_headers_first(h->buf.p, h->buf.len, name, strlen(name), &n);
    if (want == NULL)
        return v == NULL;
    return v != NULL && n == strlen(want) && memcmp(v, want, n) == 0;
}

static void test_parse(void)
{
    anth_headers h;
    size_t pos = 0;
    anth_header e;
    int n = 0;
    anth_headers_init(&h);
    add(&h, "HTTP/1.1 200 OK\r\n");
    add(&h, "Content-Type: application/json\r\n");
    add(&h, "X-Should-Retry:  \t false \t\r\n");
    add(&h, "retry-after-ms: 10\r\n");
    add(&h, "Retry-After-Ms: 20\r\n");
    add(&h, "no colon here\r\n");
    add(&h, ": empty name\r\n");
    add(&h, "x-empty:\r\n");
    add(&h, "x-date: Sun, 06 Nov 1994 08:49:37 GMT\n");
    CHECK(h.count == 6, "six entries, got %lu", (unsigned long)h.count);
    CHECK(first_is(&h, "content-type", "application/json"), "lowercase lookup");
    CHECK(first_is(&h, "CONTENT-TYPE", "application/json"), "uppercase lookup");
    CHECK(first_is(&h, "x-should-retry", "false"), "value trimmed");
    CHECK(first_is(&h, "retry-after-ms", "10"), "first of repeats");
    CHECK(first_is(&h, "x-empty", ""), "empty value kept");
    CHECK(first_is(&h, "x-date", "Sun, 06 Nov 1994 08:49:37 GMT"), "commas kept, LF ending");
    CHECK(first_is(&h, "x-missing", NULL), "absent");
    CHECK(first_is(&h, "retry-after", NULL), "no prefix match");
    while (anth_headers_next(h.buf.p, h.buf.len, &pos, &e)) {
        if (n == 2)
            CHECK(e.name_len == 14 && memcmp(e.name, "retry-after-ms", 14) == 0 &&
                  e.value_len == 2 && memcmp(e.value, "10", 2) == 0, "third entry in order");
        if (n == 3)
            CHECK(e.name_len == 14 && memcmp(e.name, "retry-after-ms", 14) == 0 &&
                  e.value_len == 2 && memcmp(e.value, "20", 2) == 0, "repeat kept, in order");
        n++;
    }
    CHECK(n == 6, "iteration sees every entry (%d)", n);
    anth_headers_clear(&h);
    CHECK(h.count == 0 && first_is(&h, "content-type", NULL), "clear forgets");
    add(&h, "A: b");
    CHECK(first_is(&h, "a", "b"), "reused after clear");
    anth_headers_free(&h);
    CHECK(first_is(&h, "a", NULL), "freed: empty, NULL buffer is safe");
}

static void test_long_and_binary(void)
{
    anth_headers h;
    char line[3000];
    size_t n;
    const char *v;
    anth_headers_init(&h);
    memset(line, 'N', 2000);
    memcpy(line + 2000, ": v\0w", 5);
    CHECK(anth_headers_add_line(&h, line, 2005) == 0, "a 2000-byte name");
    v = anth_headers_first(h.buf.p, h.buf.len, line, 2000, &n);
    CHECK(v && n == 3 && memcmp(v, "v\0w", 3) == 0, "long name whole, NUL in value kept");
    line[1999] = 'M';
    CHECK(anth_headers_first(h.buf.p, h.buf.len, line, 2000, &n) == NULL, "names differing at the end");
    anth_headers_free(&h);
}

static void test_corrupt(void)
{
    anth_headers h;
    size_t pos = 0, n, huge = (size_t)-1;
    anth_header e;
    anth_headers_init(&h);
    add(&h, "a: b");
    memcpy(h.buf.p, &huge, sizeof huge);  /* name length past the end */
    CHECK(anth_headers_next(h.buf.p, h.buf.len, &pos, &e) == 0, "corrupt length: stops");
    CHECK(anth_headers_first(h.buf.p, h.buf.len, "a", 1, &n) == NULL, "corrupt: nothing found");
    pos = 0;
    CHECK(anth_headers_next(h.buf.p, 3, &pos, &e) == 0, "truncated buffer: stops");
    anth_headers_free(&h);
}

/* Every byte value as a name byte, at every offset of an 8-byte word and across several
 * lengths: only A-Z change, each to its lowercase, and the value after the name is untouched
 * (the name is lowercased a word at a time). */
static void test_lowercase_every_byte(void)
{
    char line[64], want[32];
    int b, len, at, bad = 0;
    for (len = 1; len <= 19; len++)
        for (at = 0; at < len; at++)
            for (b = 1; b < 256; b++) {
                anth_headers h;
                anth_header e;
                size_t pos = 0;
                int k;
                if (b == ':' || b == ' ' || b == '\t' || b == '\r' || b == '\n')
                    continue;
                for (k = 0; k < len; k++) {
                    char c = (char)(k == at ? b : "aZ-9Mz@[`{"[k % 10]);
                    line[k] = c;
                    want[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
                }
                memcpy(line + len, ": AbC\r\n", 8);
                anth_headers_init(&h);
                if (anth_headers_add_line(&h, line, (size_t)len + 7) != 0 ||
                    !anth_headers_next(h.buf.p, h.buf.len, &pos, &e) ||
                    e.name_len != (size_t)len || memcmp(e.name, want, (size_t)len) != 0 ||
                    e.value_len != 3 || memcmp(e.value, "AbC", 3) != 0)
                    bad++;
                anth_headers_free(&h);
            }
    CHECK(bad == 0, "%d names lowercased unlike a byte loop would", bad);
}

int main(void)
{
    test_parse();
    test_long_and_binary();
    test_corrupt();
    test_lowercase_every_byte();
    return anth_check_done();
}
