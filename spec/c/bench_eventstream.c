/*
 * bench_eventstream.c: micro-benchmark for src/eventstream.c, the twin of bench_sse.c. Builds
 * a 20,000-message Bedrock-shaped stream in memory (each a `chunk` event whose payload is
 * {"bytes": base64 of a content_block_delta}, with the three string headers Bedrock sends)
 * and decodes it repeatedly for about a second per chunking: whole, 16 KiB pieces (what
 * libcurl hands a write callback) and one byte per call. Prints messages/s and MB/s; the
 * callback reads the :event-type header of every message, as the transport does.
 */
#define _POSIX_C_SOURCE 200809L
#include "../../src/eventstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define BENCH_MESSAGES 20000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_message(void *ud, const anth_es_message *m)
{
    unsigned long *n = ud;
    size_t len;
    if (anth_es_string(m, ":event-type", &len))
        (*n)++;
    return 0;
}

static void put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static size_t header(unsigned char *p, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    p[0] = (unsigned char)n;
    memcpy(p + 1, name, n);
    p[1 + n] = 7;
    p[2 + n] = (unsigned char)(v >> 8);
    p[3 + n] = (unsigned char)v;
    memcpy(p + 4 + n, value, v);
    return 4 + n + v;
}

static unsigned char *build(size_t *len)
{
    /* base64 of {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}} */
    static const char payload[] =
        "{\"bytes\":\"eyJ0eXBlIjoiY29udGVudF9ibG9ja19kZWx0YSIsImluZGV4IjowLCJkZWx0YSI6eyJ0eXBlIjoidGV4"
        "dF9kZWx0YSIsInRleHQiOiJIZWxsbyJ9fQ==\"}";
    unsigned char hdrs[128], *buf, *p;
    size_t hl = 0, pl = sizeof payload - 1, total, i;
    hl += header(hdrs + hl, ":event-type", "chunk");
    hl += header(hdrs + hl, ":content-type", "application/json");
    hl += header(hdrs + hl, ":message-type", "event");
    total = 16 + hl + pl;
    buf = malloc(total * BENCH_MESSAGES);
    if (buf == NULL)
        exit(2);
    for (i = 0, p = buf; i < BENCH_MESSAGES; i++, p += total) {
        put32(p, (unsigned long)total);
        put32(p + 4, (unsigned long)hl);
        put32(p + 8, crc32(0L, p, 8));
        memcpy(p + 12, hdrs, hl);
        memcpy(p + 12 + hl, payload, pl);
        put32(p + total - 4, crc32(0L, p, (uInt)(total - 4)));
    }
    *len = total * BENCH_MESSAGES;
    return buf;
}

static void run(const char *label, const unsigned char *buf, size_t len, size_t piece)
{
    double t0 = now_s(), dt;
    unsigned long n = 0, rounds = 0;
    do {
        anth_es d;
        size_t at = 0;
        anth_es_init(&d);
        while (at < len) {
            size_t k = piece < len - at ? piece : len - at;
            if (anth_es_feed(&d, (const char *)buf + at, k, on_message, &n) != 0) {
                fprintf(stderr, "bench_eventstream: decode failed\n");
                exit(1);
            }
            at += k;
        }
        anth_es_free(&d);
        rounds++;
        dt = now_s() - t0;
    } while (dt < 1.0);
    printf("%-10s %10.0f messages/s %8.1f MB/s\n", label, (double)n / dt,
           (double)len * (double)rounds / dt / 1e6);
}

int main(void)
{
    size_t len;
    unsigned char *buf = build(&len);
    printf("bench_eventstream: %d messages, %zu bytes\n", BENCH_MESSAGES, len);
    run("whole", buf, len, len);
    run("16 KiB", buf, len, 16384);
    run("1 byte", buf, len, 1);
    free(buf);
    return 0;
}
