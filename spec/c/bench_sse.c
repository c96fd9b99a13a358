/*
 * bench_sse.c: micro-benchmark for src/sse.c. Builds a 20,000-event stream in memory
 * shaped like a real Messages API reply (content_block_delta events with short text
 * deltas, a ping every 100 events, framing events around them) and decodes it repeatedly
 * for about a second per chunking: the whole buffer in one call, 16 KiB pieces (what
 * libcurl hands a write callback), and one byte per call (the worst case). Prints events/s
 * and MB/s; the callback touches every event so nothing is optimised away.
 */
#define _POSIX_C_SOURCE 200809L
#include "../../src/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_EVENTS 20000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct tally {
    unsigned long events;
    size_t bytes;
} tally;

static int on_event(void *ud, const anth_sse_event *ev)
{
    tally *t = ud;
    t->events++;
    t->bytes += ev->data_len + ev->event_len;
    return 0;
}

static char *build(size_t *len)
{
    size_t cap = (size_t)BENCH_EVENTS * 200, n = 0;
    char *s = malloc(cap);
    int i;
    if (s == NULL)
        exit(2);
    n += (size_t)sprintf(s + n,
                         "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
                         "\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
                         "\"model\":\"claude-haiku-4-5\",\"stop_reason\":null,\"usage\":{\"input_"
                         "tokens\":11,\"output_tokens\":1}}}\n\n"
                         "event: content_block_start\ndata: {\"type\":\"content_block_start\","
                         "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    for (i = 2; i < BENCH_EVENTS - 3; i++) {
        if (i % 100 == 0)
            n += (size_t)sprintf(s + n, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
        else
            n += (size_t)sprintf(s + n,
                                 "event: content_block_delta\ndata: {\"type\":\"content_block_delta"
                                 "\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" "
                                 "word%d\"}}\n\n",
                                 i);
    }
    n += (size_t)sprintf(s + n,
                         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
                         "\"index\":0}\n\n"
                         "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{"
                         "\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{"
                         "\"output_tokens\":20000}}\n\n"
                         "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    *len = n;
    return s;
}

/* Decodes the stream in pieces of `chunk` bytes until min_s has passed; returns events/s. */
static double run(const char *s, size_t len, size_t chunk, double min_s, double *mbps)
{
    anth_sse d;
    tally t = {0, 0};
    unsigned long passes = 0;
    double start = now_s(), el;
    anth_sse_init(&d);
    do {
        size_t at = 0;
        while (at < len) {
            size_t n = len - at < chunk ? len - at : chunk;
            if (anth_sse_feed(&d, s + at, n, on_event, &t) != 0) {
                fprintf(stderr, "decode error\n");
                exit(1);
            }
            at += n;
        }
        if (anth_sse_finish(&d, on_event, &t) != 0) {
            fprintf(stderr, "stream did not end cleanly\n");
            exit(1);
        }
        passes++;
        el = now_s() - start;
    } while (el < min_s);
    anth_sse_free(&d);
    if (t.events != passes * BENCH_EVENTS) {
        fprintf(stderr, "decoded %lu events in %lu passes, want %d per pass\n", t.events, passes,
                BENCH_EVENTS);
        exit(1);
    }
    *mbps = (double)len * (double)passes / el / 1e6;
    return (double)t.events / el;
}

int main(void)
{
    size_t len;
    char *s = build(&len);
    double mb, ev;
    printf("sse bench: %d events, %zu bytes per stream\n", BENCH_EVENTS, len);
    ev = run(s, len, len, 1.0, &mb);
    printf("  whole buffer : %12.0f events/s  %8.1f MB/s\n", ev, mb);
    ev = run(s, len, 16384, 1.0, &mb);
    printf("  16 KiB chunks: %12.0f events/s  %8.1f MB/s\n", ev, mb);
    ev = run(s, len, 1, 0.5, &mb);
    printf("  1-byte chunks: %12.0f events/s  %8.1f MB/s\n", ev, mb);
    free(s);
    return 0;
}
