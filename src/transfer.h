/*
 * transfer.h: one request on an engine (engine.h): its easy handle, the libcurl callbacks
 * that receive headers and body, the framing of a streamed body (sse.h, lines.h) into a queue
 * of events the caller takes, flow control, attempts and the retry decision for each, and the
 * outcome.
 *
 * Invariants:
 * - libcurl callbacks only append bytes and decoded events to the transfer's own buffers and
 *   return; nothing here calls Lua.
 * - The retry decision is the C core's alone (errors.h): an attempt that failed is retried
 *   here, when it completes, if anth_should_retry says so and attempts remain. A caller that
 *   held back everything an attempt gave it asks again with anth_xfer_retry_unseen (failed
 *   transfer) or anth_xfer_retry_stream_error (an `event: error`), and this file decides.
 * - A transfer is owned by its engine: freeing the engine frees it (and NULLs *owner_slot).
 */
#ifndef ANTH_TRANSFER_H
#define ANTH_TRANSFER_H

#include <stddef.h>
#include <curl/curl.h>
#include "engine.h"
#include "errors.h"
#include "event_queue.h"
#include "upload.h"

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
    size_t max_ok_bytes;          /* if set, the cap on a buffered 2xx body instead */
    int insecure;                 /* turn TLS verification off */
    const char *ca_file;
    const char *proxy;
    const anth_mime_part *parts;  /* a multipart/form-data body (upload.h) instead of `body` */
    size_t nparts;
    const char *download_path;    /* a 2xx body is written to this file (download.h) */
    int file_error;               /* out: start failed on a file (parts, download_path) */
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
    int retryable;                /* what anth_should_retry said of the last attempt */
    double retry_after;           /* the server-given delay the engine honours, or -1 */
    char message[CURL_ERROR_SIZE + 64];
} anth_outcome;

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
/* For a caller that held back everything this attempt gave it: retries a DONE transfer when
 * its outcome is retryable (and attempts remain). Returns the delay, or -1 when not. */
double anth_xfer_retry_unseen(anth_xfer *x);
/* The same for an `event: error` of the given error.type inside a 200 stream: retried only
 * when anth_stream_error_retryable(error_type). Returns the delay, or -1 when not. */
double anth_xfer_retry_stream_error(anth_xfer *x, const char *error_type);

enum anth_xfer_state anth_xfer_state(const anth_xfer *x);
int anth_xfer_attempts(const anth_xfer *x);
/* How many times the engine scheduled another attempt; the last one's delay (seconds) and
 * cause in *delay and *reason (valid while x lives; "" and 0 before the first retry). */
int anth_xfer_last_retry(const anth_xfer *x, double *delay, const char **reason);
/* Milliseconds from the request's start to its outcome (to now while it runs), retries and
 * their waits included. */
double anth_xfer_elapsed_ms(const anth_xfer *x);
long anth_xfer_status(const anth_xfer *x);           /* 0 until the final headers arrived */
int anth_xfer_headers_done(const anth_xfer *x);
/* The final reply's headers, parsed (headers.h packed list; walk with anth_headers_next). */
const char *anth_xfer_headers(const anth_xfer *x, size_t *len);
/* Copies the first value of response header `name` (case-insensitive, cut to outlen - 1
 * bytes) into out. Returns 0 when there is no such header. */
int anth_xfer_header(const anth_xfer *x, const char *name, char *out, size_t outlen);
const char *anth_xfer_body(const anth_xfer *x, size_t *len);
const anth_outcome *anth_xfer_outcome(const anth_xfer *x);
/* Makes up to max (0 = all) decoded events, oldest first, the batch that
 * anth_xfer_next_event reads (event_queue.h); returns how many. Taking events below the
 * flow-control mark resumes a paused transfer. */
size_t anth_xfer_take_events(anth_xfer *x, size_t max);
/* The next event of the batch taken: 1 with *ev filled (valid until the next take), 0 when
 * the batch is read. */
int anth_xfer_next_event(anth_xfer *x, anth_event *ev);
/* Whether decoded events wait to be taken. */
int anth_xfer_has_events(const anth_xfer *x);
/* Bytes sent, request body size, bytes received, reply body size (-1 unknown) so far, as
 * libcurl counts them; read between polls, never from a callback. */
void anth_xfer_progress(const anth_xfer *x, curl_off_t v[4]);
/* Whether the stream's last event was cut off by the end of the body. */
int anth_xfer_stream_truncated(const anth_xfer *x);

/* ---- for the engine (engine.c) ---------------------------------------------------------- */
anth_xfer *anth_xfer_next(const anth_xfer *x);
anth_xfer *anth_xfer_prev(const anth_xfer *x);
/* libcurl reported the running attempt finished with `code`. */
void anth_xfer_attempt_done(anth_xfer *x, CURLcode code);
/* Starts a waiting attempt that is due by `now` (a new request, or a retry whose backoff
 * ended) if an engine slot is free. Returns 1 when it put the transfer on libcurl. */
int anth_xfer_start_due(anth_xfer *x, double now);
/* Ends (or retries) a running stream silent for longer than its idle timeout at `now`. */
void anth_xfer_check_idle(anth_xfer *x, double now);
/* When the transfer next needs the engine (monotonic ms): its wake-up or idle deadline; -1. */
double anth_xfer_deadline(const anth_xfer *x);

#endif
