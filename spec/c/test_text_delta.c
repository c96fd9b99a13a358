/*
 * test_text_delta.c: which event data src/text_delta.c reads as the API's text-delta frame.
 * Every accepted row must be that frame exactly, with the index and the string where they
 * are; a string is plain only when its bytes are its text; everything else is cjson's.
 */
#include "check.h"
#include "../../src/text_delta.h"

#define HEAD "{\"type\":\"content_block_delta\",\"index\":"
#define MIDDLE ",\"delta\":{\"type\":\"text_delta\",\"text\":"

static int match(const char *s, anth_text_delta *d)
{
    return anth_text_delta_match(s, strlen(s), d);
}

static void test_accepted(void)
{
    static const struct { const char *s; unsigned long index; const char *str; int plain; } rows[] = {
        { HEAD "0" MIDDLE "\"Hello\"}}", 0, "\"Hello\"", 1 },
        { HEAD "1" MIDDLE "\"\"}}", 1, "\"\"", 1 },
        { HEAD "12" MIDDLE "\" world\"}   }", 12, "\" world\"", 1 },
        { HEAD "999999999" MIDDLE "\"x\"}}", 999999999UL, "\"x\"", 1 },
        /* bytes JSON reads as themselves: controls, DEL, UTF-8, braces */
        { HEAD "0" MIDDLE "\"a\tb\x7f\xc3\xa9}{\"}}", 0, "\"a\tb\x7f\xc3\xa9}{\"", 1 },
        /* escapes: matched, not plain (cjson decodes them) */
        { HEAD "0" MIDDLE "\"a\\nb\"}}", 0, "\"a\\nb\"", 0 },
        { HEAD "0" MIDDLE "\"\\\"\"}}", 0, "\"\\\"\"", 0 },
        /* a string that looks like the frame's end: the end is found from the last brace */
        { HEAD "0" MIDDLE "\"a\\\"}  }\"}}", 0, "\"a\\\"}  }\"", 0 },
        { HEAD "0" MIDDLE "\"a\"}b\"}}", 0, "\"a\"}b\"", 0 },
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        anth_text_delta d;
        int ok = match(rows[i].s, &d);
        CHECK(ok == 1, "accepted: %s", rows[i].s);
        CHECK(ok && d.index == rows[i].index, "index of %s", rows[i].s);
        CHECK(ok && d.len == strlen(rows[i].str) && memcmp(rows[i].s + d.off, rows[i].str, d.len) == 0,
              "the string of %s", rows[i].s);
        CHECK(ok && d.plain == rows[i].plain, "plain or not: %s", rows[i].s);
    }
}

static void test_refused(void)
{
    static const char *rows[] = {
        "", "{}", HEAD, HEAD "0" MIDDLE, HEAD "0" MIDDLE "\"", HEAD "0" MIDDLE "\"a\"}",
        HEAD "0" MIDDLE "\"a\"} ", HEAD "0" MIDDLE "\"a\" }}", HEAD "0" MIDDLE "\"a\"}x}",
        HEAD "0" MIDDLE "\"a\"}\t}", HEAD "0" MIDDLE "\"a\"}}}", HEAD "0" MIDDLE "\"a\"}\n}",
        HEAD "0" MIDDLE "\"a\"}}\n", HEAD "0" MIDDLE "a}}", HEAD "0" MIDDLE "1}}",
        HEAD "0" MIDDLE " \"a\"}}",
        /* the index: JSON integers of at most 9 digits only */
        HEAD "" MIDDLE "\"a\"}}", HEAD "01" MIDDLE "\"a\"}}", HEAD "-1" MIDDLE "\"a\"}}",
        HEAD "1.0" MIDDLE "\"a\"}}", HEAD "1e2" MIDDLE "\"a\"}}", HEAD "1234567890" MIDDLE "\"a\"}}",
        HEAD " 1" MIDDLE "\"a\"}}", HEAD "\"1\"" MIDDLE "\"a\"}}",
        /* other shapes */
        "{\"type\": \"content_block_delta\",\"index\":0" MIDDLE "\"a\"}}",
        "{\"index\":0,\"type\":\"content_block_delta\"" MIDDLE "\"a\"}}",
        HEAD "0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"a\"}}",
        HEAD "0,\"delta\":{\"text\":\"a\",\"type\":\"text_delta\"}}",
        HEAD "0" MIDDLE "\"a\",\"x\":1}}", HEAD "0" MIDDLE "\"a\"},\"x\":1}",
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        anth_text_delta d;
        CHECK(match(rows[i], &d) == 0, "refused: %s", rows[i]);
    }
}

/* Padding of 0 to 64 spaces is the API's; 65 is not. */
static void test_padding(void)
{
    char s[256];
    size_t k, wrong = 0;
    for (k = 0; k <= 65; k++) {
        anth_text_delta d;
        int n = snprintf(s, sizeof s, "%s0%s\"a\"}%*s}", HEAD, MIDDLE, (int)k, "");
        int ok = anth_text_delta_match(s, (size_t)n, &d);
        if (ok != (k <= ANTH_TEXT_DELTA_MAX_PADDING) || (ok && (d.len != 3 || !d.plain)))
            wrong++;
    }
    CHECK(wrong == 0, "padding 0..64 accepted, 65 refused (%zu wrong)", wrong);
}

/* A '\' or '"' anywhere in the string makes it not plain, a NUL refuses the frame (cjson
 * would stop reading there); any other byte keeps it plain. */
static void test_plain_bytes(void)
{
    char s[256];
    int c;
    size_t wrong = 0;
    for (c = 0; c < 256; c++) {
        anth_text_delta d;
        int n = snprintf(s, sizeof s, "%s7%s\"ab#cd\"}}", HEAD, MIDDLE);
        char *at = memchr(s, '#', (size_t)n);
        int ok;
        *at = (char)c;
        ok = anth_text_delta_match(s, (size_t)n, &d);
        if (c == 0 ? ok : (!ok || d.index != 7 || d.plain != !(c == '\\' || c == '"')))
            wrong++;
    }
    CHECK(wrong == 0, "plain for every byte but '\\\\' and '\"', NUL refused (%zu wrong)", wrong);
}

/* Every prefix of an accepted frame but the whole is refused (no read past n). */
static void test_prefixes(void)
{
    static const char s[] = HEAD "3" MIDDLE "\"abc\"}  }";
    size_t n, wrong = 0;
    anth_text_delta d;
    for (n = 0; n < sizeof s - 1; n++)
        if (anth_text_delta_match(s, n, &d))
            wrong++;
    CHECK(wrong == 0, "no proper prefix is accepted (%zu were)", wrong);
    CHECK(anth_text_delta_match(s, sizeof s - 1, &d) == 1 && d.index == 3, "the whole is");
}

int main(void)
{
    test_accepted();
    test_refused();
    test_padding();
    test_plain_bytes();
    test_prefixes();
    return anth_check_done();
}
