/*
 * transport.c: the libcurl engine behind every request (see transport.h for the invariants).
 *
 * We drive the multi handle with the socket API (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION and
 * curl_multi_socket_action) rather than curl_multi_perform, because hosts with their own event
 * loop (Neovim's libuv, a game's frame loop) need to know which sockets to watch and when the
 * next timer is due. anth_engine_poll is then a small poll(2) loop over exactly those sockets.
 *
 * The callbacks below (header, write, SSE event, socket, timer) never call Lua: they update C
 * state and return. Attempt completion, retry decisions and idle-timeout checks all run from
 * anth_engine_poll after libcurl has returned.
 */
#define _POSIX_C_SOURCE 200809L
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ANTH_POOL_MAX 16          /* idle easy handles kept for reuse */
#define ANTH_DEFAULT_EVENT_MAX (16u * 1024u * 1024u)
/* Flow control: past this many bytes of decoded events not yet taken by the caller, the
 * transfer is paused, so memory is bounded by what the caller has not read, not by the
 * transfer. Taking the events resumes it. */
#define ANTH_QUEUE_HIGH (64u * 1024u)

typedef struct anth_buf {
    char *p;
    size_t len, cap;
} anth_buf;

typedef struct anth_sock {
    curl_socket_t fd;
    int what;                     /* CURL_POLL_IN / _OUT / _INOUT */
} anth_sock;

/* Why a transfer was stopped from inside a callback (curl then reports a write error).
 * HEADERS: the header block passed ANTH_MAX_HEADER_BLOCK; HEADER_LINE: libcurl refused one
 * header line longer than its CURL_MAX_HTTP_HEADER (it says "out of memory", which it is not). */
enum anth_cut { ANTH_CUT_NONE = 0, ANTH_CUT_TOO_LARGE, ANTH_CUT_NOMEM, ANTH_CUT_HEADERS,
                ANTH_CUT_HEADER_LINE };

/* The reply's header block may hold at most this many bytes: below libcurl's own 300 KB cap
 * (which it reports as a receive error), far above what any API reply sends. */
#define ANTH_MAX_HEADER_BLOCK (256 * 1024)
/* libcurl's limit for one header line (CURL_MAX_HTTP_HEADER, curl/curl.h). */
#define ANTH_MAX_HEADER_LINE ((long)CURL_MAX_HTTP_HEADER)

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
    double wake_at;               /* WAITING: when the next attempt starts (monotonic ms) */
    double last_event_at;         /* RUNNING stream: last non-ping event, or attempt start */
    int saw_event;                /* set by the SSE callback, folded into last_event_at */
    int paused;                   /* receiving paused until the caller takes the queue */
    size_t queued_bytes;          /* payload bytes in ev_head..ev_tail */
    long status;
    int headers_done;
    int truncated;
    enum anth_cut cut;
    size_t events_this_attempt;
    anth_buf hdr, body;
    anth_sse sse;
    anth_event *ev_head, *ev_tail;
    anth_outcome outcome;
};

struct anth_engine {
    CURLM *multi;
    anth_xfer *xfers;             /* every live transfer, any state */
    int inflight;                 /* transfers not DONE */
    anth_sock *socks;
    size_t nsocks, capsocks;
    struct pollfd *pfds;
    size_t cappfds;
    double timer_at;              /* libcurl's requested timeout (monotonic ms), or -1 */
    CURL *pool[ANTH_POOL_MAX];
    int npool;
    uint64_t rng;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int buf_append(anth_buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *q;
        while (cap < b->len + n + 1)
            cap *= 2;
        q = realloc(b->p, cap);
        if (q == NULL)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void buf_free(anth_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* xorshift64*: jitter needs no cryptographic quality, only independence between clients. */
static double engine_rand01(anth_engine *e)
{
    uint64_t x = e->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    e->rng = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- libcurl callbacks: C state only, never Lua ------------------------------------------ */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    anth_engine *e = userp;
    size_t i;
    (void)easy;
    (void)socketp;
    for (i = 0; i < e->nsocks; i++)
        if (e->socks[i].fd == fd)
            break;
    if (what == CURL_POLL_REMOVE) {
        if (i < e->nsocks)
            e->socks[i] = e->socks[--e->nsocks];
        return 0;
    }
    if (i == e->nsocks) {
        if (e->nsocks == e->capsocks) {
            size_t cap = e->capsocks ? e->capsocks * 2 : 8;
            anth_sock *s = realloc(e->socks, cap * sizeof *s);
            if (s == NULL)
                return -1;    /* libcurl fails the transfer; nothing to unwind */
            e->socks = s;
            e->capsocks = cap;
        }
        e->socks[e->nsocks++].fd = fd;
    }
    e->socks[i].what = what;
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    anth_engine *e = userp;
    (void)multi;
    e->timer_at = timeout_ms < 0 ? -1.0 : now_ms() + (double)timeout_ms;
    return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    anth_xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response starts (after a 1xx or a proxy's CONNECT reply): forget the last. */
        x->hdr.len = 0;
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
    if (x->max_bytes && x->hdr.len + len > x->max_bytes) {
        x->cut = ANTH_CUT_TOO_LARGE;
        return 0;
    }
    if (x->hdr.len + len > ANTH_MAX_HEADER_BLOCK) {
        x->cut = ANTH_CUT_HEADERS;
        return 0;
    }
    if (buf_append(&x->hdr, p, len) != 0) {
        x->cut = ANTH_CUT_NOMEM;
        return 0;
    }
    return len;
}

static int on_sse_event(void *ud, const anth_sse_event *ev)
{
    anth_xfer *x = ud;
    anth_event *q = malloc(sizeof *q + ev->event_len + ev->data_len + 2);
    if (q == NULL)
        return ANTH_SSE_ENOMEM;
    q->next = NULL;
    q->name = (char *)(q + 1);
    q->name_len = ev->event_len;
    memcpy(q->name, ev->event, ev->event_len);
    q->name[ev->event_len] = '\0';
    q->data = q->name + ev->event_len + 1;
    q->data_len = ev->data_len;
    memcpy(q->data, ev->data, ev->data_len);
    q->data[ev->data_len] = '\0';
    if (x->ev_tail)
        x->ev_tail->next = q;
    else
        x->ev_head = q;
    x->ev_tail = q;
    x->queued_bytes += ev->event_len + ev->data_len;
    x->events_this_attempt++;
    /* Pings keep a dead generation looking alive, so they do not reset the idle clock. */
    if (!(ev->event_len == 4 && memcmp(ev->event, "ping", 4) == 0))
        x->saw_event = 1;
    return 0;
}

static int queue_line(anth_xfer *x, const char *p, size_t n)
{
    anth_sse_event ev;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return 0;                 /* JSONL: blank lines carry nothing */
    memset(&ev, 0, sizeof ev);
    ev.event = "line";
    ev.event_len = 4;
    ev.data = p;
    ev.data_len = n;
    return on_sse_event(x, &ev);
}

/* JSONL: complete lines are queued at once; a partial line waits in body (bounded by max). */
static int feed_lines(anth_xfer *x, const char *p, size_t len)
{
    const char *end = p + len, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        int rc;
        /* The cap holds for a line that arrives whole in one write too, not only for the
         * partial line kept between writes. */
        if (x->max_bytes && x->body.len + (size_t)(nl - p) > x->max_bytes)
            return ANTH_SSE_ETOOBIG;
        if (x->body.len) {
            if (buf_append(&x->body, p, (size_t)(nl - p)) != 0)
                return ANTH_SSE_ENOMEM;
            rc = queue_line(x, x->body.p, x->body.len);
            x->body.len = 0;
        } else {
            rc = queue_line(x, p, (size_t)(nl - p));
        }
        if (rc != 0)
            return rc;
        p = nl + 1;
    }
    if (p < end) {
        if (x->max_bytes && x->body.len + (size_t)(end - p) > x->max_bytes)
            return ANTH_SSE_ETOOBIG;
        if (buf_append(&x->body, p, (size_t)(end - p)) != 0)
            return ANTH_SSE_ENOMEM;
    }
    return 0;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    anth_xfer *x = ud;
    size_t len = size * n;
    if (x->stream != ANTH_BODY_BUFFER && x->queued_bytes >= ANTH_QUEUE_HIGH) {
        x->paused = 1;            /* libcurl keeps this chunk and hands it back on resume */
        return CURL_WRITEFUNC_PAUSE;
    }
    if (x->stream != ANTH_BODY_BUFFER && x->status >= 200 && x->status < 300) {
        int rc = x->stream == ANTH_BODY_LINES ? feed_lines(x, p, len)
                                              : anth_sse_feed(&x->sse, p, len, on_sse_event, x);
        if (x->saw_event) {
            x->saw_event = 0;
            x->last_event_at = now_ms();
        }
        if (rc != 0) {
            x->cut = rc == ANTH_SSE_ENOMEM ? ANTH_CUT_NOMEM : ANTH_CUT_TOO_LARGE;
            return 0;
        }
        return len;
    }
    if (x->max_bytes && x->body.len + len > x->max_bytes) {
        x->cut = ANTH_CUT_TOO_LARGE;
        return 0;
    }
    if (buf_append(&x->body, p, len) != 0) {
        x->cut = ANTH_CUT_NOMEM;
        return 0;
    }
    return len;
}

/* ---- engine ------------------------------------------------------------------------------ */

anth_engine *anth_engine_new(char *err, size_t errlen)
{
    anth_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->multi = curl_multi_init();
    if (e->multi == NULL) {
        free(e);
        snprintf(err, errlen, "curl_multi_init failed");
        return NULL;
    }
    e->timer_at = -1.0;
    e->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)e << 16) ^ 0x9E3779B97F4A7C15ULL;
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    /* HTTP/2 multiplexing where the server offers it; HTTP/1.1 gets a connection pool. */
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return e;
}

int anth_engine_inflight(const anth_engine *e)
{
    return e->inflight;
}

void anth_engine_free(anth_engine *e)
{
    int i;
    if (e == NULL)
        return;
    while (e->xfers)
        anth_xfer_free(e->xfers);
    for (i = 0; i < e->npool; i++)
        curl_easy_cleanup(e->pool[i]);
    curl_multi_cleanup(e->multi);
    free(e->socks);
    free(e->pfds);
    free(e);
}

static void free_events(anth_event *ev)
{
    while (ev) {
        anth_event *next = ev->next;
        free(ev);
        ev = next;
    }
}

/* Forgets everything one attempt received, before the next attempt starts. */
static void reset_attempt(anth_xfer *x)
{
    x->hdr.len = 0;
    x->body.len = 0;
    x->status = 0;
    x->headers_done = 0;
    x->truncated = 0;
    x->cut = ANTH_CUT_NONE;
    x->events_this_attempt = 0;
    x->errbuf[0] = '\0';
    free_events(x->ev_head);
    x->ev_head = x->ev_tail = NULL;
    x->queued_bytes = 0;
    x->paused = 0;
    anth_sse_free(&x->sse);
    anth_sse_init(&x->sse);
    anth_sse_set_max(&x->sse, x->max_bytes ? x->max_bytes : ANTH_DEFAULT_EVENT_MAX);
}

static int start_attempt(anth_xfer *x, char *err, size_t errlen)
{
    CURLMcode mc;
    x->attempts++;
    x->state = ANTH_X_RUNNING;
    x->last_event_at = now_ms();
    mc = curl_multi_add_handle(x->engine->multi, x->easy);
    if (mc != CURLM_OK) {
        snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return -1;
    }
    x->in_multi = 1;
    return 0;
}

static void leave_multi(anth_xfer *x)
{
    if (x->in_multi) {
        curl_multi_remove_handle(x->engine->multi, x->easy);
        x->in_multi = 0;
    }
}

static void finish(anth_xfer *x, anth_transport t, int code, const char *msg)
{
    leave_multi(x);
    if (x->state != ANTH_X_DONE)
        x->engine->inflight--;
    x->state = ANTH_X_DONE;
    x->outcome.transport = t;
    x->outcome.curl_code = code;
    snprintf(x->outcome.message, sizeof x->outcome.message, "%s", msg ? msg : "");
}

/* Copies the value of response header `name` (case-insensitive) into out; 0 when absent. */
int anth_xfer_header(const anth_xfer *x, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p, *end;
    if (x->hdr.p == NULL)
        return 0;                 /* no reply yet (connection failed): NULL + 0 would be UB */
    p = x->hdr.p;
    end = p + x->hdr.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            size_t n;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
                le--;
            n = (size_t)(le - v);
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = eol ? eol + 1 : end;
    }
    return 0;
}

/* Schedules the next attempt after the delay the server asked for, or after backoff. */
static double schedule_retry(anth_xfer *x)
{
    char ms[64], sec[128];
    int from_header = 0;
    const char *h_ms = anth_xfer_header(x, "retry-after-ms", ms, sizeof ms) ? ms : NULL;
    const char *h_s = anth_xfer_header(x, "retry-after", sec, sizeof sec) ? sec : NULL;
    double delay = anth_retry_delay(h_ms, h_s, time(NULL), x->attempts - 1, x->retry_cap_s,
                                    &from_header);
    if (!from_header)
        delay = anth_jitter(delay, engine_rand01(x->engine));
    leave_multi(x);
    reset_attempt(x);
    x->state = ANTH_X_WAITING;
    x->wake_at = now_ms() + delay * 1000.0;
    return delay;
}

static anth_transport map_curl_code(anth_xfer *x, CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return ANTH_T_NONE;
    case CURLE_OPERATION_TIMEDOUT: {
        /* "Connected" means ready to send: TCP and, for https, the TLS handshake (which
         * libcurl's connect timeout also covers). CONNECT_TIME alone would call a handshake
         * that timed out a request timeout. */
        curl_off_t ready = 0;
        curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &ready);
        return ready > 0 ? ANTH_T_TIMEOUT_TOTAL : ANTH_T_TIMEOUT_CONNECT;
    }
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_OUT_OF_MEMORY:
        /* Before the final status line is complete, libcurl's "out of memory" is its refusal
         * of a header line longer than CURL_MAX_HTTP_HEADER (we never saw that line). */
        if (code == CURLE_OUT_OF_MEMORY && x->cut == ANTH_CUT_NONE && !x->headers_done)
            x->cut = ANTH_CUT_HEADER_LINE;
        if (x->cut == ANTH_CUT_TOO_LARGE || x->cut == ANTH_CUT_HEADERS ||
            x->cut == ANTH_CUT_HEADER_LINE)
            return ANTH_T_TOO_LARGE;
        return ANTH_T_OTHER;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PROXY:
        return ANTH_T_CONNECT;
    default:
        return ANTH_T_OTHER;
    }
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
                     "CURL_MAX_HTTP_HEADER)", ANTH_MAX_HEADER_LINE);
        else
            snprintf(msg, len, "reply larger than max_response_bytes (%lu bytes)",
                     (unsigned long)x->max_bytes);
        break;
    default:
        if (x->cut == ANTH_CUT_NOMEM)
            snprintf(msg, len, "out of memory while receiving the reply");
        else if (x->errbuf[0])
            snprintf(msg, len, "%s", x->errbuf);   /* libcurl's specific text beats the generic one */
        else
            snprintf(msg, len, "%s", curl_easy_strerror(code));
    }
}

static void attempt_done(anth_xfer *x, CURLcode code)
{
    char msg[sizeof x->outcome.message];
    anth_transport t = map_curl_code(x, code);
    leave_multi(x);
    if (t == ANTH_T_NONE && x->status >= 200 && x->status < 300) {
        if (x->stream == ANTH_BODY_SSE && anth_sse_finish(&x->sse, on_sse_event, x) == ANTH_SSE_TRUNCATED)
            x->truncated = 1;
        if (x->stream == ANTH_BODY_LINES && x->body.len) {
            queue_line(x, x->body.p, x->body.len);   /* a last line without its newline */
            x->body.len = 0;
        }
    }
    if (x->attempts <= x->max_retries) {
        int again = 0;
        if (t != ANTH_T_NONE) {
            /* Once events were decoded, the caller may have seen content: only Lua knows. */
            again = anth_should_retry(0, NULL, t) && x->events_this_attempt == 0;
        } else if (x->status < 200 || x->status >= 300) {
            char hint[16];
            const char *h = anth_xfer_header(x, "x-should-retry", hint, sizeof hint) ? hint : NULL;
            again = anth_should_retry(x->status, h, ANTH_T_NONE);
        }
        if (again) {
            schedule_retry(x);
            return;
        }
    }
    describe(x, t, code, msg, sizeof msg);
    finish(x, t, (int)code, t == ANTH_T_NONE ? "" : msg);
}

static void check_idle(anth_engine *e, double now)
{
    anth_xfer *x, *next;
    for (x = e->xfers; x; x = next) {
        next = x->next;
        /* Idle time is the server's silence: never while we paused the transfer ourselves. */
        if (x->state == ANTH_X_RUNNING && x->stream != ANTH_BODY_BUFFER && !x->paused &&
            x->idle_timeout_ms > 0 &&
            now - x->last_event_at >= (double)x->idle_timeout_ms) {
            char msg[128];
            if (x->stream == ANTH_BODY_SSE)
                snprintf(msg, sizeof msg, "stream idle timeout: no event other than ping for %ld ms",
                         x->idle_timeout_ms);
            else
                snprintf(msg, sizeof msg, "idle timeout: no data for %ld ms", x->idle_timeout_ms);
            leave_multi(x);
            if (x->attempts <= x->max_retries && x->events_this_attempt == 0) {
                schedule_retry(x);
                continue;
            }
            finish(x, ANTH_T_TIMEOUT_IDLE, 0, msg);
        }
    }
}

static void start_due(anth_engine *e, double now)
{
    anth_xfer *x;
    for (x = e->xfers; x; x = x->next) {
        if (x->state == ANTH_X_WAITING && x->wake_at <= now) {
            char err[128];
            if (start_attempt(x, err, sizeof err) != 0)
                finish(x, ANTH_T_OTHER, 0, err);
        }
    }
}

static int engine_has_events(const anth_engine *e)
{
    const anth_xfer *x;
    for (x = e->xfers; x; x = x->next)
        if (x->ev_head)
            return 1;
    return 0;
}

/* When the engine next has timed work (monotonic ms): libcurl's timer, a retry's wake-up, a
 * stream's idle deadline. -1 when none. */
static double next_deadline(const anth_engine *e)
{
    double best = e->timer_at >= 0 ? e->timer_at : -1.0;
    const anth_xfer *x;
    for (x = e->xfers; x; x = x->next) {
        double at = -1.0;
        if (x->state == ANTH_X_WAITING)
            at = x->wake_at;
        else if (x->state == ANTH_X_RUNNING && x->stream != ANTH_BODY_BUFFER && !x->paused &&
                 x->idle_timeout_ms > 0)
            at = x->last_event_at + (double)x->idle_timeout_ms;
        if (at >= 0 && (best < 0 || at < best))
            best = at;
    }
    return best;
}

static long ms_until(double at, double now)
{
    if (at < 0)
        return -1;
    if (at <= now)
        return 0;
    return (long)(at - now + 0.999);
}

long anth_engine_timeout(anth_engine *e)
{
    if (engine_has_events(e))
        return 0;                 /* the caller has events to take: poll again at once */
    return ms_until(next_deadline(e), now_ms());
}

void anth_engine_sockets(anth_engine *e, void (*fn)(int, int, int, void *), void *ud)
{
    size_t i;
    for (i = 0; i < e->nsocks; i++) {
        int w = e->socks[i].what;
        fn((int)e->socks[i].fd, (w & CURL_POLL_IN) != 0, (w & CURL_POLL_OUT) != 0, ud);
    }
}

static void read_done(anth_engine *e)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        anth_xfer *x = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x != NULL && x->state == ANTH_X_RUNNING)
            attempt_done(x, m->data.result);
    }
}

int anth_engine_poll(anth_engine *e, long timeout_ms, char *err, size_t errlen)
{
    double now = now_ms();
    long wait = timeout_ms < 0 ? 0 : timeout_ms, t;
    size_t i, n;
    int rc, running;

    start_due(e, now);
    /* Only timers shorten the wait. Whether decoded events waiting to be taken should is the
     * caller's decision: it knows which it can take now (a consumer whose callback is running
     * a nested blocking call cannot, and a poll that never sleeps for them would spin). */
    t = ms_until(next_deadline(e), now);
    if (e->inflight == 0)
        wait = 0;
    else if (t >= 0 && t < wait)
        wait = t;

    n = e->nsocks;
    if (n > e->cappfds) {
        struct pollfd *p = realloc(e->pfds, n * sizeof *p);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        e->pfds = p;
        e->cappfds = n;
    }
    for (i = 0; i < n; i++) {
        e->pfds[i].fd = e->socks[i].fd;
        e->pfds[i].events = (short)(((e->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                                    ((e->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
        e->pfds[i].revents = 0;
    }
    rc = poll(n ? e->pfds : NULL, (nfds_t)n, (int)wait);
    if (rc < 0 && errno != EINTR) {
        snprintf(err, errlen, "poll: %s", strerror(errno));
        return -1;
    }
    for (i = 0; rc > 0 && i < n; i++) {
        int flags = 0;
        short r = e->pfds[i].revents;
        if (r == 0)
            continue;
        if (r & (POLLIN | POLLHUP))
            flags |= CURL_CSELECT_IN;
        if (r & POLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (r & (POLLERR | POLLNVAL))
            flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(e->multi, e->pfds[i].fd, flags, &running);
    }
    now = now_ms();
    if (e->timer_at >= 0 && now >= e->timer_at) {
        e->timer_at = -1.0;
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    read_done(e);
    now = now_ms();
    check_idle(e, now);
    start_due(e, now);
    return e->inflight;
}

/* ---- transfers --------------------------------------------------------------------------- */

static CURL *take_easy(anth_engine *e)
{
    if (e->npool > 0)
        return e->pool[--e->npool];
    return curl_easy_init();
}

static void give_easy(anth_engine *e, CURL *easy)
{
    if (e->npool < ANTH_POOL_MAX) {
        curl_easy_reset(easy);
        e->pool[e->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

static int configure(anth_xfer *x, const anth_xfer_opts *o)
{
    CURL *c = x->easy;
    int ok = 1;
#define SET(opt, val) ok &= curl_easy_setopt(c, opt, val) == CURLE_OK
    SET(CURLOPT_URL, o->url);
    SET(CURLOPT_PRIVATE, (char *)x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);            /* hosts may be threaded; we never want SIGALRM */
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HTTPHEADER, x->headers);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);       /* long streams cross NATs that drop idle flows */
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 0L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 0L);
    if (strncmp(o->url, "https:", 6) == 0)
        SET(CURLOPT_PIPEWAIT, 1L);        /* prefer a stream on an HTTP/2 connection */
    if (o->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    if (o->proxy)
        SET(CURLOPT_PROXY, o->proxy);
    if (strcmp(o->method, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(o->method, "POST") == 0) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(o->has_body ? o->body_len : 0));
        SET(CURLOPT_POSTFIELDS, o->has_body ? o->body : "");
    } else {
        SET(CURLOPT_CUSTOMREQUEST, o->method);
        if (o->has_body) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
            SET(CURLOPT_POSTFIELDS, o->body);
        }
    }
#undef SET
    return ok;
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
    anth_sse_init(&x->sse);
    anth_sse_set_max(&x->sse, x->max_bytes ? x->max_bytes : ANTH_DEFAULT_EVENT_MAX);
    x->easy = take_easy(e);
    if (x->easy == NULL || !configure(x, o)) {
        snprintf(err, errlen, "could not set up the transfer (bad URL or libcurl option)");
        if (x->easy)
            give_easy(e, x->easy);
        curl_slist_free_all(x->headers);
        anth_sse_free(&x->sse);
        free(x);
        return NULL;
    }
    x->next = e->xfers;
    if (e->xfers)
        e->xfers->prev = x;
    e->xfers = x;
    e->inflight++;
    if (start_attempt(x, err, errlen) != 0) {
        anth_xfer_free(x);
        return NULL;
    }
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
    give_easy(e, x->easy);
    curl_slist_free_all(x->headers);
    buf_free(&x->hdr);
    buf_free(&x->body);
    anth_sse_free(&x->sse);
    free_events(x->ev_head);
    free(x);
}

void anth_xfer_cancel(anth_xfer *x)
{
    if (x->state != ANTH_X_DONE)
        finish(x, ANTH_T_ABORTED, 0, "canceled by the caller");
}

double anth_xfer_retry(anth_xfer *x)
{
    if (x->attempts > x->max_retries)
        return -1.0;
    if (x->state == ANTH_X_DONE)
        x->engine->inflight++;
    return schedule_retry(x);
}

enum anth_xfer_state anth_xfer_state(const anth_xfer *x) { return x->state; }
int anth_xfer_attempts(const anth_xfer *x) { return x->attempts; }
long anth_xfer_status(const anth_xfer *x) { return x->headers_done ? x->status : 0; }
int anth_xfer_headers_done(const anth_xfer *x) { return x->headers_done; }
int anth_xfer_stream_truncated(const anth_xfer *x) { return x->truncated; }
const anth_outcome *anth_xfer_outcome(const anth_xfer *x) { return &x->outcome; }

const char *anth_xfer_headers(const anth_xfer *x, size_t *len)
{
    *len = x->hdr.len;
    return x->hdr.p ? x->hdr.p : "";
}

const char *anth_xfer_body(const anth_xfer *x, size_t *len)
{
    *len = x->body.len;
    return x->body.p ? x->body.p : "";
}

anth_event *anth_xfer_take_events(anth_xfer *x, size_t max)
{
    anth_event *head = x->ev_head, *last = NULL, *ev = head;
    size_t n = 0, bytes = 0;
    if (head == NULL)
        return NULL;
    while (ev && (max == 0 || n < max)) {
        bytes += ev->name_len + ev->data_len;
        last = ev;
        ev = ev->next;
        n++;
    }
    last->next = NULL;
    x->ev_head = ev;
    if (ev == NULL)
        x->ev_tail = NULL;
    x->queued_bytes -= bytes;
    if (x->paused && x->in_multi && x->queued_bytes < ANTH_QUEUE_HIGH / 2) {
        /* Called from Lua, never from a libcurl callback, so resuming here is allowed. The
         * wait was the caller's, not the server's: it does not count as idle time. */
        x->paused = 0;
        x->last_event_at = now_ms();
        curl_easy_pause(x->easy, CURLPAUSE_CONT);
    }
    return head;
}

int anth_xfer_has_events(const anth_xfer *x)
{
    return x->ev_head != NULL;
}
