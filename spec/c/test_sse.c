/*
 * test_sse.c: unit tests for src/sse.c. Every row is decoded whole, under every 2-way and
 * 3-way split, and one byte at a time (with empty feeds in between); each mode must give
 * exactly the expected rendering. Then every conformance transcript (argv[1], default
 * spec/fixtures/conformance/sse) is checked against hand-counted event totals and decoded under
 * every 2-way split, 1-byte and random chunking, and with CRLF / CR line endings.
 *
 * Rendering of one decode: "[type|data]" per event ("[type#id|data]" when an id is set,
 * data escaped: \n \r \\ \0 \xHH), then " ERR=code" if a feed stopped, " RETRY=ms" if a
 * retry: field was accepted, and " END=code" from anth_sse_finish.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "../../src/sse.h"

#include <stdint.h>

/* ---- a growable string ---------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL) {
            perror("realloc");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static int plain_char(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '\\';
}

static void sb_esc(sbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        unsigned char c;
        char tmp[8];
        while (run < n && plain_char((unsigned char)s[run]))
            run++;
        sb_add(b, s + i, run - i); /* printable runs in one copy: transcripts are long */
        if (run == n)
            break;
        c = (unsigned char)s[run];
        if (c == '\n')
            sb_str(b, "\\n");
        else if (c == '\r')
            sb_str(b, "\\r");
        else if (c == '\\')
            sb_str(b, "\\\\");
        else if (c == 0)
            sb_str(b, "\\0");
        else {
            snprintf(tmp, sizeof tmp, "\\x%02X", c);
            sb_str(b, tmp);
        }
        i = run + 1;
    }
}

static const char *code_name(int rc)
{
    static char buf[32];
    switch (rc) {
    case ANTH_SSE_OK:
        return "0";
    case ANTH_SSE_ETOOBIG:
        return "ETOOBIG";
    case ANTH_SSE_ENOMEM:
        return "ENOMEM";
    case ANTH_SSE_TRUNCATED:
        return "TRUNCATED";
    default:
        snprintf(buf, sizeof buf, "%d", rc);
        return buf;
    }
}

/* ---- the decode driver ------------------------------------------------------------------ */

typedef struct opts {
    size_t max;       /* 0: leave the default */
    int eof;          /* dispatch_at_eof */
    int stop_at;      /* callback returns 7 on this event (1-based); 0 never */
} opts;

typedef struct collect {
    sbuf out;
    int count, stop_at;
    char first[64], last[64];
    int typed_ok;     /* every event's data starts {"type":"<event name>" */
} collect;

static void copy_name(char *dst, size_t cap, const anth_sse_event *ev)
{
    size_t n = ev->event_len < cap - 1 ? ev->event_len : cap - 1;
    memcpy(dst, ev->event, n);
    dst[n] = '\0';
}

/* The conformance transcripts name each event twice: "event: X" and "type":"X" first in
 * the JSON. Checking that they agree proves lines were split and joined correctly. */
static int typed(const anth_sse_event *ev)
{
    static const char *const heads[2] = {"{\"type\":\"", "{\"type\": \""};
    int i;
    for (i = 0; i < 2; i++) {
        size_t h = strlen(heads[i]);
        if (ev->data_len > h + ev->event_len && memcmp(ev->data, heads[i], h) == 0 &&
            memcmp(ev->data + h, ev->event, ev->event_len) == 0 &&
            ev->data[h + ev->event_len] == '"')
            return 1;
    }
    return 0;
}

static int on_event(void *ud, const anth_sse_event *ev)
{
    collect *c = ud;
    sb_str(&c->out, "[");
    sb_esc(&c->out, ev->event, ev->event_len);
    if (ev->id_len) {
        sb_str(&c->out, "#");
        sb_esc(&c->out, ev->id, ev->id_len);
    }
    sb_str(&c->out, "|");
    sb_esc(&c->out, ev->data, ev->data_len);
    sb_str(&c->out, "]");
    /* The strings are promised NUL-terminated. */
    if (ev->event[ev->event_len] != '\0' || ev->data[ev->data_len] != '\0' ||
        ev->id[ev->id_len] != '\0')
        sb_str(&c->out, "<NOT NUL-TERMINATED>");
    c->count++;
    if (c->count == 1)
        copy_name(c->first, sizeof c->first, ev);
    copy_name(c->last, sizeof c->last, ev);
    if (!typed(ev))
        c->typed_ok = 0;
    return c->count == c->stop_at ? 7 : 0;
}

/* Decodes in[0..len) fed as the pieces ending at cuts[0..ncuts) (then the rest); an empty
 * piece is fed too. Fills c (caller frees c->out.p). */
static void decode_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                        const opts *o, collect *c)
{
    anth_sse d;
    size_t i, at = 0;
    int rc = 0, end;
    if (cuts == NULL)
        ncuts = 0;
    memset(c, 0, sizeof *c);
    c->typed_ok = 1;
    c->stop_at = o->stop_at;
    sb_str(&c->out, "");
    anth_sse_init(&d);
    if (o->max)
        anth_sse_set_max(&d, o->max);
    d.dispatch_at_eof = o->eof;
    for (i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = len;
        if (cuts != NULL && i < ncuts)
            to = cuts[i];
        rc = anth_sse_feed(&d, in + at, to - at, on_event, c);
        at = to;
    }
    if (rc) {
        sb_str(&c->out, " ERR=");
        sb_str(&c->out, code_name(rc));
    }
    if (d.retry_ms >= 0) {
        char tmp[40];
        snprintf(tmp, sizeof tmp, " RETRY=%ld", d.retry_ms);
        sb_str(&c->out, tmp);
    }
    end = anth_sse_finish(&d, on_event, c);
    sb_str(&c->out, " END=");
    sb_str(&c->out, code_name(end));
    anth_sse_free(&d);
}

/* Renders a decode as a malloc'd string. */
static char *render(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                    const opts *o)
{
    collect c;
    decode_cuts(in, len, cuts, ncuts, o, &c);
    return c.out.p;
}

/* Checks that a decode of this split equals want; reports the first failing split. */
static int same(const char *in, size_t len, const size_t *cuts, size_t ncuts, const opts *o,
                const char *want, char *why, size_t whylen)
{
    char *got = render(in, len, cuts, ncuts, o);
    int ok = strcmp(got, want) == 0;
    if (!ok) {
        size_t i, w = (size_t)snprintf(why, whylen, "cuts");
        for (i = 0; i < ncuts && w < whylen; i++)
            w += (size_t)snprintf(why + w, whylen - w, " %zu", cuts[i]);
        if (w < whylen)
            snprintf(why + w, whylen - w, ": got %s", got);
    }
    free(got);
    return ok;
}

static int all_2way(const char *in, size_t len, const opts *o, const char *want, char *why,
                    size_t whylen)
{
    size_t i;
    for (i = 0; i <= len; i++)
        if (!same(in, len, &i, 1, o, want, why, whylen))
            return 0;
    return 1;
}

/* 2-way splits where they matter on long inputs: every position within 2 bytes of a CR,
 * LF or ':' (line ends, CRLF pairs, field/value boundaries) and every 16th position. The
 * 1-byte decode covers every boundary too, one at a time; this keeps valgrind runs short. */
static int near_2way(const char *in, size_t len, const opts *o, const char *want, char *why,
                     size_t whylen)
{
    size_t i, k;
    for (i = 0; i <= len; i++) {
        int near = i % 16 == 0;
        for (k = i >= 2 ? i - 2 : 0; k < len && k <= i + 1 && !near; k++)
            near = in[k] == '\r' || in[k] == '\n' || in[k] == ':';
        if (near && !same(in, len, &i, 1, o, want, why, whylen))
            return 0;
    }
    return 1;
}

static int all_3way(const char *in, size_t len, const opts *o, const char *want, char *why,
                    size_t whylen)
{
    size_t cuts[2];
    for (cuts[0] = 0; cuts[0] <= len; cuts[0]++)
        for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1]++)
            if (!same(in, len, cuts, 2, o, want, why, whylen))
                return 0;
    return 1;
}

/* One byte per feed, with an empty feed before each byte. */
static int bytewise(const char *in, size_t len, const opts *o, const char *want, char *why,
                    size_t whylen)
{
    size_t *cuts = malloc((2 * len + 1) * sizeof *cuts), i, n = 0;
    int ok;
    if (cuts == NULL)
        exit(2);
    for (i = 0; i < len; i++) {
        cuts[n++] = i;
        cuts[n++] = i + 1;
    }
    ok = same(in, len, cuts, n, o, want, why, whylen);
    free(cuts);
    return ok;
}

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Random piece sizes 0..64 (0 = an empty feed), from a fixed seed. */
static int randomly(const char *in, size_t len, uint32_t seed, const opts *o, const char *want,
                    char *why, size_t whylen)
{
    size_t *cuts = malloc((len + 1) * 2 * sizeof *cuts), n = 0, at = 0;
    int ok;
    if (cuts == NULL)
        exit(2);
    while (at < len) {
        at += rng_next(&seed) % 65;
        if (at > len)
            at = len;
        cuts[n++] = at;
    }
    ok = same(in, len, cuts, n, o, want, why, whylen);
    free(cuts);
    return ok;
}

/* ---- rows --------------------------------------------------------------------------------- */

typedef struct row {
    const char *name, *in;
    size_t len;
    const char *want;
    opts o;
} row;

/* sizeof keeps embedded NULs in the input. */
#define R(name, in, want) {name, in, sizeof(in) - 1, want, {0, 0, 0}}
#define RO(name, in, want, max, eof, stop) {name, in, sizeof(in) - 1, want, {max, eof, stop}}

static const row rows[] = {
    /* line endings */
    R("LF", "data: a\n\n", "[message|a] END=0"),
    R("CRLF", "data: a\r\n\r\n", "[message|a] END=0"),
    R("CR", "data: a\r\r", "[message|a] END=0"),
    R("CRLF joins lines, no blank line between", "data: a\r\ndata: b\r\n\r\n",
      "[message|a\\nb] END=0"),
    R("mixed endings in one block", "data: a\r\ndata: b\rdata: c\n\r\n",
      "[message|a\\nb\\nc] END=0"),
    R("CR CRLF is two line ends", "data: a\r\r\ndata: b\n\n", "[message|a][message|b] END=0"),
    R("LF CR is two line ends", "data: a\n\rdata: b\n\n", "[message|a][message|b] END=0"),
    R("CR CR LF LF", "data: a\r\r\n\ndata: b\n\n", "[message|a][message|b] END=0"),
    R("CRLF CRLF CRLF between events", "data: a\r\n\r\n\r\ndata: b\r\n\r\n",
      "[message|a][message|b] END=0"),
    R("blank lines before and after", "\n\r\n\rdata: x\n\n\n\n", "[message|x] END=0"),
    /* data */
    R("no space after colon", "data:a\n\n", "[message|a] END=0"),
    R("only one space is removed", "data:  a\n\n", "[message| a] END=0"),
    R("tab is not removed", "data:\ta\n\n", "[message|\\x09a] END=0"),
    R("trailing spaces kept", "data: a  \n\n", "[message|a  ] END=0"),
    R("field name alone is empty data", "data\n\n", "[message|] END=0"),
    R("empty data value", "data:\n\n", "[message|] END=0"),
    R("space-only data value", "data: \n\n", "[message|] END=0"),
    R("multi-line data", "data: a\ndata: b\ndata: c\n\n", "[message|a\\nb\\nc] END=0"),
    R("empty middle data line", "data: a\ndata:\ndata: b\n\n", "[message|a\\n\\nb] END=0"),
    R("two empty data lines", "data:\ndata:\n\n", "[message|\\n] END=0"),
    R("colon inside value", "data: a:b: c\n\n", "[message|a:b: c] END=0"),
    R("double colon", "data:: x\n\n", "[message|: x] END=0"),
    R("NUL byte inside data", "data: a\0b\n\n", "[message|a\\0b] END=0"),
    R("UTF-8 multibyte data", "data: h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\n\n",
      "[message|h\\xC3\\xA9llo \\xE2\\x82\\xAC \\xF0\\x9F\\x98\\x80] END=0"),
    R("invalid UTF-8 passes as bytes", "data: \xFF\xC3\n\n", "[message|\\xFF\\xC3] END=0"),
    R("field names are case-sensitive", "DATA: x\n\nData: y\n\n", " END=0"),
    R("unknown field ignored", "foo: bar\ndata: x\nxyz\n\n", "[message|x] END=0"),
    R("space before colon is part of the name", "data : x\n\n", " END=0"),
    /* comments */
    R("comment only", ": hello\n\n", " END=0"),
    R("bare colon comment", ":\n\n", " END=0"),
    R("comment between data lines", "data: a\n: ping\ndata: b\n\n", "[message|a\\nb] END=0"),
    R("comment with CRLF", ":x\r\ndata: y\r\n\r\n", "[message|y] END=0"),
    /* event */
    R("event name", "event: foo\ndata: x\n\n", "[foo|x] END=0"),
    R("empty event name is message", "event:\ndata: x\n\n", "[message|x] END=0"),
    R("last event: wins", "event: a\nevent: b\ndata: x\n\n", "[b|x] END=0"),
    R("event after data in block", "data: x\nevent: late\n\n", "[late|x] END=0"),
    R("no data: nothing dispatched, name reset", "event: ping\n\ndata: y\n\n",
      "[message|y] END=0"),
    R("event without data at all", "event: a\n\nevent: b\n\n", " END=0"),
    R("name does not carry to next event", "event: a\ndata: 1\n\ndata: 2\n\n",
      "[a|1][message|2] END=0"),
    R("ping events", "event: ping\ndata: {\"type\": \"ping\"}\n\n",
      "[ping|{\"type\": \"ping\"}] END=0"),
    /* id */
    R("id", "id: 7\ndata: x\n\n", "[message#7|x] END=0"),
    R("id persists across events", "id: 7\ndata: x\n\ndata: y\n\n",
      "[message#7|x][message#7|y] END=0"),
    R("id set in a block without data persists", "id: 9\n\ndata: y\n\n", "[message#9|y] END=0"),
    R("empty id resets", "id: 7\ndata: x\n\nid\ndata: y\n\n", "[message#7|x][message|y] END=0"),
    R("id with NUL is ignored", "id: 7\n\nid: a\0b\ndata: y\n\n", "[message#7|y] END=0"),
    R("id keeps spaces after the first", "id:  a b\ndata: y\n\n", "[message# a b|y] END=0"),
    /* retry */
    R("retry digits", "retry: 1500\ndata: x\n\n", "[message|x] RETRY=1500 END=0"),
    R("retry zero", "retry:0\n\n", " RETRY=0 END=0"),
    R("retry with letters ignored", "retry: 15a\n\n", " END=0"),
    R("retry negative ignored", "retry: -1\n\n", " END=0"),
    R("retry empty ignored", "retry:\n\n", " END=0"),
    R("retry with extra space ignored", "retry:  5\n\n", " END=0"),
    R("retry overflow ignored", "retry: 99999999999999999999\n\n", " END=0"),
    R("retry at 2^31-1", "retry: 2147483647\n\n", " RETRY=2147483647 END=0"),
    R("retry at 2^31 ignored", "retry: 2147483648\n\n", " END=0"),
    R("later valid retry wins", "retry: 10\nretry: x\nretry: 20\n\n", " RETRY=20 END=0"),
    /* BOM */
    R("leading BOM skipped", "\xEF\xBB\xBF" "data: x\n\n", "[message|x] END=0"),
    R("BOM alone", "\xEF\xBB\xBF", " END=0"),
    R("second BOM is content", "\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n",
      "[message|y] END=0"),
    R("partial BOM is content", "\xEF\xBB" "data: x\n\ndata: y\n\n", "[message|y] END=0"),
    R("one BOM byte is content", "\xEF" "data: x\n\ndata: y\n\n", "[message|y] END=0"),
    R("BOM after first line is content", "data: x\n\n\xEF\xBB\xBF" "data: y\n\n",
      "[message|x] END=0"),
    R("BOM then comment", "\xEF\xBB\xBF: c\ndata: z\n\n", "[message|z] END=0"),
    R("partial BOM at end", "\xEF\xBB", " END=TRUNCATED"),
    /* end of stream */
    R("empty stream", "", " END=0"),
    R("only blank lines", "\n\n\n", " END=0"),
    R("last event without blank line", "data: x\n", " END=TRUNCATED"),
    R("last line without end", "data: x", " END=TRUNCATED"),
    R("complete then cut", "data: x\n\ndata: y", "[message|x] END=TRUNCATED"),
    R("cut after CR", "data: x\r", " END=TRUNCATED"),
    R("CRLF CR ends cleanly", "data: x\r\n\r", "[message|x] END=0"),
    R("dangling event line", "event: ping\n", " END=TRUNCATED"),
    R("dangling comment line", ": keepalive\n", " END=TRUNCATED"),
    RO("eof mode dispatches cut-off line", "data: x", "[message|x] END=TRUNCATED", 0, 1, 0),
    RO("eof mode dispatches cut-off block", "event: e\ndata: x\n", "[e|x] END=TRUNCATED", 0, 1,
       0),
    RO("eof mode with nothing pending", "data: x\n\n", "[message|x] END=0", 0, 1, 0),
    RO("eof mode, block without data", "event: e\n", " END=TRUNCATED", 0, 1, 0),
    RO("eof mode, partial BOM", "\xEF\xBB", " END=TRUNCATED", 0, 1, 0),
    RO("eof mode, stop in last event", "data: a\n\ndata: b", "[message|a][message|b] END=7",
       0, 1, 2),
    /* size cap: line length + pending data + event name <= max */
    RO("max: exactly at the limit", "data: abcd\n\n", "[message|abcd] END=0", 10, 0, 0),
    RO("max: one over", "data: abcde\n\n", " ERR=ETOOBIG END=ETOOBIG", 10, 0, 0),
    RO("max: second data line counts pending", "data: ab\ndata: cd\n\n",
       " ERR=ETOOBIG END=ETOOBIG", 10, 0, 0),
    RO("max: event name counts", "event: abc\ndata: x\n\n", "[abc|x] END=0", 10, 0, 0),
    RO("max: event name pushes over", "event: abcd\ndata: x\n\n", " ERR=ETOOBIG END=ETOOBIG",
       10, 0, 0),
    RO("max: long comment counts", ": 0123456789\n\n", " ERR=ETOOBIG END=ETOOBIG", 10, 0, 0),
    RO("max: events before the error arrive", "data: a\n\ndata: 0123456789\n\n",
       "[message|a] ERR=ETOOBIG END=ETOOBIG", 10, 0, 0),
    RO("max: cut-off line over the limit", "data: 0123456789", " ERR=ETOOBIG END=ETOOBIG", 10,
       0, 0),
    RO("max: pending resets after dispatch", "data: abcd\n\ndata: efgh\n\n",
       "[message|abcd][message|efgh] END=0", 10, 0, 0),
    RO("max: partial BOM bytes count", "\xEF\xBB" "123456789\n", " ERR=ETOOBIG END=ETOOBIG",
       10, 0, 0),
    /* callback stop */
    RO("callback stop code", "data: a\n\ndata: b\n\ndata: c\n\n",
       "[message|a][message|b] ERR=7 END=7", 0, 0, 2),
    RO("callback stop on first", "data: a\n\ndata: b\n\n", "[message|a] ERR=7 END=7", 0, 0, 1),
};

static void test_rows(void)
{
    size_t i;
    char why[512];
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        why[0] = '\0';
        CHECK(same(r->in, r->len, NULL, 0, &r->o, r->want, why, sizeof why), "%s (whole): %s",
              r->name, why);
        CHECK(all_2way(r->in, r->len, &r->o, r->want, why, sizeof why), "%s (2-way): %s",
              r->name, why);
        CHECK(all_3way(r->in, r->len, &r->o, r->want, why, sizeof why), "%s (3-way): %s",
              r->name, why);
        CHECK(bytewise(r->in, r->len, &r->o, r->want, why, sizeof why), "%s (1-byte): %s",
              r->name, why);
    }
}

/* ---- API behaviour that is not a single decode ---------------------------------------- */

static int count_cb(void *ud, const anth_sse_event *ev)
{
    (void)ev;
    ++*(int *)ud;
    return 0;
}

static int enomem_cb(void *ud, const anth_sse_event *ev)
{
    (void)ud;
    (void)ev;
    return ANTH_SSE_ENOMEM;
}

static void test_api(void)
{
    anth_sse d;
    collect c;
    int n = 0, rc, i, stable = 1;
    char *big, *p;
    const char *q;
    size_t big_len = 100000;

    anth_sse_init(&d);
    CHECK(d.max_event_size == (size_t)16 * 1024 * 1024, "default max is 16 MiB");
    CHECK(d.retry_ms == -1 && d.dispatch_at_eof == 0, "init: retry -1, spec mode");
    anth_sse_set_max(&d, 0);
    rc = anth_sse_feed(&d, "data: x\n\n", 9, count_cb, &n);
    CHECK(rc == 0 && n == 1, "max 0 means the default, not 'nothing fits'");
    rc = anth_sse_feed(&d, "data: y\n\n", 9, NULL, NULL);
    CHECK(rc == 0, "NULL callback is allowed");
    CHECK(anth_sse_finish(&d, NULL, NULL) == 0, "finish after clean end");

    /* Sticky stop, then finish makes the decoder usable again. */
    anth_sse_set_max(&d, 10);
    rc = anth_sse_feed(&d, "data: 0123456789\n\n", 18, count_cb, &n);
    CHECK(rc == ANTH_SSE_ETOOBIG, "over max -> ETOOBIG");
    rc = anth_sse_feed(&d, "data: a\n\n", 9, count_cb, &n);
    CHECK(rc == ANTH_SSE_ETOOBIG, "ETOOBIG is sticky across feeds");
    CHECK(anth_sse_finish(&d, count_cb, &n) == ANTH_SSE_ETOOBIG, "finish reports the stop");
    n = 0;
    rc = anth_sse_feed(&d, "data: a\n\n", 9, count_cb, &n);
    CHECK(rc == 0 && n == 1, "usable again after finish");
    anth_sse_free(&d);
    anth_sse_free(&d);
    CHECK(d.max_event_size == 10, "free keeps settings and is idempotent");

    /* A callback's own code (here ENOMEM) comes back unchanged and sticks. */
    anth_sse_init(&d);
    rc = anth_sse_feed(&d, "data: a\n\ndata: b\n\n", 18, enomem_cb, NULL);
    CHECK(rc == ANTH_SSE_ENOMEM, "callback code returned by feed");
    CHECK(anth_sse_feed(&d, "\n", 1, count_cb, &n) == ANTH_SSE_ENOMEM, "callback code sticks");
    anth_sse_reset(&d);
    n = 0;
    CHECK(anth_sse_feed(&d, "data: a\n\n", 9, count_cb, &n) == 0 && n == 1,
          "reset clears a stop");
    anth_sse_free(&d);

    /* finish resets the stream state: the last event id does not leak into the next one. */
    anth_sse_init(&d);
    memset(&c, 0, sizeof c);
    anth_sse_feed(&d, "id: 1\nretry: 5\ndata: a\n\n", 24, on_event, &c);
    anth_sse_finish(&d, on_event, &c);
    CHECK(d.retry_ms == -1, "finish forgets retry");
    anth_sse_feed(&d, "data: b\n\n", 9, on_event, &c);
    CHECK_STR(c.out.p, "[message#1|a][message|b]", "finish forgets the last event id");
    free(c.out.p);
    anth_sse_free(&d);

    /* One big event under the default cap; its buffer is given back afterwards. */
    big = malloc(big_len + 16);
    if (big == NULL)
        exit(2);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', big_len);
    memcpy(big + 6 + big_len, "\n\n", 2);
    anth_sse_init(&d);
    memset(&c, 0, sizeof c);
    for (i = 0; i < (int)(big_len + 8); i += 1000) {
        size_t len = big_len + 8 - (size_t)i < 1000 ? big_len + 8 - (size_t)i : 1000;
        if (anth_sse_feed(&d, big + i, len, on_event, &c) != 0)
            break;
    }
    CHECK(c.count == 1 && c.out.len == big_len + 10, "100 kB event in 1000-byte chunks");
    CHECK(d.data.cap <= 64 * 1024, "a huge event's data buffer is released after dispatch");
    free(c.out.p);
    anth_sse_free(&d);
    free(big);

    /* Steady state: no reallocation per event once the buffers have grown. */
    anth_sse_init(&d);
    n = 0;
    anth_sse_feed(&d, "event: e\ndata: hello\n\n", 22, count_cb, &n);
    p = d.data.p;
    q = d.event.p;
    for (i = 0; i < 1000; i++) {
        anth_sse_feed(&d, "event: e\ndata: hello\n\n", 22, count_cb, &n);
        if (d.data.p != p || d.event.p != q)
            stable = 0;
    }
    CHECK(stable && n == 1001, "buffers reused across 1000 events");
    anth_sse_free(&d);

    CHECK_STR(anth_sse_strerror(ANTH_SSE_ETOOBIG), "SSE event larger than the configured maximum",
              "strerror ETOOBIG");
    CHECK_STR(anth_sse_strerror(ANTH_SSE_ENOMEM), "out of memory while decoding SSE",
              "strerror ENOMEM");
    CHECK_STR(anth_sse_strerror(ANTH_SSE_TRUNCATED), "SSE stream ended inside an event",
              "strerror TRUNCATED");
    CHECK_STR(anth_sse_strerror(0), "", "strerror OK");
    CHECK(anth_sse_strerror(7) == NULL, "strerror of a callback code is NULL");
}

/* ---- conformance transcripts ---------------------------------------------------------- */

typedef struct transcript {
    const char *path;
    int events;          /* counted by hand: blocks followed by a blank line */
    const char *first, *last;
    int end;             /* what anth_sse_finish says */
} transcript;

/* The python/ fixtures stop without the final blank line (some even without the last LF),
 * so by the spec their message_stop is never dispatched: the count excludes it, the last
 * event is message_delta and finish reports TRUNCATED. */
static const transcript transcripts[] = {
    {"go/fallback-end.sse", 7, "message_start", "message_stop", 0},
    {"go/fallback-tooluse.sse", 6, "message_start", "message_stop", 0},
    {"go/refusal.sse", 11, "message_start", "message_stop", 0},
    {"inline/error-overloaded.go.sse", 1, "error", "error", 0},
    {"inline/error-overloaded.python.sse", 1, "error", "error", 0},
    {"python/basic_response.txt", 8, "message_start", "message_delta", ANTH_SSE_TRUNCATED},
    {"python/compaction_response.txt", 9, "message_start", "message_delta", ANTH_SSE_TRUNCATED},
    {"python/fallback_credit_response.txt", 5, "message_start", "message_delta",
     ANTH_SSE_TRUNCATED},
    {"python/fallback_response.txt", 7, "message_start", "message_delta", ANTH_SSE_TRUNCATED},
    {"python/incomplete_partial_json_response.txt", 15, "message_start", "message_delta",
     ANTH_SSE_TRUNCATED},
    {"python/refusal_response.txt", 4, "message_start", "message_delta", ANTH_SSE_TRUNCATED},
    {"python/stream-a-refusal.sse", 14, "message_start", "message_stop", 0},
    {"python/stream-a-toolrefusal.sse", 18, "message_start", "message_stop", 0},
    {"python/stream-b-fallback.sse", 21, "message_start", "message_stop", 0},
    {"python/tool_use_response.txt", 14, "message_start", "message_delta", ANTH_SSE_TRUNCATED},
    {"typescript/basic_response.txt", 9, "message_start", "message_stop", 0},
    {"typescript/incomplete_partial_json_response.txt", 16, "message_start", "message_stop", 0},
    {"typescript/tool_use_response.txt", 15, "message_start", "message_stop", 0},
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    sbuf b = {0, 0, 0};
    char tmp[4096];
    size_t n;
    if (f == NULL)
        return NULL;
    sb_str(&b, "");
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_add(&b, tmp, n);
    fclose(f);
    *len = b.len;
    return b.p;
}

/* Rewrites every LF as eol (CRLF or CR): the events must not change. */
static char *convert_eol(const char *in, size_t len, const char *eol, size_t *out_len)
{
    sbuf b = {0, 0, 0};
    size_t i;
    sb_str(&b, "");
    for (i = 0; i < len; i++) {
        if (in[i] == '\n')
            sb_str(&b, eol);
        else
            sb_add(&b, in + i, 1);
    }
    *out_len = b.len;
    return b.p;
}

static void test_transcripts(const char *dir)
{
    size_t i;
    static const opts plain = {0, 0, 0};
    char why[512];
    for (i = 0; i < sizeof transcripts / sizeof transcripts[0]; i++) {
        const transcript *t = &transcripts[i];
        char path[1024], *in, *alt, *bom, *want;
        size_t len, alt_len;
        collect c;
        uint32_t seed;
        int ok;
        snprintf(path, sizeof path, "%s/%s", dir, t->path);
        in = read_file(path, &len);
        CHECK(in != NULL, "%s: cannot read (set the conformance dir as argv[1])", path);
        if (in == NULL)
            continue;
        decode_cuts(in, len, NULL, 0, &plain, &c);
        want = c.out.p;
        CHECK(c.count == t->events, "%s: %d events, want %d", t->path, c.count, t->events);
        CHECK_STR(c.first, t->first, "%s: first event", t->path);
        CHECK_STR(c.last, t->last, "%s: last event", t->path);
        CHECK(c.typed_ok, "%s: every event's data starts with its own type", t->path);
        CHECK(strcmp(want + strlen(want) - strlen(code_name(t->end)), code_name(t->end)) == 0,
              "%s: finish returned %s", t->path, code_name(t->end));
        why[0] = '\0';
        CHECK(near_2way(in, len, &plain, want, why, sizeof why),
              "%s: 2-way splits near line ends and colons: %s", t->path, why);
        CHECK(bytewise(in, len, &plain, want, why, sizeof why), "%s: one byte at a time: %s",
              t->path, why);
        for (ok = 1, seed = 1; seed <= 50 && ok; seed++)
            ok = randomly(in, len, seed * 2654435761u, &plain, want, why, sizeof why);
        CHECK(ok, "%s: random chunking (50 seeds): %s", t->path, why);
        alt = convert_eol(in, len, "\r\n", &alt_len);
        CHECK(same(alt, alt_len, NULL, 0, &plain, want, why, sizeof why) &&
                  bytewise(alt, alt_len, &plain, want, why, sizeof why) &&
                  near_2way(alt, alt_len, &plain, want, why, sizeof why),
              "%s: as CRLF (whole, 1-byte, 2-way near line ends): %s", t->path, why);
        free(alt);
        alt = convert_eol(in, len, "\r", &alt_len);
        CHECK(same(alt, alt_len, NULL, 0, &plain, want, why, sizeof why) &&
                  bytewise(alt, alt_len, &plain, want, why, sizeof why),
              "%s: as CR (whole, 1-byte): %s", t->path, why);
        free(alt);
        bom = malloc(len + 3);
        if (bom == NULL)
            exit(2);
        memcpy(bom, "\xEF\xBB\xBF", 3);
        memcpy(bom + 3, in, len);
        CHECK(bytewise(bom, len + 3, &plain, want, why, sizeof why),
              "%s: with a BOM, one byte at a time: %s", t->path, why);
        free(bom);
        free(want);
        free(in);
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "spec/fixtures/conformance/sse";
    test_rows();
    test_api();
    test_transcripts(dir);
    return anth_check_done();
}
