/*
 * test_lines.c: unit tests for src/lines.c, the JSONL framer: one row per rule (LF, CRLF,
 * blank lines, a last line without LF, the size cap whole and in pieces, a callback that
 * stops, the stopped state), each fed whole and then split at every byte offset.
 */
#include "check.h"
#include "../../src/lines.h"

typedef struct got {
    char text[512];
    size_t len;
    int stop_at;        /* stop (return 7) at this line number, 0 = never */
    int lines;
} got;

static int on_line(void *ud, const char *p, size_t n)
{
    got *g = ud;
    g->lines++;
    if (g->len + n + 1 < sizeof g->text) {
        memcpy(g->text + g->len, p, n);
        g->len += n;
        g->text[g->len++] = '|';
        g->text[g->len] = '\0';
    }
    return g->stop_at == g->lines ? 7 : 0;
}

typedef struct line_row {
    const char *name, *input;
    size_t max;
    int stop_at;
    const char *want;      /* lines joined by '|' */
    int want_rc;           /* of feed, then finish */
} line_row;

static const line_row rows[] = {
    {"two lines", "a\nb\n", 0, 0, "a|b|", 0},
    {"CRLF", "a\r\nb\r\n", 0, 0, "a|b|", 0},
    {"blank lines skipped", "\n\r\na\n\n\nb\n", 0, 0, "a|b|", 0},
    {"last line without LF", "a\nb", 0, 0, "a|b|", 0},
    {"only CR kept inside", "a\rb\n", 0, 0, "a\rb|", 0},
    {"empty", "", 0, 0, "", 0},
    {"cap exactly", "abcd\n", 4, 0, "abcd|", 0},
    {"cap passed", "abcde\n", 4, 0, "", ANTH_LINES_ETOOBIG},
    {"cap on the last line", "ab\nabcde", 4, 0, "ab|", ANTH_LINES_ETOOBIG},
    {"callback stops", "a\nb\nc\n", 0, 2, "a|b|", 7},
};

/* Feeds input split at `at` (or whole when at == (size_t)-1); returns the final code. */
static int run(const line_row *r, size_t at, got *g)
{
    anth_lines f;
    size_t n = strlen(r->input);
    int rc;
    memset(g, 0, sizeof *g);
    g->stop_at = r->stop_at;
    anth_lines_init(&f, r->max);
    if (at == (size_t)-1 || at > n) {
        rc = anth_lines_feed(&f, r->input, n, on_line, g);
    } else {
        rc = anth_lines_feed(&f, r->input, at, on_line, g);
        if (rc == 0)
            rc = anth_lines_feed(&f, r->input + at, n - at, on_line, g);
    }
    if (rc == 0)
        rc = anth_lines_finish(&f, on_line, g);
    else
        CHECK(anth_lines_feed(&f, "x\n", 2, on_line, g) == rc, "%s: stays stopped", r->name);
    anth_lines_free(&f);
    return rc;
}

static void test_rows(void)
{
    size_t i, at;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const line_row *r = &rows[i];
        size_t n = strlen(r->input);
        got g;
        int rc = run(r, (size_t)-1, &g);
        CHECK(rc == r->want_rc && strcmp(g.text, r->want) == 0, "%s whole: rc %d lines \"%s\"",
              r->name, rc, g.text);
        for (at = 0; at <= n; at++) {
            rc = run(r, at, &g);
            CHECK(rc == r->want_rc && strcmp(g.text, r->want) == 0,
                  "%s split at %lu: rc %d lines \"%s\"", r->name, (unsigned long)at, rc, g.text);
        }
    }
}

static void test_reset(void)
{
    anth_lines f;
    got g;
    memset(&g, 0, sizeof g);
    anth_lines_init(&f, 3);
    CHECK(anth_lines_feed(&f, "abcdef", 6, on_line, &g) == ANTH_LINES_ETOOBIG, "cap in pieces");
    anth_lines_reset(&f);
    CHECK(anth_lines_feed(&f, "ab", 2, on_line, &g) == 0, "reset: running again");
    anth_lines_reset(&f);
    CHECK(anth_lines_feed(&f, "c\n", 2, on_line, &g) == 0 && strcmp(g.text, "c|") == 0,
          "reset forgets the partial line: \"%s\"", g.text);
    anth_lines_free(&f);
}

int main(void)
{
    test_rows();
    test_reset();
    return anth_check_done();
}
