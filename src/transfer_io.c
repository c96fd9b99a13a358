/*
 * transfer_io.c: what libcurl hands a transfer while it runs: each header line into the one
 * header parser (headers.c), the body into a buffer, a file (download.c) or a framer (SSE,
 * JSONL, AWS event-stream, whose Bedrock chunks are unwrapped here) whose events go onto the
 * transfer's queue; flow control pauses the transfer when the queue holds more than the caller
 * has taken.
 *
 * These callbacks never call Lua: they update C state and return (0 with a reason in x->cut
 * stops the transfer). Everything that follows from it runs in transfer.c, from
 * anth_engine_poll, after libcurl has returned.
 */
#define _POSIX_C_SOURCE 200809L
#include "transfer_impl.h"

#include <string.h>

#include "bedrock_chunk.h"

/* ---- libcurl callbacks: C state only, never Lua ------------------------------------------ */

size_t anth_xfer_on_header(char *p, size_t size, size_t n, void *ud)
{
    anth_xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response starts (after a 1xx or a proxy's CONNECT reply): forget the last. */
        anth_headers_clear(&x->hdr);
        x->header_bytes = 0;
        x->headers_done = 0;
        x->status = 0;
    } else if ((len == 2 && p[0] == '\r' && p[1] == '\n') || (len == 1 && p[0] == '\n')) {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200) {
            x->status = code;
            x->headers_done = 1;
        }
        return len;
    }
    if (x->max_bytes && x->header_bytes + len > x->max_bytes) {
        x->cut = ANTH_CUT_TOO_LARGE;
        return 0;
    }
    if (x->header_bytes + len > ANTH_MAX_HEADER_BLOCK) {
        x->cut = ANTH_CUT_HEADERS;
        return 0;
    }
    x->header_bytes += len;
    if (anth_headers_add_line(&x->hdr, p, len) != 0) {
        x->cut = ANTH_CUT_NOMEM;
        return 0;
    }
    return len;
}

/* Counts an event just queued under name. */
static int queued(anth_xfer *x, const char *name, size_t name_len)
{
    x->events_this_attempt++;
    x->engine->events_made++;
    /* Pings keep a dead generation looking alive, so they do not reset the idle clock. */
    if (!(name_len == 4 && memcmp(name, "ping", 4) == 0))
        x->saw_event = 1;
    return 0;
}

static int queue_event(anth_xfer *x, const char *name, size_t name_len, const char *data,
                       size_t data_len)
{
    if (anth_evq_push(&x->events, name, name_len, data, data_len) != 0)
        return ANTH_SSE_ENOMEM;
    return queued(x, name, name_len);
}

static int on_sse_event(void *ud, const anth_sse_event *ev)
{
    return queue_event(ud, ev->event, ev->event_len, ev->data, ev->data_len);
}

static int on_line(void *ud, const char *line, size_t len)
{
    return queue_event(ud, "line", 4, line, len);
}

/* A Bedrock `chunk` in AWS's shape is queued as the Anthropic event it carries, its base64
 * decoded straight into the queue (bedrock_chunk.h); any other payload, whatever JSON it may
 * be, is queued whole as `chunk:json`, for the platform to read with cjson. A server naming
 * its own event `chunk:json` gets the same reading, so the name forges nothing. */
static int queue_chunk(anth_xfer *x, const char *data, size_t len)
{
    unsigned char *out = (unsigned char *)anth_evq_reserve(&x->events, "chunk", 5,
                                                           ANTH_BEDROCK_CHUNK_ROOM(len));
    size_t got;
    if (out == NULL)
        return ANTH_SSE_ENOMEM;
    got = anth_bedrock_chunk_decode(data, len, out);
    if (got == (size_t)-1)
        return queue_event(x, "chunk:json", 10, data, len);   /* drops the reservation */
    anth_evq_commit(&x->events, got);
    return queued(x, "chunk", 5);
}

/* An event-stream message becomes one queued event, named as anth_es_describe says. */
static int on_es_message(void *ud, const anth_es_message *m)
{
    char name[128];
    const char *data;
    size_t len, name_len;
    if (anth_es_describe(m, name, sizeof name, &data, &len) != 0)
        return 0;
    name_len = strlen(name);
    if (name_len == 5 && memcmp(name, "chunk", 5) == 0)
        return queue_chunk(ud, data, len);
    return queue_event(ud, name, name_len, data, len);
}

/* Feeds an event-stream body; a corrupt frame ends the transfer (nothing after it can be
 * trusted), with the decoder's reason kept for the outcome's message. */
static int feed_eventstream(anth_xfer *x, const char *p, size_t len)
{
    int rc = anth_es_feed(&x->es, p, len, on_es_message, x);
    if (rc == ANTH_ES_EPRELUDE || rc == ANTH_ES_ECRC || rc == ANTH_ES_EHEADERS) {
        x->cut = ANTH_CUT_BAD_FRAME;
        x->es_error = rc;
    }
    return rc == ANTH_ES_ENOMEM ? ANTH_SSE_ENOMEM : rc ? ANTH_SSE_ETOOBIG : 0;
}

size_t anth_xfer_on_write(char *p, size_t size, size_t n, void *ud)
{
    anth_xfer *x = ud;
    size_t len = size * n;
    if (x->stream != ANTH_BODY_BUFFER && x->events.bytes >= ANTH_QUEUE_HIGH) {
        x->paused = 1;            /* libcurl keeps this chunk and hands it back on resume */
        return CURL_WRITEFUNC_PAUSE;
    }
    if (x->stream != ANTH_BODY_BUFFER && anth_xfer_status_ok(x)) {
        /* ANTH_LINES_E* and ANTH_SSE_E* share their values. */
        int rc = x->stream == ANTH_BODY_LINES ? anth_lines_feed(&x->lines, p, len, on_line, x)
               : x->stream == ANTH_BODY_EVENTSTREAM ? feed_eventstream(x, p, len)
                                                    : anth_sse_feed(&x->sse, p, len, on_sse_event, x);
        if (x->saw_event) {
            x->saw_event = 0;
            x->last_event_at = anth_now_ms();
        }
        if (rc != 0) {
            if (x->cut == ANTH_CUT_NONE)
                x->cut = rc == ANTH_SSE_ENOMEM ? ANTH_CUT_NOMEM : ANTH_CUT_TOO_LARGE;
            return 0;
        }
        return len;
    }
    if (x->has_sink && anth_xfer_status_ok(x)) {
        if (anth_sink_write(&x->sink, p, len) != 0) {
            x->cut = ANTH_CUT_DISK;
            return 0;
        }
        return len;
    }
    if (x->max_ok_bytes && anth_xfer_status_ok(x)
            ? x->body.len + len > x->max_ok_bytes
            : x->max_bytes && x->body.len + len > x->max_bytes) {
        x->cut = ANTH_CUT_TOO_LARGE;
        return 0;
    }
    if (anth_buf_append(&x->body, p, len) != 0) {
        x->cut = ANTH_CUT_NOMEM;
        return 0;
    }
    return len;
}

void anth_xfer_end_framing(anth_xfer *x)
{
    if (x->stream == ANTH_BODY_SSE && anth_sse_finish(&x->sse, on_sse_event, x) == ANTH_SSE_TRUNCATED)
        x->truncated = 1;
    if (x->stream == ANTH_BODY_LINES)
        anth_lines_finish(&x->lines, on_line, x);   /* a last line without its newline */
    if (x->stream == ANTH_BODY_EVENTSTREAM && anth_es_finish(&x->es) == ANTH_ES_TRUNCATED)
        x->truncated = 1;
}
