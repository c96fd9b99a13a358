/*
 * test_eventstream.c: unit tests for src/eventstream.c. Every stream row is decoded whole,
 * under every 2-way and 3-way split, and one byte at a time with empty feeds in between;
 * each mode must give exactly the expected rendering.
 *
 * Rendering of one decode: per message "[name=value;...|payload]" (string headers shown as
 * text, other types as type#hex, payload escaped: \xHH for anything outside printable
 * ASCII), then " ERR=code" if a feed stopped and " END=code" from anth_es_finish.
 *
 * Frames are built here with zlib's crc32 (build()), and two frames come byte for byte from
 * the published AWS event-stream test vectors (encoded/positive/empty_message and
 * payload_no_headers), so the CRC and prelude layout are checked against AWS, not only
 * against this file's own encoder.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "../../src/buf.h"
#include "../../src/eventstream.h"

#include <zlib.h>

typedef anth_buf sbuf;   /* the core's own growable buffer (src/buf.h) */

static void sb_add(sbuf *b, const void *s, size_t n)
{
    if (anth_buf_append(b, s, n) != 0) {
        perror("anth_buf_append");
        exit(2);
    }
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_esc(sbuf *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '|' && c != ']') {
            sb_add(b, &s[i], 1);
        } else {
            char tmp[8];
            snprintf(tmp, sizeof tmp, "\\x%02X", c);
            sb_str(b, tmp);
        }
    }
}

/* ---- building frames ------------------------------------------------------------------ */

static void put32(sbuf *b, unsigned long v)
{
    unsigned char u[4];
    u[0] = (unsigned char)(v >> 24);
    u[1] = (unsigned char)(v >> 16);
    u[2] = (unsigned char)(v >> 8);
    u[3] = (unsigned char)v;
    sb_add(b, u, 4);
}

/* A string header in wire form. */
static void hdr_str(sbuf *h, const char *name, const char *value)
{
    unsigned char n = (unsigned char)strlen(name), t = 7, l[2];
    size_t vl = strlen(value);
    l[0] = (unsigned char)(vl >> 8);
    l[1] = (unsigned char)vl;
    sb_add(h, &n, 1);
    sb_add(h, name, n);
    sb_add(h, &t, 1);
    sb_add(h, l, 2);
    sb_add(h, value, vl);
}

/* Appends one frame with correct CRCs. */
static void build(sbuf *out, const sbuf *hdrs, const char *payload, size_t plen)
{
    size_t start = out->len, hl = hdrs ? hdrs->len : 0;
    put32(out, (unsigned long)(ANTH_ES_OVERHEAD + hl + plen));
    put32(out, (unsigned long)hl);
    put32(out, crc32(0L, (const Bytef *)out->p + start, 8));
    if (hl)
        sb_add(out, hdrs->p, hl);
    sb_add(out, payload, plen);
    put32(out, crc32(0L, (const Bytef *)out->p + start, (uInt)(out->len - start)));
}

static void event_frame(sbuf *out, const char *type, const char *payload)
{
    sbuf h = {0, 0, 0};
    hdr_str(&h, ":event-type", type);
    hdr_str(&h, ":content-type", "application/json");
    hdr_str(&h, ":message-type", "event");
    build(out, &h, payload, strlen(payload));
    free(h.p);
}

/* ---- decoding and rendering --------------------------------------------------------------- */

typedef struct ctx {
    sbuf out;
    int count, stop_at;
} ctx;

static int on_message(void *ud, const anth_es_message *m)
{
    ctx *c = ud;
    anth_es_header h;
    size_t pos = 0;
    int first = 1;
    sb_str(&c->out, "[");
    while (anth_es_next_header(m, &pos, &h)) {
        if (!first)
            sb_str(&c->out, ";");
        first = 0;
        sb_esc(&c->out, h.name, h.name_len);
        sb_str(&c->out, "=");
        if (h.type == ANTH_ES_STRING) {
            sb_esc(&c->out, h.value, h.value_len);
        } else {
            char tmp[8];
            size_t i;
            snprintf(tmp, sizeof tmp, "%d#", h.type);
            sb_str(&c->out, tmp);
            for (i = 0; i < h.value_len; i++) {
                snprintf(tmp, sizeof tmp, "%02x", (unsigned char)h.value[i]);
                sb_str(&c->out, tmp);
            }
        }
    }
    sb_str(&c->out, "|");
    sb_esc(&c->out, m->payload, m->payload_len);
    sb_str(&c->out, "]");
    return ++c->count == c->stop_at ? 9 : 0;
}

/* Feeds `in` cut at the given offsets (sorted, within [0, len]); returns the rendering. */
static char *decode_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                         size_t max, int stop_at, int empty_feeds)
{
    anth_es d;
    ctx c;
    size_t i, at = 0;
    int rc = 0;
    char tmp[32];
    memset(&c, 0, sizeof c);
    c.stop_at = stop_at;
    sb_str(&c.out, "");
    anth_es_init(&d);
    d.max_message_size = max;
    for (i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        if (empty_feeds)
            rc = anth_es_feed(&d, in + at, 0, on_message, &c);
        if (rc == 0)
            rc = anth_es_feed(&d, in + at, end - at, on_message, &c);
        at = end;
    }
    if (rc) {
        snprintf(tmp, sizeof tmp, " ERR=%d", rc);
        sb_str(&c.out, tmp);
        CHECK(anth_es_feed(&d, "x", 1, on_message, &c) == rc, "stopped decoder keeps code %d", rc);
    }
    snprintf(tmp, sizeof tmp, " END=%d", anth_es_finish(&d));
    sb_str(&c.out, tmp);
    anth_es_free(&d);
    return c.out.p;
}

/* Whole, every 2-way split, every 3-way split (short inputs), byte by byte. */
static void check_row(const char *name, const char *in, size_t len, size_t max, int stop_at,
                      const char *want)
{
    size_t a, b, cuts[2];
    char *got = decode_cuts(in, len, NULL, 0, max, stop_at, 0);
    int bad = 0;
    CHECK_STR(got, want, "%s: whole", name);
    free(got);
    for (a = 0; a <= len && !bad; a++) {
        cuts[0] = a;
        got = decode_cuts(in, len, cuts, 1, max, stop_at, 0);
        if (strcmp(got, want) != 0) {
            CHECK_STR(got, want, "%s: split at %zu", name, a);
            bad = 1;
        }
        free(got);
        for (b = a; len <= 160 && b <= len && !bad; b++) {
            cuts[0] = a;
            cuts[1] = b;
            got = decode_cuts(in, len, cuts, 2, max, stop_at, 0);
            if (strcmp(got, want) != 0) {
                CHECK_STR(got, want, "%s: split at %zu and %zu", name, a, b);
                bad = 1;
            }
            free(got);
        }
    }
    CHECK(!bad, "%s: every split", name);
    {
        size_t *every = malloc((len ? len : 1) * sizeof *every);
        for (a = 0; a < len; a++)
            every[a] = a;
        got = decode_cuts(in, len, every, len, max, stop_at, 1);
        CHECK_STR(got, want, "%s: one byte at a time", name);
        free(got);
        free(every);
    }
}

/* ---- rows ------------------------------------------------------------------------------ */

static void test_aws_vectors(void)
{
    static const char empty[] = "\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2\x48\xeb\x7d\x98\xc8\xff";
    static const char payload[] = "\x00\x00\x00\x1d\x00\x00\x00\x00\xfd\x52\x8c\x5a"
                                  "{'foo':'bar'}\xc3\x65\x39\x36";
    check_row("aws empty_message", empty, 16, 0, 0, "[|] END=0");
    check_row("aws payload_no_headers", payload, 29, 0, 0, "[|{'foo':'bar'}] END=0");
}

static void test_streams(void)
{
    sbuf s = {0, 0, 0}, h = {0, 0, 0};
    event_frame(&s, "chunk", "{\"bytes\":\"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0=\"}");
    check_row("one chunk event", s.p, s.len, 0, 0,
              "[:event-type=chunk;:content-type=application/json;:message-type=event|"
              "{\"bytes\":\"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0=\"}] END=0");
    s.len = 0;
    event_frame(&s, "chunk", "{}");
    build(&s, NULL, "", 0);
    event_frame(&s, "chunk", "x");
    check_row("three messages", s.p, s.len, 0, 0,
              "[:event-type=chunk;:content-type=application/json;:message-type=event|{}][|]"
              "[:event-type=chunk;:content-type=application/json;:message-type=event|x] END=0");
    check_row("callback stops at the second", s.p, s.len, 0, 2,
              "[:event-type=chunk;:content-type=application/json;:message-type=event|{}][|]"
              " ERR=9 END=9");
    /* Every value type, including a binary payload with NUL bytes. */
    sb_add(&h, "\x01t\x00", 3);
    sb_add(&h, "\x01" "f\x01", 3);
    sb_add(&h, "\x01" "b\x02\xff", 4);
    sb_add(&h, "\x01s\x03\x12\x34", 5);
    sb_add(&h, "\x01i\x04\x01\x02\x03\x04", 7);
    sb_add(&h, "\x01l\x05\x01\x02\x03\x04\x05\x06\x07\x08", 11);
    sb_add(&h, "\x02" "ba\x06\x00\x02\x00\xee", 8);
    sb_add(&h, "\x02ts\x08\x00\x00\x01\x8b\x00\x00\x00\x00", 12);
    sb_add(&h, "\x01u\x09" "0123456789abcdef", 19);
    hdr_str(&h, "empty", "");
    s.len = 0;
    build(&s, &h, "\x00\x01", 2);
    check_row("every header type", s.p, s.len, 0, 0,
              "[t=0#;f=1#;b=2#ff;s=3#1234;i=4#01020304;l=5#0102030405060708;ba=6#00ee;"
              "ts=8#0000018b00000000;u=9#30313233343536373839616263646566;empty=|\\x00\\x01]"
              " END=0");
    free(s.p);
    free(h.p);
}

static void test_errors(void)
{
    sbuf s = {0, 0, 0}, h = {0, 0, 0};
    char tmp[96];
    event_frame(&s, "chunk", "{}");
    /* A corrupt byte in each region: prelude lengths/CRC, headers, payload, message CRC. */
    s.p[11] ^= 1;
    check_row("prelude CRC", s.p, s.len, 0, 0, " ERR=-4 END=-4");
    s.p[11] ^= 1;
    s.p[s.len - 1] ^= 1;
    check_row("message CRC", s.p, s.len, 0, 0, " ERR=-5 END=-5");
    s.p[s.len - 1] ^= 1;
    s.p[s.len - 6] ^= 0x20;
    check_row("payload byte flipped", s.p, s.len, 0, 0, " ERR=-5 END=-5");
    s.p[s.len - 6] ^= 0x20;
    snprintf(tmp, sizeof tmp, " ERR=%d END=%d", ANTH_ES_ETOOBIG, ANTH_ES_ETOOBIG);
    check_row("larger than max", s.p, s.len, s.len - 1, 0, tmp);
    {
        /* The cap holds at the prelude: a message past it is refused however it is cut,
         * the good message before it is still delivered. */
        sbuf two = {0, 0, 0};
        build(&two, NULL, "ok", 2);
        sb_add(&two, s.p, s.len);
        check_row("good then too big", two.p, two.len, s.len - 1, 0, "[|ok] ERR=-1 END=-1");
        free(two.p);
    }
    check_row("exactly max", s.p, s.len, s.len, 0,
              "[:event-type=chunk;:content-type=application/json;:message-type=event|{}] END=0");
    /* Lengths that cannot be, with a correct prelude CRC. */
    {
        sbuf bad = {0, 0, 0};
        put32(&bad, 15);
        put32(&bad, 0);
        put32(&bad, crc32(0L, (const Bytef *)bad.p, 8));
        put32(&bad, 0);
        check_row("total below 16", bad.p, bad.len, 0, 0, " ERR=-4 END=-4");
        bad.len = 0;
        put32(&bad, 20);
        put32(&bad, 5);
        put32(&bad, crc32(0L, (const Bytef *)bad.p, 8));
        check_row("headers longer than the message", bad.p, bad.len, 0, 0, " ERR=-4 END=-4");
        bad.len = 0;
        put32(&bad, 0x00ffffff);
        put32(&bad, (unsigned long)ANTH_ES_MAX_HEADERS + 1);
        put32(&bad, crc32(0L, (const Bytef *)bad.p, 8));
        check_row("headers past 128 KiB", bad.p, bad.len, 0, 0, " ERR=-1 END=-1");
        free(bad.p);
    }
    /* Headers that overrun their block, an unknown type, an empty name: all with good CRCs. */
    {
        static const struct { const char *name, *bytes; size_t len; } rows[] = {
            {"string longer than the block", "\x01s\x07\x00\x09" "abc", 8},
            {"name longer than the block", "\x09" "ab", 3},
            {"name without a type", "\x02" "ab", 3},
            {"unknown type 10", "\x01x\x0a", 3},
            {"empty name", "\x00\x00", 2},
            {"int cut short", "\x01i\x04\x00\x00", 5},
            {"uuid cut short", "\x01u\x09" "0123", 7},
            {"string length cut", "\x01s\x07\x00", 4},
        };
        size_t i;
        for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            s.len = h.len = 0;
            sb_add(&h, rows[i].bytes, rows[i].len);
            build(&s, &h, "p", 1);
            check_row(rows[i].name, s.p, s.len, 0, 0, " ERR=-6 END=-6");
        }
    }
    /* Ending inside a message. */
    s.len = 0;
    event_frame(&s, "chunk", "{}");
    check_row("cut inside the prelude", s.p, 5, 0, 0, " END=-3");
    check_row("cut after the prelude", s.p, 12, 0, 0, " END=-3");
    check_row("cut before the message CRC", s.p, s.len - 4, 0, 0, " END=-3");
    check_row("empty stream", s.p, 0, 0, 0, " END=0");
    free(s.p);
    free(h.p);
}

static void test_api(void)
{
    anth_es d;
    sbuf s = {0, 0, 0}, h = {0, 0, 0};
    ctx c;
    size_t n = 0;
    int rc;
    memset(&c, 0, sizeof c);
    sb_add(&h, "\x04name\x04\x00\x00\x00\x01", 10); /* an int header of the same name first */
    hdr_str(&h, "name", "second");
    hdr_str(&h, ":exception-type", "throttlingException");
    build(&s, &h, "{\"message\":\"slow down\"}", 23);
    anth_es_init(&d);
    {
        anth_es_message m;
        const char *v;
        m.headers = s.p + 12;
        m.headers_len = h.len;
        m.payload = NULL;
        m.payload_len = 0;
        v = anth_es_string(&m, "name", &n);
        CHECK(v && n == 6 && memcmp(v, "second", 6) == 0, "anth_es_string skips non-string headers");
        v = anth_es_string(&m, ":exception-type", &n);
        CHECK(v && n == 19 && memcmp(v, "throttlingException", 19) == 0, "anth_es_string finds a later header");
        CHECK(anth_es_string(&m, ":event-type", &n) == NULL, "anth_es_string: absent header is NULL");
        CHECK(anth_es_string(&m, "nam", &n) == NULL, "anth_es_string: whole names only");
    }
    /* Stopped, then reset: the decoder works again for a new stream. */
    s.p[3] ^= 1;
    rc = anth_es_feed(&d, s.p, s.len, on_message, &c);
    CHECK(rc == ANTH_ES_EPRELUDE, "corrupt prelude stops the decoder (%d)", rc);
    s.p[3] ^= 1;
    CHECK(anth_es_feed(&d, s.p, s.len, on_message, &c) == ANTH_ES_EPRELUDE, "sticky until reset");
    anth_es_reset(&d);
    CHECK(anth_es_feed(&d, s.p, s.len, on_message, &c) == 0 && c.count == 1, "works after reset");
    /* A partial message then reset: nothing of it survives. */
    CHECK(anth_es_feed(&d, s.p, 20, on_message, &c) == 0, "partial feed");
    anth_es_reset(&d);
    CHECK(anth_es_feed(&d, s.p, s.len, on_message, &c) == 0 && c.count == 2, "reset drops a partial message");
    CHECK(anth_es_finish(&d) == 0, "finish on a boundary");
    anth_es_free(&d);
    anth_es_free(&d);
    CHECK(d.buf == NULL && d.cap == 0, "free is idempotent");
    /* A prelude announcing a 1 MiB message costs nothing until its bytes arrive. */
    {
        sbuf big = {0, 0, 0};
        anth_es e;
        char *payload = calloc(1, 1 << 20);
        build(&big, NULL, payload, 1 << 20);
        anth_es_init(&e);
        CHECK(anth_es_feed(&e, big.p, 100, NULL, NULL) == 0 && e.cap <= 256,
              "buffer grows with the bytes received, not the declared length (%zu)", e.cap);
        CHECK(anth_es_feed(&e, big.p + 100, big.len - 100, NULL, NULL) == 0 && anth_es_finish(&e) == 0,
              "the rest completes it");
        anth_es_free(&e);
        free(payload);
        free(big.p);
    }
    /* A callback may be NULL: messages are checked and dropped. */
    anth_es_init(&d);
    CHECK(anth_es_feed(&d, s.p, s.len, NULL, NULL) == 0, "NULL callback");
    anth_es_free(&d);
    {
        static const int codes[] = {ANTH_ES_OK, ANTH_ES_ETOOBIG, ANTH_ES_ENOMEM, ANTH_ES_TRUNCATED,
                                    ANTH_ES_EPRELUDE, ANTH_ES_ECRC, ANTH_ES_EHEADERS};
        size_t i;
        for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
            CHECK(anth_es_strerror(codes[i]) != NULL, "strerror(%d) is set", codes[i]);
        CHECK_STR(anth_es_strerror(0), "", "strerror(0) is empty");
        CHECK(anth_es_strerror(7) == NULL, "strerror of a callback code is NULL");
    }
    free(c.out.p);
    free(s.p);
    free(h.p);
}

/* A large message (past the buffer's keep size) cut in two, then a small one: the buffer is
 * released and regrown without losing bytes. */
static void test_large(void)
{
    sbuf s = {0, 0, 0};
    size_t big = 200 * 1024, cuts[1];
    char *payload = malloc(big), *got, want[64];
    memset(payload, 'z', big);
    build(&s, NULL, payload, big);
    build(&s, NULL, "tail", 4);
    cuts[0] = 1000;
    got = decode_cuts(s.p, s.len, cuts, 1, 0, 0, 0);
    CHECK(strlen(got) == big + 16 && memcmp(got + big + 2, "][|tail] END=0", 14) == 0,
          "200 KiB message across a cut, then a small one");
    free(got);
    snprintf(want, sizeof want, " ERR=%d END=%d", ANTH_ES_ETOOBIG, ANTH_ES_ETOOBIG);
    got = decode_cuts(s.p, s.len, cuts, 1, big, 0, 0);
    CHECK_STR(got, want, "max below the big message");
    free(got);
    free(payload);
    free(s.p);
}

/* anth_es_describe over each message type. */
typedef struct dctx {
    sbuf out;
} dctx;

static int on_describe(void *ud, const anth_es_message *m)
{
    dctx *c = ud;
    char name[40];
    const char *data;
    size_t n;
    if (anth_es_describe(m, name, sizeof name, &data, &n) != 0) {
        sb_str(&c->out, "(skip)");
        return 0;
    }
    sb_str(&c->out, name);
    sb_str(&c->out, "=");
    sb_esc(&c->out, data, n);
    sb_str(&c->out, ";");
    return 0;
}

static void test_describe(void)
{
    sbuf s = {0, 0, 0}, h = {0, 0, 0};
    dctx c;
    anth_es d;
    memset(&c, 0, sizeof c);
    sb_str(&c.out, "");
    event_frame(&s, "chunk", "{}");
    hdr_str(&h, ":message-type", "exception");
    hdr_str(&h, ":exception-type", "throttlingException");
    build(&s, &h, "{\"message\":\"slow\"}", 18);
    h.len = 0;
    hdr_str(&h, ":message-type", "error");
    hdr_str(&h, ":error-code", "InternalFailure");
    hdr_str(&h, ":error-message", "it broke");
    build(&s, &h, "", 0);
    h.len = 0;
    hdr_str(&h, ":message-type", "event");
    build(&s, &h, "no event type", 13);
    h.len = 0;
    hdr_str(&h, ":message-type", "something-new");
    build(&s, &h, "x", 1);
    build(&s, NULL, "no headers", 10);
    h.len = 0;
    hdr_str(&h, ":message-type", "exception");
    hdr_str(&h, ":exception-type", "aVeryLongExceptionNameThatIsCutHereAndMore");
    build(&s, &h, "", 0);
    anth_es_init(&d);
    CHECK(anth_es_feed(&d, s.p, s.len, on_describe, &c) == 0, "describe: decodes");
    CHECK_STR(c.out.p, "chunk={};exception:throttlingException={\"message\":\"slow\"};"
                       "error:InternalFailure=it broke;(skip)(skip)(skip)exception:aVeryLongExceptionNameThatIsC=;",
              "describe: names and data");
    anth_es_free(&d);
    free(c.out.p);
    free(s.p);
    free(h.p);
}

int main(void)
{
    test_describe();
    test_aws_vectors();
    test_streams();
    test_errors();
    test_api();
    test_large();
    return anth_check_done();
}
