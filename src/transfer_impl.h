/*
 * transfer_impl.h: a transfer's state, private to transfer.c (attempts, retries, the outcome,
 * what the binding reads) and transfer_io.c (what libcurl's callbacks write into it). Nothing
 * else includes it: the rest of the core sees anth_xfer only through transfer.h.
 */
#ifndef ANTH_TRANSFER_IMPL_H
#define ANTH_TRANSFER_IMPL_H

#include "transfer.h"

#include "buf.h"
#include "download.h"
#include "eventstream.h"
#include "headers.h"
#include "lines.h"
#include "sse.h"

#define ANTH_DEFAULT_EVENT_MAX (16u * 1024u * 1024u)
/* Flow control: past this many bytes of decoded events not yet taken by the caller, the
 * transfer is paused, so memory is bounded by what the caller has not read, not by the
 * transfer. Taking the events resumes it. */
#define ANTH_QUEUE_HIGH (64u * 1024u)

/* Why a transfer was stopped from inside a callback (curl then reports a write error).
 * BAD_FRAME: a corrupt AWS event-stream frame (nothing after it can be trusted).
 * HEADERS: the header block passed ANTH_MAX_HEADER_BLOCK; HEADER_LINE: libcurl refused one
 * header line longer than its CURL_MAX_HTTP_HEADER (it says "out of memory", which it is not). */
enum anth_cut { ANTH_CUT_NONE = 0, ANTH_CUT_TOO_LARGE, ANTH_CUT_NOMEM, ANTH_CUT_HEADERS,
                ANTH_CUT_HEADER_LINE, ANTH_CUT_BAD_FRAME, ANTH_CUT_DISK };

/* A reply's header block may hold at most this many bytes: below libcurl's own 300 KB cap
 * (which it reports as a receive error), far above what any API reply sends. */
#define ANTH_MAX_HEADER_BLOCK (256 * 1024)

struct anth_xfer {
    anth_engine *engine;
    anth_xfer *prev, *next;       /* the engine's list of live transfers */
    anth_xfer **owner_slot;
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    enum anth_xfer_state state;
    int in_multi;
    int stream, max_retries, attempts;
    long timeout_ms, connect_timeout_ms, idle_timeout_ms;
    double retry_cap_s;
    size_t max_bytes;
    size_t max_ok_bytes;          /* a buffered 2xx body's own cap (a download into a string) */
    double wake_at;               /* WAITING: when the next attempt starts (monotonic ms) */
    double last_event_at;         /* RUNNING stream: last non-ping event, or attempt start */
    int saw_event;                /* set by the event callback, folded into last_event_at */
    int paused;                   /* receiving paused until the caller takes the queue */
    long status;
    int headers_done;
    int truncated;
    enum anth_cut cut;
    size_t events_this_attempt;
    int retries;                  /* attempts scheduled again so far, and the last one's ... */
    double retry_delay;           /* ... delay in seconds and ... */
    char retry_reason[64];        /* ... cause ("HTTP 529", "reset", "idle timeout", ...) */
    double started_at, ended_at;  /* monotonic ms: the first attempt's start, the outcome */
    size_t header_bytes;          /* raw bytes of this reply's header block, for the cap */
    anth_headers hdr;
    anth_buf body;
    anth_sse sse;
    anth_lines lines;
    anth_es es;                   /* ANTH_BODY_EVENTSTREAM (Amazon Bedrock streams) */
    int es_error;                 /* the decoder's code when a corrupt frame cut the transfer */
    anth_event_queue events;      /* decoded, not yet taken by the binding */
    curl_mime *mime;              /* a multipart body (upload.h), or NULL */
    int has_sink;                 /* a 2xx body goes to `sink` (download.h), not to `body` */
    anth_sink sink;
    anth_outcome outcome;
};

/* The reply of the attempt is a 2xx: its body is the result (buffered, streamed or saved), and
 * it is never retried. */
static inline int anth_xfer_status_ok(const anth_xfer *x)
{
    return x->status >= 200 && x->status < 300;
}

/* libcurl's header and write callbacks of every transfer (transfer_io.c): C state only. */
size_t anth_xfer_on_header(char *p, size_t size, size_t n, void *ud);
size_t anth_xfer_on_write(char *p, size_t size, size_t n, void *ud);
/* A 2xx body ended cleanly: the framer's last event (one not followed by its blank line or
 * newline) is queued, and an SSE or event-stream body cut inside an event marks the transfer
 * truncated. */
void anth_xfer_end_framing(anth_xfer *x);

#endif
