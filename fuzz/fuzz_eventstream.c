/*
 * fuzz_eventstream.c: libFuzzer target for src/eventstream.c, differential rather than
 * crash-only.
 *
 * Input layout: byte 0 = config, byte 1 = chunking seed, the rest = the stream. Config bits
 * 0-5: 0 = default max_message_size, else a small max (16 + 4 * value) to reach the size
 * paths; bit 6: repair CRCs first (walk the stream frame by frame and write the correct
 * prelude and message CRCs, so mutations reach header parsing instead of dying at the CRC);
 * bit 7: the callback stops at the 2nd message. Each input is decoded three ways and the
 * renderings (messages, stop code, finish code) must be identical, else we abort():
 *   1. fed whole, in one call;
 *   2. fed in pieces whose sizes (0 included) come from a PRNG seeded by byte 1 and the
 *      length;
 *   3. fed one byte at a time.
 * Every delivered message must also be self-consistent: its headers walk to exactly their
 * declared length and its parts add up to a length within the limit.
 */
#include "../src/buf.h"
#include "../src/eventstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if defined(__clang__) && __clang_major__ >= 13
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

typedef anth_buf fz_buf;   /* the core's own growable buffer (src/buf.h) */

FZ_NOCOV static void fz_add(fz_buf *b, const void *s, size_t n)
{
    if (anth_buf_append(b, s, n) != 0)
        abort();
}

FZ_NOCOV static void fz_num(fz_buf *b, const char *label, long v)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, " %s=%ld", label, v);
    fz_add(b, tmp, strlen(tmp));
}

typedef struct fz_ctx {
    fz_buf out;
    int count, stop_at;
    size_t max;
} fz_ctx;

/* Length-prefixed rendering: no escaping needed. */
FZ_NOCOV static int fz_cb(void *ud, const anth_es_message *m)
{
    fz_ctx *c = ud;
    anth_es_header h;
    size_t pos = 0, seen = 0;
    char tmp[64];
    if (ANTH_ES_OVERHEAD + m->headers_len + m->payload_len > c->max)
        abort(); /* delivered past the limit */
    if (m->payload != m->headers + m->headers_len)
        abort();
    while (anth_es_next_header(m, &pos, &h)) {
        snprintf(tmp, sizeof tmp, "{%zu:%d:%zu:", h.name_len, h.type, h.value_len);
        fz_add(&c->out, tmp, strlen(tmp));
        fz_add(&c->out, h.name, h.name_len);
        fz_add(&c->out, h.value, h.value_len);
        seen = pos;
    }
    if (seen != m->headers_len)
        abort(); /* a validated block must walk to its end */
    snprintf(tmp, sizeof tmp, "|%zu:", m->payload_len);
    fz_add(&c->out, tmp, strlen(tmp));
    fz_add(&c->out, m->payload, m->payload_len);
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
static void fz_decode(const char *in, size_t len, size_t max, int stop_at, int mode, uint32_t seed,
                      fz_buf *out)
{
    anth_es d;
    fz_ctx c;
    size_t at = 0;
    int rc = 0;
    memset(&c, 0, sizeof c);
    c.stop_at = stop_at;
    c.max = max ? max : ANTH_ES_DEFAULT_MAX;
    fz_add(&c.out, "", 0);
    anth_es_init(&d);
    d.max_message_size = max;
    while (rc == 0 && at < len) {
        size_t n = mode == 0 ? len : mode == 2 ? 1 : fz_rand(&seed) % 41;
        if (n > len - at)
            n = len - at;
        rc = anth_es_feed(&d, in + at, n, fz_cb, &c);
        at += n;
    }
    if (rc)
        fz_num(&c.out, "ERR", rc);
    fz_num(&c.out, "END", anth_es_finish(&d));
    anth_es_free(&d);
    *out = c.out;
}

FZ_NOCOV static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

FZ_NOCOV static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes correct CRCs into every frame whose declared lengths fit the input. */
FZ_NOCOV static void repair(unsigned char *p, size_t len)
{
    size_t at = 0;
    while (len - at >= 12) {
        uint32_t total = be32(p + at), hl = be32(p + at + 4);
        put32(p + at + 8, (uint32_t)crc32(0L, p + at, 8));
        if (total < ANTH_ES_OVERHEAD || total > len - at || hl > total - ANTH_ES_OVERHEAD)
            return;
        put32(p + at + total - 4, (uint32_t)crc32(0L, p + at, total - 4));
        at += total;
    }
}

FZ_NOCOV static void fz_same(const fz_buf *a, const fz_buf *b, const char *what)
{
    if (a->len != b->len || memcmp(a->p, b->p, a->len) != 0) {
        fprintf(stderr, "fuzz_eventstream: %s differs (%zu vs %zu bytes)\n", what, a->len, b->len);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_buf whole = {0, 0, 0}, pieces = {0, 0, 0}, bytes = {0, 0, 0};
    unsigned char *in;
    size_t len, max;
    int stop_at;
    if (size < 2)
        return 0;
    max = (data[0] & 63) ? ANTH_ES_OVERHEAD + 4 * (size_t)(data[0] & 63) : 0;
    stop_at = (data[0] >> 7) ? 2 : 0;
    len = size - 2;
    in = malloc(len ? len : 1);
    if (in == NULL)
        abort();
    if (len)
        memcpy(in, data + 2, len);
    if ((data[0] >> 6) & 1)
        repair(in, len);
    fz_decode((const char *)in, len, max, stop_at, 0, 0, &whole);
    fz_decode((const char *)in, len, max, stop_at, 1, (uint32_t)data[1] * 2654435761u ^ (uint32_t)len,
              &pieces);
    fz_decode((const char *)in, len, max, stop_at, 2, 0, &bytes);
    fz_same(&whole, &pieces, "whole vs random pieces");
    fz_same(&whole, &bytes, "whole vs one byte at a time");
    free(whole.p);
    free(pieces.p);
    free(bytes.p);
    free(in);
    return 0;
}
