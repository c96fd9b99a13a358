/*
 * transport.h: the transfer engine. One anth_engine per client owns a libcurl multi handle,
 * the sockets libcurl asked to have watched, and the timers of its transfers (retry backoff,
 * stream idle timeout). Every request, blocking or not, is an anth_xfer on that engine.
 *
 * Invariants:
 * - libcurl callbacks only append bytes and decoded SSE events to the transfer's own buffers;
 *   nothing here calls Lua, so no Lua error can unwind through a libcurl frame.
 * - Retries are decided when an attempt completes (outside any curl callback) and scheduled as
 *   timers; anth_engine_poll never sleeps longer than the caller allowed.
 * - A transfer is owned by its engine. Freeing the engine frees every transfer and tells each
 *   transfer's owner through *owner_slot = NULL.
 */
#ifndef ANTH_TRANSPORT_H
#define ANTH_TRANSPORT_H

#include <stddef.h>
#include <curl/curl.h>
#include "errors.h"
#include "sse.h"
#include "eventstream.h"

typedef struct anth_engine anth_engine;
typedef struct anth_xfer anth_xfer;

/* A decoded SSE event waiting for the binding to hand it to Lua. */
typedef struct anth_event {
    struct anth_event *next;
    size_t name_len, data_len;
    char *name;   /* NUL-terminated, points into the same allocation */
    char *data;   /* NUL-terminated */
} anth_event;

/* How a 2xx body reaches the caller. Error bodies are always buffered whole. */
enum anth_body_mode {
    ANTH_BODY_BUFFER = 0,         /* one buffer, read once the transfer is done */
    ANTH_BODY_SSE,                /* decoded text/event-stream events, queued as they arrive */
    ANTH_BODY_LINES,              /* one queued event per line (JSONL), name "line" */
    ANTH_BODY_EVENTSTREAM         /* AWS event-stream messages, named by anth_es_describe */
};

typedef struct anth_xfer_opts {
    const char *method;           /* "GET", "POST", "DELETE" */
    const char *url;
    struct curl_slist *headers;   /* taken over by the transfer */
    const char *body;             /* not copied: the caller keeps it alive until the xfer is freed */
    size_t body_len;
    int has_body;
    int stream;                   /* how a 2xx body is delivered: ANTH_BODY_* */
    long timeout_ms;              /* whole attempt; 0 = none */
    long connect_timeout_ms;
    long idle_timeout_ms;         /* streams: longest gap between non-ping events; 0 = none */
    int max_retries;
    double retry_cap_s;           /* largest server-given delay that is honoured */
    size_t max_response_bytes;    /* cap on a buffered body and on one SSE event; 0 = none */
    int insecure;                 /* turn TLS verification off */
    const char *ca_file;
    const char *proxy;
} anth_xfer_opts;

enum anth_xfer_state {
    ANTH_X_WAITING = 1,  /* backoff timer running, not yet on the multi handle */
    ANTH_X_RUNNING,      /* on the multi handle */
    ANTH_X_DONE
};

/* What a finished transfer ended with. Valid once state == ANTH_X_DONE. */
typedef struct anth_outcome {
    anth_transport transport;     /* ANTH_T_NONE when an HTTP reply arrived whole */
    int curl_code;
    char message[CURL_ERROR_SIZE + 64];
} anth_outcome;

anth_engine *anth_engine_new(char *err, size_t errlen);
void anth_engine_free(anth_engine *e);
/* Bounded work: waits at most timeout_ms for socket activity or a timer, then moves every
 * transfer along. Decoded events waiting to be taken do not cut the wait short: a caller that
 * can take them passes 0. Returns the number of transfers not yet done, or -1 on an engine
 * failure (message in err). */
int anth_engine_poll(anth_engine *e, long timeout_ms, char *err, size_t errlen);
/* Milliseconds until the engine next needs a poll (0 = now, also while decoded events wait to
 * be taken), -1 when nothing is pending. */
long anth_engine_timeout(anth_engine *e);
/* The sockets libcurl wants watched: calls fn(fd, want_read, want_write, ud) for each. */
void anth_engine_sockets(anth_engine *e, void (*fn)(int fd, int r, int w, void *ud), void *ud);
int anth_engine_inflight(const anth_engine *e);

/* Starts a transfer. On failure returns NULL with a message; opts->headers is freed either way. */
anth_xfer *anth_xfer_start(anth_engine *e, anth_xfer_opts *opts, anth_xfer **owner_slot,
                           char *err, size_t errlen);
/* Stops a transfer (if still running) and frees it. */
void anth_xfer_free(anth_xfer *x);
/* Ends a transfer now as ANTH_T_ABORTED, keeping what it received. */
void anth_xfer_cancel(anth_xfer *x);
/* Abandons the current attempt and schedules a new one after the backoff delay, if attempts
 * remain. Returns the delay in seconds, or -1 when no attempt is left. */
double anth_xfer_retry(anth_xfer *x);

enum anth_xfer_state anth_xfer_state(const anth_xfer *x);
int anth_xfer_attempts(const anth_xfer *x);
long anth_xfer_status(const anth_xfer *x);           /* 0 until the final headers arrived */
int anth_xfer_headers_done(const anth_xfer *x);
const char *anth_xfer_headers(const anth_xfer *x, size_t *len); /* raw "Name: value\r\n" lines */
/* Copies the first value of response header `name` (case-insensitive, trimmed, cut to
 * outlen - 1 bytes) into out. Returns 0 when there is no such header. */
int anth_xfer_header(const anth_xfer *x, const char *name, char *out, size_t outlen);
const char *anth_xfer_body(const anth_xfer *x, size_t *len);
const anth_outcome *anth_xfer_outcome(const anth_xfer *x);
/* Detaches up to max (0 = all) decoded events, oldest first; the caller frees each with
 * free(). Taking events below the flow-control mark resumes a paused transfer. */
anth_event *anth_xfer_take_events(anth_xfer *x, size_t max);
/* Whether decoded events wait to be taken. */
int anth_xfer_has_events(const anth_xfer *x);
/* Whether the stream's last event was cut off by the end of the body. */
int anth_xfer_stream_truncated(const anth_xfer *x);

#endif
