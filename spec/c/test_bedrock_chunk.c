/*
 * test_bedrock_chunk.c: which payloads src/bedrock_chunk.c reads by their bytes, and what it
 * decodes them into. Every row it accepts must be AWS's shape exactly; everything else (other
 * JSON, near misses, bytes JSON would read differently) must be left to cjson.
 */
#include "check.h"
#include "../../src/bedrock_chunk.h"

static int match(const char *s, size_t *off, size_t *len)
{
    return anth_bedrock_chunk_b64(s, strlen(s), off, len);
}

static void test_accepted(void)
{
    static const struct { const char *s; const char *b64; } rows[] = {
        { "{\"bytes\":\"eyJ9\"}", "eyJ9" },
        { "{\"bytes\":\"\"}", "" },
        { "{\"bytes\":\"Zg==\"}", "Zg==" },
        { "{\"bytes\":\"ab+/09==\",\"p\":\"\"}", "ab+/09==" },
        { "{\"bytes\":\"eyJ9\",\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\"}", "eyJ9" },
        /* any printable ASCII but '"' and '\' may pad: JSON reads each as itself */
        { "{\"bytes\":\"eyJ9\",\"p\":\" !#$%&'()*+,-./:;<=>?@[]^_`{|}~\"}", "eyJ9" },
        /* not base64 (length, '=' inside) but JSON's `bytes` is exactly that text: the
         * base64 decoder is the one to refuse it */
        { "{\"bytes\":\"a=b\"}", "a=b" },
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t off = 99, len = 99;
        int ok = match(rows[i].s, &off, &len);
        CHECK(ok == 1, "accepted: %s", rows[i].s);
        CHECK(ok && len == strlen(rows[i].b64) && memcmp(rows[i].s + off, rows[i].b64, len) == 0,
              "the base64 text of %s", rows[i].s);
    }
}

static void test_refused(void)
{
    static const char *rows[] = {
        "", "{", "{\"bytes\":\"", "{\"bytes\":\"eyJ9\"", "{\"bytes\":\"eyJ9\"} ", " {\"bytes\":\"eyJ9\"}",
        "{\"bytes\": \"eyJ9\"}", "{ \"bytes\":\"eyJ9\"}", "{\"Bytes\":\"eyJ9\"}",
        "{\"bytes\":\"eyJ9\"}}", "{\"bytes\":\"eyJ9\"x}", "{\"bytes\":\"eyJ9x\"",
        /* escapes JSON would decode: \/ is '/', \u0041 is 'A' */
        "{\"bytes\":\"ey\\/9\"}", "{\"bytes\":\"\\u0041AAA\"}",
        /* bytes outside the alphabet */
        "{\"bytes\":\"ey J9\"}", "{\"bytes\":\"ey-_\"}", "{\"bytes\":\"eyJ9\n\"}",
        /* other members, other orders, other spacing */
        "{\"p\":\"abc\",\"bytes\":\"eyJ9\"}", "{\"bytes\":\"eyJ9\",\"q\":\"abc\"}",
        "{\"bytes\":\"eyJ9\", \"p\":\"abc\"}", "{\"bytes\":\"eyJ9\",\"p\":\"abc\" }",
        "{\"bytes\":\"eyJ9\",\"p\":1}", "{\"bytes\":\"eyJ9\",\"p\":\"abc\",\"p\":\"d\"}",
        "{\"bytes\":\"eyJ9\",\"p\":\"abc\"}x", "{\"bytes\":\"eyJ9\",\"p\":\"abc}",
        "{\"bytes\":\"eyJ9\",\"p\":\"",
        /* padding JSON would read differently, or not at all */
        "{\"bytes\":\"eyJ9\",\"p\":\"a\\\"}", "{\"bytes\":\"eyJ9\",\"p\":\"a\\\"b\"}",
        "{\"bytes\":\"eyJ9\",\"p\":\"a\"b\"}", "{\"bytes\":\"eyJ9\",\"p\":\"a\tb\"}",
        "{\"bytes\":\"eyJ9\",\"p\":\"\x7f\"}", "{\"bytes\":\"eyJ9\",\"p\":\"\xc3\xa9\"}",
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t off = 99, len = 99;
        CHECK(match(rows[i], &off, &len) == 0, "refused: %s", rows[i]);
        CHECK(off == 99 && len == 99, "refused rows leave off and len alone: %s", rows[i]);
    }
}

/* A NUL inside is a byte like any other: never the end of the text. */
static void test_embedded_nul(void)
{
    static const char s[] = "{\"bytes\":\"eyJ9\",\"p\":\"a\0b\"}";
    size_t off, len;
    CHECK(anth_bedrock_chunk_b64(s, sizeof s - 1, &off, &len) == 0, "NUL in the padding");
    CHECK(anth_bedrock_chunk_b64(s, 16, &off, &len) == 0, "a prefix of the text");
}

/* Every prefix of an accepted payload but the whole is refused (no read past n). */
static void test_prefixes(void)
{
    static const char s[] = "{\"bytes\":\"eyJ9\",\"p\":\"abc\"}";
    size_t n, off, len, wrong = 0;
    for (n = 0; n < sizeof s - 1; n++)
        if (anth_bedrock_chunk_b64(s, n, &off, &len))
            wrong++;
    CHECK(wrong == 0, "no proper prefix is accepted (%zu were)", wrong);
    CHECK(anth_bedrock_chunk_b64(s, sizeof s - 1, &off, &len) == 1, "the whole is");
}

/* The padding is read eight bytes at a time: every byte value, at every offset of paddings
 * from 1 to 24 bytes long (three words and none), is judged as a byte loop judges it. */
static void test_padding_bytes(void)
{
    static const char head[] = "{\"bytes\":\"eyJ9\",\"p\":\"";
    char s[64];
    size_t plen, at, wrong = 0, off, len;
    int c;
    for (plen = 1; plen <= 24; plen++)
        for (at = 0; at < plen; at++)
            for (c = 0; c < 256; c++) {
                size_t n = sizeof head - 1;
                int want = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
                memcpy(s, head, n);
                memset(s + n, 'x', plen);
                s[n + at] = (char)c;
                memcpy(s + n + plen, "\"}", 2);
                if (anth_bedrock_chunk_b64(s, n + plen + 2, &off, &len) != want)
                    wrong++;
            }
    CHECK(wrong == 0, "every padding byte judged as a byte loop does (%zu were not)", wrong);
}

/* decode: the event a payload carries, within ANTH_BEDROCK_CHUNK_ROOM; (size_t)-1 for what
 * the match refuses and for a matched text that is not base64. */
static void test_decode(void)
{
    static const struct { const char *s; const char *event; } rows[] = {
        { "{\"bytes\":\"eyJ9\"}", "{\"}" },
        { "{\"bytes\":\"\"}", "" },
        { "{\"bytes\":\"Zg==\",\"p\":\"abc\"}", "f" },
        { "{\"bytes\":\"Zm9vYmFy\",\"p\":\"\"}", "foobar" },
    };
    static const char *refused[] = {
        "{\"bytes\":\"a=b\"}", "{\"bytes\":\"Z=g=\"}", "{\"bytes\":\"Zg=\"}",
        "{\"bytes\":\"=Zm9\"}", "{\"p\":\"x\",\"bytes\":\"eyJ9\"}", "not json",
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned char out[64];
        size_t n = strlen(rows[i].s), got;
        memset(out, 0xAA, sizeof out);
        got = anth_bedrock_chunk_decode(rows[i].s, n, out);
        CHECK(got == strlen(rows[i].event) && memcmp(out, rows[i].event, got) == 0,
              "decodes %s", rows[i].s);
        CHECK(out[ANTH_BEDROCK_CHUNK_ROOM(n)] == 0xAA, "writes within its room: %s", rows[i].s);
    }
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        unsigned char out[64];
        CHECK(anth_bedrock_chunk_decode(refused[i], strlen(refused[i]), out) == (size_t)-1,
              "refuses %s", refused[i]);
    }
}

int main(void)
{
    test_accepted();
    test_refused();
    test_embedded_nul();
    test_prefixes();
    test_padding_bytes();
    test_decode();
    return anth_check_done();
}
