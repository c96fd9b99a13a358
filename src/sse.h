/*
 * sse.h: incremental text/event-stream decoder (WHATWG HTML, "Server-sent events",
 * section "Interpreting an event stream"). Bytes go in with any chunking, down to one byte
 * per call; each complete event comes out through a callback. Plain C99: no Lua, no curl.
 *
 * Invariants:
 * - The decoded events depend only on the bytes, never on how they were split into calls
 *   (a CR ending one chunk and an LF starting the next are one line ending, a UTF-8
 *   character may be split anywhere: bytes are opaque).
 * - Memory is bounded: one logical line plus the current event's data and name may not
 *   exceed max_event_size; past it the decoder stops with ANTH_SSE_ETOOBIG.
 * - In the steady state no allocation happens per event: buffers are reused.
 * - After any nonzero return from anth_sse_feed (an error or the callback's stop code) the
 *   decoder is stopped: later feeds return the same code until anth_sse_finish or
 *   anth_sse_reset.
 *
 * The struct layout is public so that it can live inside another struct; fields marked
 * private must only be touched through the functions below.
 */
#ifndef ANTH_SSE_H
#define ANTH_SSE_H

#include <stddef.h>

/* Return codes. The decoder's own codes are negative; a callback that wants to stop the
 * decoder should return a positive value (or one of these, e.g. ANTH_SSE_ENOMEM when its
 * own allocation failed) and anth_sse_feed hands that value back unchanged. */
#define ANTH_SSE_OK 0
#define ANTH_SSE_ETOOBIG (-1)    /* a line + pending event exceeded max_event_size */
#define ANTH_SSE_ENOMEM (-2)     /* an allocation failed */
#define ANTH_SSE_TRUNCATED (-3)  /* anth_sse_finish: the stream ended inside an event block */

/* 16 MiB: far above any real Messages API event, small enough to stay harmless. */
#define ANTH_SSE_DEFAULT_MAX ((size_t)16 * 1024 * 1024)

/* One dispatched event. Every pointer is valid only during the callback and each string is
 * NUL-terminated; data may itself contain NUL bytes, so use the lengths. */
typedef struct anth_sse_event {
    const char *event;  /* "message" when the block had no (or an empty) event: field */
    size_t event_len;
    const char *data;   /* the block's data: lines joined by "\n" (no trailing "\n") */
    size_t data_len;
    const char *id;     /* the last event ID seen so far in this stream ("" if none) */
    size_t id_len;
} anth_sse_event;

/* Return 0 to go on, nonzero to stop: anth_sse_feed returns that value at once. The
 * callback must not call back into the same decoder. */
typedef int (*anth_sse_cb)(void *ud, const anth_sse_event *ev);

/* private */
typedef struct anth_sse_buf {
    char *p;
    size_t len, cap;
} anth_sse_buf;

typedef struct anth_sse {
    /* public, settable between calls */
    size_t max_event_size;   /* 0 means ANTH_SSE_DEFAULT_MAX */
    int dispatch_at_eof;     /* nonzero: anth_sse_finish dispatches a cut-off last event
                                (not the spec's behaviour; default 0) */
    /* public, read-only */
    long retry_ms;           /* last valid "retry:" value in ms, -1 when none yet */
    /* private */
    anth_sse_buf line;       /* a line whose end has not arrived yet */
    anth_sse_buf data;       /* data lines of the current block, each followed by '\n' */
    anth_sse_buf event;      /* event type of the current block */
    anth_sse_buf id;         /* last event ID buffer */
    int status;              /* sticky nonzero code once stopped */
    unsigned char bom;       /* leading BOM bytes matched so far; 3 = BOM phase over */
    unsigned char skip_lf;   /* last chunk ended in CR: a leading LF of the next belongs to it */
    unsigned char in_block;  /* a non-blank line was seen since the last blank line */
} anth_sse;

/* Sets up an empty decoder (no allocation, cannot fail); max_event_size = default. */
void anth_sse_init(anth_sse *d);
/* Same as assigning d->max_event_size (0 = default). */
void anth_sse_set_max(anth_sse *d, size_t max_event_size);
/* Decodes len bytes, calling cb for every event completed by them (cb may be NULL).
 * Returns 0, ANTH_SSE_ETOOBIG, ANTH_SSE_ENOMEM or the callback's nonzero code. */
int anth_sse_feed(anth_sse *d, const char *buf, size_t len, anth_sse_cb cb, void *ud);
/* End of stream. Per the spec a last event without its blank line is not dispatched
 * (unless d->dispatch_at_eof); either way such a cut-off block makes this return
 * ANTH_SSE_TRUNCATED, so the caller can tell a truncated stream from a complete one.
 * Returns 0 when the stream ended on a block boundary, the sticky code if the decoder was
 * stopped, or the callback's code. Afterwards the decoder is reset for a new stream
 * (settings and allocations are kept). */
int anth_sse_finish(anth_sse *d, anth_sse_cb cb, void *ud);
/* Drops all stream state (as after finish, without reporting); keeps settings. */
void anth_sse_reset(anth_sse *d);
/* Frees the buffers; the decoder is then as after anth_sse_init with its settings kept.
 * Idempotent. */
void anth_sse_free(anth_sse *d);
/* A fixed English description of a code returned above ("" for 0, NULL for other codes). */
const char *anth_sse_strerror(int code);

#endif
