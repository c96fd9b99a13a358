/*
 * fuzz_sse.c: libFuzzer target for src/sse.c, differential rather than crash-only.
 *
 * Input layout: byte 0 = config (max_event_size, dispatch_at_eof, callback stop), byte 1 =
 * chunking seed, the rest = the stream. Each input is decoded three ways and the renderings
 * (events, stop code, retry, finish code) must be identical, else we abort():
 *   1. src/sse.c fed the whole stream in one call;
 *   2. src/sse.c fed pieces whose sizes (0 included) come from a PRNG seeded by byte 1 and
 *      the stream's length, and then one byte at a time;
 *   3. a deliberately naive reference decoder below, written straight from the WHATWG
 *      text (whole input, line by line), with the same size rule as sse.c.
 */
#include "../src/sse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The harness's own loops (reference decoder, rendering) are not what we want coverage
 * of, and their comparison tracing cost ~10x in exec/s: keep libFuzzer's instrumentation
 * for src/sse.c only. */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

typedef struct fz_buf {
    char *p;
    size_t len, cap;
} fz_buf;

FZ_NOCOV static void fz_add(fz_buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

FZ_NOCOV static void fz_str(fz_buf *b, const char *s)
{
    fz_add(b, s, strlen(s));
}

FZ_NOCOV static void fz_num(fz_buf *b, const char *label, long v)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, " %s=%ld", label, v);
    fz_str(b, tmp);
}

/* Rendering shared by all three decoders: length-prefixed fields, so no escaping needed. */
FZ_NOCOV static void fz_event(fz_buf *out, const char *ev, size_t evn, const char *data, size_t dn,
                     const char *id, size_t idn)
{
    char tmp[96];
    snprintf(tmp, sizeof tmp, "[%zu:%zu:%zu:", evn, dn, idn);
    fz_str(out, tmp);
    fz_add(out, ev, evn);
    fz_add(out, data, dn);
    fz_add(out, id, idn);
    fz_str(out, "]");
}

typedef struct fz_cfg {
    size_t max;
    int eof, stop_at;
} fz_cfg;

/* ---- driver for src/sse.c -------------------------------------------------------------- */

typedef struct fz_ctx {
    fz_buf out;
    int count, stop_at;
} fz_ctx;

FZ_NOCOV static int fz_cb(void *ud, const anth_sse_event *ev)
{
    fz_ctx *c = ud;
    if (ev->event[ev->event_len] || ev->data[ev->data_len] || ev->id[ev->id_len])
        abort(); /* promised NUL terminators */
    fz_event(&c->out, ev->event, ev->event_len, ev->data, ev->data_len, ev->id, ev->id_len);
    return ++c->count == c->stop_at ? 7 : 0;
}

FZ_NOCOV static uint32_t fz_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* mode 0: whole; 1: PRNG pieces; 2: one byte at a time. */
static void fz_decode(const char *in, size_t len, const fz_cfg *cfg, int mode, uint32_t seed,
                      fz_buf *out)
{
    anth_sse d;
    fz_ctx c;
    size_t at = 0;
    int rc = 0;
    memset(&c, 0, sizeof c);
    c.stop_at = cfg->stop_at;
    fz_str(&c.out, "");
    anth_sse_init(&d);
    anth_sse_set_max(&d, cfg->max);
    d.dispatch_at_eof = cfg->eof;
    while (rc == 0 && at < len) {
        size_t n = mode == 0 ? len : mode == 2 ? 1 : fz_rand(&seed) % 67;
        if (n > len - at)
            n = len - at;
        rc = anth_sse_feed(&d, in + at, n, fz_cb, &c);
        at += n;
    }
    if (rc)
        fz_num(&c.out, "ERR", rc);
    if (d.retry_ms >= 0)
        fz_num(&c.out, "RETRY", d.retry_ms);
    fz_num(&c.out, "END", anth_sse_finish(&d, fz_cb, &c));
    anth_sse_free(&d);
    *out = c.out;
}

/* ---- the reference decoder --------------------------------------------------------------- */

typedef struct fz_ref {
    fz_buf data, event, id;
    long retry;
    int in_block, count, stop_at;
    size_t max;
    fz_buf *out;
} fz_ref;

FZ_NOCOV static int ref_dispatch(fz_ref *r)
{
    r->in_block = 0;
    if (r->data.len == 0) {
        r->event.len = 0;
        return 0;
    }
    if (r->event.len)
        fz_event(r->out, r->event.p, r->event.len, r->data.p, r->data.len - 1, r->id.p,
                 r->id.len);
    else
        fz_event(r->out, "message", 7, r->data.p, r->data.len - 1, r->id.p, r->id.len);
    r->data.len = 0;
    r->event.len = 0;
    return ++r->count == r->stop_at ? 7 : 0;
}

/* One line as the spec's steps say; returns a stop code. */
FZ_NOCOV static int ref_line(fz_ref *r, const char *s, size_t n)
{
    size_t i, fl, vs;
    if (n + r->data.len + r->event.len > r->max)
        return ANTH_SSE_ETOOBIG;
    if (n == 0)
        return ref_dispatch(r);
    r->in_block = 1;
    if (s[0] == ':')
        return 0;
    for (fl = 0; fl < n && s[fl] != ':'; fl++)
        ;
    vs = fl < n ? fl + 1 : n;
    if (vs < n && s[vs] == ' ')
        vs++;
    if (fl == 4 && memcmp(s, "data", 4) == 0) {
        fz_add(&r->data, s + vs, n - vs);
        fz_add(&r->data, "\n", 1);
    } else if (fl == 5 && memcmp(s, "event", 5) == 0) {
        r->event.len = 0;
        fz_add(&r->event, s + vs, n - vs);
    } else if (fl == 2 && memcmp(s, "id", 2) == 0) {
        for (i = vs; i < n && s[i] != '\0'; i++)
            ;
        if (i == n) {
            r->id.len = 0;
            fz_add(&r->id, s + vs, n - vs);
        }
    } else if (fl == 5 && memcmp(s, "retry", 5) == 0 && vs < n) {
        unsigned long long v = 0;
        for (i = vs; i < n && s[i] >= '0' && s[i] <= '9' && v <= 0x7fffffffULL; i++)
            v = v * 10 + (unsigned long long)(s[i] - '0');
        if (i == n && v <= 0x7fffffffULL)
            r->retry = (long)v;
    }
    return 0;
}

FZ_NOCOV static void ref_decode(const char *in, size_t len, const fz_cfg *cfg, fz_buf *out)
{
    fz_ref r;
    size_t i = 0, start;
    int rc = 0, end = 0;
    static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
    memset(&r, 0, sizeof r);
    fz_str(out, "");
    fz_str(&r.data, "");
    fz_str(&r.event, "");
    fz_str(&r.id, "");
    r.retry = -1;
    r.stop_at = cfg->stop_at;
    r.max = cfg->max ? cfg->max : ANTH_SSE_DEFAULT_MAX;
    r.out = out;
    if (len > 0 && len < 3 && memcmp(in, bom, len) == 0) {
        /* The whole stream is the start of a BOM: bytes held back, not yet a line. */
        if (cfg->eof)
            end = ref_line(&r, in, len);
        if (end == 0 && cfg->eof)
            end = ref_dispatch(&r);
        fz_num(out, "END", end ? end : ANTH_SSE_TRUNCATED);
        goto done;
    }
    if (len >= 3 && memcmp(in, bom, 3) == 0)
        i = 3;
    start = i;
    while (i < len && rc == 0) {
        if (in[i] == '\n' || in[i] == '\r') {
            rc = ref_line(&r, in + start, i - start);
            if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
                i++;
            start = i + 1;
        }
        i++;
    }
    if (rc == 0 && start < len && len - start + r.data.len + r.event.len > r.max)
        rc = ANTH_SSE_ETOOBIG; /* sse.c keeps the unfinished tail and measures it */
    if (rc)
        fz_num(out, "ERR", rc);
    if (r.retry >= 0)
        fz_num(out, "RETRY", r.retry);
    if (rc) {
        end = rc;
    } else if (start < len || r.in_block) {
        end = ANTH_SSE_TRUNCATED;
        if (cfg->eof) {
            int stop = start < len ? ref_line(&r, in + start, len - start) : 0;
            if (stop == 0)
                stop = ref_dispatch(&r);
            if (stop)
                end = stop;
        }
    }
    fz_num(out, "END", end);
done:
    free(r.data.p);
    free(r.event.p);
    free(r.id.p);
}

/* ---- entry point ----------------------------------------------------------------------- */

FZ_NOCOV static void fz_same(const fz_buf *a, const fz_buf *b, const char *what)
{
    if (a->len != b->len || memcmp(a->p, b->p, a->len) != 0) {
        fprintf(stderr, "fuzz_sse: %s differs\n--- A (%zu bytes)\n%s\n--- B (%zu bytes)\n%s\n",
                what, a->len, a->p, b->len, b->p);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_cfg cfg;
    fz_buf whole = {0, 0, 0}, pieces = {0, 0, 0}, bytes = {0, 0, 0}, ref = {0, 0, 0};
    const char *in;
    size_t len;
    if (size < 2)
        return 0;
    /* bits 0-5: 0 = default max, else a small max (1..63) to reach ETOOBIG paths;
     * bit 6: dispatch_at_eof; bit 7: stop at the 2nd event. */
    cfg.max = data[0] & 63;
    cfg.eof = (data[0] >> 6) & 1;
    cfg.stop_at = (data[0] >> 7) ? 2 : 0;
    in = (const char *)data + 2;
    len = size - 2;
    fz_decode(in, len, &cfg, 0, 0, &whole);
    fz_decode(in, len, &cfg, 1, (uint32_t)data[1] * 2654435761u ^ (uint32_t)len, &pieces);
    fz_decode(in, len, &cfg, 2, 0, &bytes);
    ref_decode(in, len, &cfg, &ref);
    fz_same(&whole, &ref, "whole-input decode vs reference decoder");
    fz_same(&whole, &pieces, "whole vs random pieces");
    fz_same(&whole, &bytes, "whole vs one byte at a time");
    free(whole.p);
    free(pieces.p);
    free(bytes.p);
    free(ref.p);
    return 0;
}
