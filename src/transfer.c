/*
 * transfer.c: one request on the engine (see transfer.h for the invariants): its easy handle
 * (taken from the engine's pool), attempts, retries, idle checks and the outcome, and what the
 * binding reads of it after a poll. What libcurl's callbacks do while an attempt runs (headers,
 * body, framing into the event queue, flow control) is transfer_io.c's.
 *
 * Those callbacks never call Lua: they update C state and return. Attempt completion, the
 * retry decision and idle checks run here, from anth_engine_poll, after libcurl has returned.
 */
#define _POSIX_C_SOURCE 200809L
#include "transfer_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "easy_options.h"
#include "errors_aws.h"

/* ---- attempts ---------------------------------------------------------------------------- */

/* Forgets everything one attempt received, before the next attempt starts. */
static void reset_attempt(anth_xfer *x)
{
    anth_headers_clear(&x->hdr);
    x->header_bytes = 0;
    x->body.len = 0;
    x->status = 0;
    x->headers_done = 0;
    x->truncated = 0;
    x->cut = ANTH_CUT_NONE;
    x->events_this_attempt = 0;
    x->errbuf[0] = '\0';
    anth_evq_reset(&x->events);
    x->paused = 0;
    anth_sse_free(&x->sse);
    anth_sse_init(&x->sse);
    anth_sse_set_max(&x->sse, x->max_bytes ? x->max_bytes : ANTH_DEFAULT_EVENT_MAX);
    anth_lines_reset(&x->lines);
    anth_es_reset(&x->es);
    if (x->has_sink) {
        char err[256];
        (void)anth_sink_restart(&x->sink, err, sizeof err);   /* a failure fails the first write */
    }
}

static int start_attempt(anth_xfer *x, char *err, size_t errlen)
{
    CURLMcode mc;
    x->attempts++;
    x->state = ANTH_X_RUNNING;
    x->last_event_at = anth_now_ms();
    mc = curl_multi_add_handle(x->engine->multi, x->easy);
    if (mc != CURLM_OK) {
        snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return -1;
    }
    x->in_multi = 1;
    x->engine->active++;
    return 0;
}

static void leave_multi(anth_xfer *x)
{
    if (x->in_multi) {
        curl_multi_remove_handle(x->engine->multi, x->easy);
        x->in_multi = 0;
        x->engine->active--;
    }
}

/* A transfer that is due but waits for one of the engine's ANTH_MAX_ACTIVE slots. */
static int waits_for_slot(const anth_xfer *x, double now)
{
    return x->state == ANTH_X_WAITING && x->wake_at <= now &&
           x->engine->active >= ANTH_MAX_ACTIVE;
}

static const char *first_header(const anth_xfer *x, const char *name, char *out, size_t outlen)
{
    return anth_xfer_header(x, name, out, outlen) ? out : NULL;
}

/* The engine's decision on the attempt that just ended: retry or not (attempts aside). */
static int decide_retry(const anth_xfer *x, anth_transport t)
{
    char hint[16], aws[96];
    anth_kind k;
    if (t != ANTH_T_NONE)
        return anth_should_retry(0, NULL, t);
    if (anth_xfer_status_ok(x))
        return 0;
    /* An AWS error type (Bedrock) decides by its kind: a 403 is a wrong key or a missing model
     * grant, and the status alone cannot say which. */
    k = first_header(x, "x-amzn-errortype", aws, sizeof aws) ? anth_aws_kind(aws, strlen(aws))
                                                             : ANTH_KIND__COUNT;
    if (k != ANTH_KIND__COUNT)
        return anth_kind_retryable(k);
    return anth_should_retry(x->status, first_header(x, "x-should-retry", hint, sizeof hint),
                             ANTH_T_NONE);
}

/* The delay the server asked for that the engine honours, -1 when none. */
static double server_delay(const anth_xfer *x)
{
    char ms[64], sec[128];
    return anth_retry_after(first_header(x, "retry-after-ms", ms, sizeof ms),
                            first_header(x, "retry-after", sec, sizeof sec), time(NULL),
                            x->retry_cap_s);
}

static void finish(anth_xfer *x, anth_transport t, int code, const char *msg)
{
    char err[256];
    leave_multi(x);
    /* A download is renamed into place only when the whole 2xx reply arrived. */
    if (x->has_sink && t == ANTH_T_NONE && anth_xfer_status_ok(x) &&
        anth_sink_commit(&x->sink, err, sizeof err) != 0) {
        t = ANTH_T_OTHER;
        msg = err;
    }
    if (x->has_sink)
        anth_sink_discard(&x->sink);
    if (x->state != ANTH_X_DONE)
        x->engine->inflight--;
    x->state = ANTH_X_DONE;
    x->ended_at = anth_now_ms();
    x->outcome.transport = t;
    x->outcome.curl_code = code;
    x->outcome.retryable = decide_retry(x, t);
    /* A 2xx reply is not retried, so no delay it names is honoured (nor looked up). */
    x->outcome.retry_after =
        t == ANTH_T_NONE && !anth_xfer_status_ok(x) ? server_delay(x) : -1.0;
    snprintf(x->outcome.message, sizeof x->outcome.message, "%s", msg ? msg : "");
}

/* Schedules the next attempt after the delay the server asked for, or after backoff. `why`
 * names what ended the attempt; it is kept with the delay for the caller to read after poll
 * (anth_xfer_last_retry: a log line says what the engine decided, never recomputes it). */
static double schedule_retry(anth_xfer *x, const char *why)
{
    double delay = server_delay(x);
    if (delay < 0) {
        delay = anth_retry_delay(NULL, NULL, 0, x->attempts - 1, x->retry_cap_s, NULL);
        delay = anth_jitter(delay, anth_engine_rand01(x->engine));
    }
    x->retries++;
    x->retry_delay = delay;
    snprintf(x->retry_reason, sizeof x->retry_reason, "%s", why);
    leave_multi(x);
    reset_attempt(x);
    x->state = ANTH_X_WAITING;
    x->wake_at = anth_now_ms() + delay * 1000.0;
    return delay;
}

static void describe(anth_xfer *x, anth_transport t, CURLcode code, char *msg, size_t len)
{
    switch (t) {
    case ANTH_T_TIMEOUT_CONNECT: {
        /* libcurl gives up connecting at whichever limit comes first (its default connect
         * timeout is 300 s), so name that one: a 1 ms total timeout is not "after 5000 ms". */
        long ms = x->connect_timeout_ms > 0 ? x->connect_timeout_ms : 300000L;
        if (x->timeout_ms > 0 && x->timeout_ms < ms)
            ms = x->timeout_ms;
        snprintf(msg, len, "connect timeout: no connection after %ld ms", ms);
        break;
    }
    case ANTH_T_TIMEOUT_TOTAL:
        snprintf(msg, len, "request timeout: no complete reply after %ld ms", x->timeout_ms);
        break;
    case ANTH_T_TOO_LARGE:
        if (x->cut == ANTH_CUT_HEADERS)
            snprintf(msg, len, "reply headers larger than %d bytes (the client's limit)",
                     ANTH_MAX_HEADER_BLOCK);
        else if (x->cut == ANTH_CUT_HEADER_LINE)
            snprintf(msg, len, "a reply header line larger than %ld bytes (libcurl's "
                     "CURL_MAX_HTTP_HEADER)", (long)CURL_MAX_HTTP_HEADER);
        else
            snprintf(msg, len, "reply larger than max_response_bytes (%lu bytes)",
                     (unsigned long)x->max_bytes);
        break;
    default:
        if (x->cut == ANTH_CUT_NOMEM)
            snprintf(msg, len, "out of memory while receiving the reply");
        else if (x->cut == ANTH_CUT_DISK)
            snprintf(msg, len, "cannot write %s: %s", x->sink.path,
                     strerror(x->sink.err ? x->sink.err : EIO));
        else if (x->cut == ANTH_CUT_BAD_FRAME)
            snprintf(msg, len, "%s", anth_es_strerror(x->es_error));
        else if (x->errbuf[0])
            snprintf(msg, len, "%s", x->errbuf);   /* libcurl's specific text beats the generic one */
        else
            snprintf(msg, len, "%s", curl_easy_strerror(code));
    }
}

/* What ended an attempt, for the retry note: the transport's name, else the HTTP status. */
static void attempt_reason(const anth_xfer *x, anth_transport t, char *out, size_t len)
{
    if (t != ANTH_T_NONE)
        snprintf(out, len, "%s", anth_transport_name(t));
    else
        snprintf(out, len, "HTTP %ld", x->status);
}

static anth_transport transport_of(anth_xfer *x, CURLcode code)
{
    /* "Ready" means ready to send: TCP and, for https, the TLS handshake (which libcurl's
     * connect timeout also covers). CONNECT_TIME alone would call a handshake that timed
     * out a request timeout. */
    curl_off_t ready = 0;
    if (code == CURLE_OPERATION_TIMEDOUT)
        curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &ready);
    /* Before the final status line is complete, libcurl's "out of memory" is its refusal of
     * a header line longer than CURL_MAX_HTTP_HEADER (a line we never saw). */
    if (code == CURLE_OUT_OF_MEMORY && x->cut == ANTH_CUT_NONE && !x->headers_done)
        x->cut = ANTH_CUT_HEADER_LINE;
    return anth_transport_from_curl((int)code, x->cut == ANTH_CUT_TOO_LARGE ||
                                    x->cut == ANTH_CUT_HEADERS || x->cut == ANTH_CUT_HEADER_LINE,
                                    ready > 0);
}

void anth_xfer_attempt_done(anth_xfer *x, CURLcode code)
{
    char msg[sizeof x->outcome.message];
    anth_transport t;
    if (x->state != ANTH_X_RUNNING)
        return;
    t = transport_of(x, code);
    leave_multi(x);
    if (t == ANTH_T_NONE && anth_xfer_status_ok(x))
        anth_xfer_end_framing(x);
    /* Once events were decoded, the caller may have seen content: only it knows, and asks
     * again through anth_xfer_retry_unseen. */
    if (x->attempts <= x->max_retries && decide_retry(x, t) &&
        (t == ANTH_T_NONE || x->events_this_attempt == 0)) {
        attempt_reason(x, t, msg, sizeof msg);
        schedule_retry(x, msg);
        return;
    }
    describe(x, t, code, msg, sizeof msg);
    finish(x, t, (int)code, t == ANTH_T_NONE ? "" : msg);
}

void anth_xfer_check_idle(anth_xfer *x, double now)
{
    char msg[128];
    /* Idle time is the server's silence: never while we paused the transfer ourselves. */
    if (!(x->state == ANTH_X_RUNNING && x->stream != ANTH_BODY_BUFFER && !x->paused &&
          x->idle_timeout_ms > 0 && now - x->last_event_at >= (double)x->idle_timeout_ms))
        return;
    if (x->stream == ANTH_BODY_SSE)
        snprintf(msg, sizeof msg, "stream idle timeout: no event other than ping for %ld ms",
                 x->idle_timeout_ms);
    else
        snprintf(msg, sizeof msg, "idle timeout: no data for %ld ms", x->idle_timeout_ms);
    leave_multi(x);
    if (x->attempts <= x->max_retries && x->events_this_attempt == 0) {
        schedule_retry(x, "idle timeout");
        return;
    }
    finish(x, ANTH_T_TIMEOUT_IDLE, 0, msg);
}

int anth_xfer_start_due(anth_xfer *x, double now)
{
    if (x->state == ANTH_X_WAITING && x->wake_at <= now && !waits_for_slot(x, now)) {
        char err[128];
        if (start_attempt(x, err, sizeof err) != 0) {
            finish(x, ANTH_T_OTHER, 0, err);
            return 0;
        }
        return 1;
    }
    return 0;
}

double anth_xfer_deadline(const anth_xfer *x)
{
    /* One waiting for a slot has no timer: a transfer that ends frees it, in a poll. */
    if (waits_for_slot(x, anth_now_ms()))
        return -1.0;
    if (x->state == ANTH_X_WAITING)
        return x->wake_at;
    if (x->state == ANTH_X_RUNNING && x->stream != ANTH_BODY_BUFFER && !x->paused &&
        x->idle_timeout_ms > 0)
        return x->last_event_at + (double)x->idle_timeout_ms;
    return -1.0;
}

anth_xfer *anth_xfer_next(const anth_xfer *x)
{
    return x->next;
}

anth_xfer *anth_xfer_prev(const anth_xfer *x)
{
    return x->prev;
}

/* ---- transfers --------------------------------------------------------------------------- */

static int configure(anth_xfer *x, const anth_xfer_opts *o)
{
    anth_easy_hooks h;
    h.ud = x;
    h.errbuf = x->errbuf;
    h.on_header = anth_xfer_on_header;
    h.on_write = anth_xfer_on_write;
    h.headers = x->headers;
    h.mime = x->mime;
    return anth_easy_configure(x->easy, o, &h);
}

static void release_buffers(anth_xfer *x)
{
    curl_slist_free_all(x->headers);
    anth_headers_free(&x->hdr);
    anth_buf_free(&x->body);
    anth_sse_free(&x->sse);
    anth_lines_free(&x->lines);
    anth_es_free(&x->es);
    anth_evq_free(&x->events);
    curl_mime_free(x->mime);
    if (x->has_sink)
        anth_sink_free(&x->sink);
}

anth_xfer *anth_xfer_start(anth_engine *e, anth_xfer_opts *o, anth_xfer **owner_slot,
                           char *err, size_t errlen)
{
    anth_xfer *x = calloc(1, sizeof *x);
    if (x == NULL) {
        curl_slist_free_all(o->headers);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->engine = e;
    x->headers = o->headers;
    o->headers = NULL;
    x->owner_slot = owner_slot;
    x->stream = o->stream;
    x->max_retries = o->max_retries < 0 ? 0 : o->max_retries;
    x->timeout_ms = o->timeout_ms;
    x->connect_timeout_ms = o->connect_timeout_ms;
    x->idle_timeout_ms = o->idle_timeout_ms;
    x->retry_cap_s = o->retry_cap_s;
    x->max_bytes = o->max_response_bytes;
    x->max_ok_bytes = o->max_ok_bytes;
    x->outcome.retry_after = -1.0;
    anth_headers_init(&x->hdr);
    anth_sse_init(&x->sse);
    anth_sse_set_max(&x->sse, x->max_bytes ? x->max_bytes : ANTH_DEFAULT_EVENT_MAX);
    anth_lines_init(&x->lines, x->max_bytes);
    anth_es_init(&x->es);
    x->es.max_message_size = x->max_bytes ? x->max_bytes : ANTH_DEFAULT_EVENT_MAX;
    x->easy = anth_engine_take_easy(e);
    if (x->easy && o->download_path) {
        x->has_sink = 1;
        if (anth_sink_open(&x->sink, o->download_path, err, errlen) != 0) {
            o->file_error = 1;
            goto fail;
        }
    }
    if (x->easy && o->nparts > 0 &&
        (x->mime = anth_mime_build(x->easy, o->parts, o->nparts, err, errlen)) == NULL) {
        o->file_error = 1;
        goto fail;
    }
    if (x->easy == NULL || !configure(x, o)) {
        snprintf(err, errlen, "could not set up the transfer (bad URL or libcurl option)");
fail:
        if (x->easy)
            anth_engine_give_easy(e, x->easy);
        release_buffers(x);
        free(x);
        return NULL;
    }
    x->next = e->xfers;
    if (e->xfers)
        e->xfers->prev = x;
    e->xfers = x;
    e->inflight++;
    /* Due now: the next poll puts it on libcurl (or anth_engine_send_now, for a caller that
     * blocks on it next), so a poll under a time budget can spread the connections it opens
     * over several frames, and one beyond the ANTH_MAX_ACTIVE slots simply waits for one. */
    x->state = ANTH_X_WAITING;
    x->started_at = x->wake_at = anth_now_ms();
    return x;
}

void anth_xfer_free(anth_xfer *x)
{
    anth_engine *e;
    if (x == NULL)
        return;
    e = x->engine;
    leave_multi(x);
    if (x->state != ANTH_X_DONE)
        e->inflight--;
    if (x->prev)
        x->prev->next = x->next;
    else
        e->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    if (x->owner_slot)
        *x->owner_slot = NULL;
    anth_engine_give_easy(e, x->easy);
    release_buffers(x);
    free(x);
}

void anth_xfer_cancel(anth_xfer *x)
{
    if (x->state != ANTH_X_DONE)
        finish(x, ANTH_T_ABORTED, 0, "canceled by the caller");
}

static double retry_because(anth_xfer *x, const char *why)
{
    char reason[sizeof x->retry_reason];
    if (x->attempts > x->max_retries)
        return -1.0;
    if (x->state == ANTH_X_DONE) {
        x->engine->inflight++;
        if (!why) {
            attempt_reason(x, x->outcome.transport, reason, sizeof reason);
            why = reason;
        }
    }
    return schedule_retry(x, why ? why : "asked by the caller");
}

double anth_xfer_retry(anth_xfer *x) { return retry_because(x, NULL); }

double anth_xfer_retry_unseen(anth_xfer *x)
{
    if (x->state != ANTH_X_DONE || !x->outcome.retryable)
        return -1.0;
    return retry_because(x, NULL);
}

double anth_xfer_retry_stream_error(anth_xfer *x, const char *error_type)
{
    /* Bedrock's exception frames name AWS types ("throttlingException"): their kind decides. */
    anth_kind k = error_type ? anth_aws_kind(error_type, strlen(error_type)) : ANTH_KIND__COUNT;
    char why[sizeof x->retry_reason];
    if (k != ANTH_KIND__COUNT ? !anth_kind_retryable(k) : !anth_stream_error_retryable(error_type))
        return -1.0;
    snprintf(why, sizeof why, "stream error %s", error_type ? error_type : "(no type)");
    return retry_because(x, why);
}

enum anth_xfer_state anth_xfer_state(const anth_xfer *x) { return x->state; }
int anth_xfer_attempts(const anth_xfer *x) { return x->attempts; }

double anth_xfer_elapsed_ms(const anth_xfer *x)
{
    return (x->state == ANTH_X_DONE ? x->ended_at : anth_now_ms()) - x->started_at;
}

int anth_xfer_last_retry(const anth_xfer *x, double *delay, const char **reason)
{
    *delay = x->retry_delay;
    *reason = x->retry_reason;
    return x->retries;
}
long anth_xfer_status(const anth_xfer *x) { return x->headers_done ? x->status : 0; }
int anth_xfer_headers_done(const anth_xfer *x) { return x->headers_done; }
int anth_xfer_stream_truncated(const anth_xfer *x) { return x->truncated; }
const anth_outcome *anth_xfer_outcome(const anth_xfer *x) { return &x->outcome; }

void anth_xfer_progress(const anth_xfer *x, curl_off_t v[4])
{
    v[0] = v[1] = v[2] = v[3] = 0;
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &v[0]);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &v[1]);
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &v[2]);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &v[3]);
}

const char *anth_xfer_headers(const anth_xfer *x, size_t *len)
{
    *len = x->hdr.buf.len;
    return x->hdr.buf.p ? x->hdr.buf.p : "";
}

int anth_xfer_header(const anth_xfer *x, const char *name, char *out, size_t outlen)
{
    size_t n;
    const char *v = anth_headers_first(x->hdr.buf.p, x->hdr.buf.len, name, strlen(name), &n);
    if (v == NULL || outlen == 0)
        return 0;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

const char *anth_xfer_body(const anth_xfer *x, size_t *len)
{
    *len = x->body.len;
    return x->body.p ? x->body.p : "";
}

size_t anth_xfer_take_events(anth_xfer *x, size_t max)
{
    size_t n = anth_evq_take(&x->events, max);
    if (n > 0 && x->paused && x->in_multi && x->events.bytes < ANTH_QUEUE_HIGH / 2) {
        /* Called from Lua, never from a libcurl callback, so resuming here is allowed. The
         * wait was the caller's, not the server's: it does not count as idle time. Events the
         * resumed transfer decodes now are appended to the queue, not to the batch taken. */
        x->paused = 0;
        x->last_event_at = anth_now_ms();
        curl_easy_pause(x->easy, CURLPAUSE_CONT);
    }
    return n;
}

int anth_xfer_next_event(anth_xfer *x, anth_event *ev)
{
    return anth_evq_next(&x->events, ev);
}

int anth_xfer_has_events(const anth_xfer *x)
{
    return anth_evq_pending(&x->events);
}
