/*
 * sse.c: the text/event-stream decoder declared in sse.h.
 *
 * Shape of the hot path: a chunk is scanned with memchr for the next CR and LF (each
 * position is cached, so every byte is looked at by each scan at most once even for
 * CR-only streams); a line that lies wholly inside the chunk is interpreted in place, and
 * only the unfinished tail of a chunk is copied into d->line. Field values are copied once,
 * into the data/event/id buffers, which keep their capacity across events.
 *
 * Size rule (chunking-independent, so the differential fuzzer can hold us to it): before a
 * line is interpreted, and whenever an unfinished line grows,
 *     line length (without its terminator) + data.len + event.len <= max_event_size
 * must hold, else the decoder stops with ANTH_SSE_ETOOBIG. A stored prefix can only be
 * shorter than its finished line, so splitting never changes whether the limit is hit.
 */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

/* Buffers that grew past this for one huge event are released after it, so one large
 * event does not pin its memory for the rest of a long stream. */
#define ANTH_SSE_KEEP_CAP ((size_t)64 * 1024)

static const unsigned char anth_sse_bom[3] = {0xEF, 0xBB, 0xBF};

/* Makes room for need bytes in total (callers add 1 for the NUL terminator). */
static int anth_sse_reserve(anth_sse_buf *b, size_t need)
{
    size_t cap;
    char *p;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > (size_t)-1 / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL)
        return ANTH_SSE_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void anth_sse_release(anth_sse_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int anth_sse_append(anth_sse_buf *b, const char *s, size_t n)
{
    if (anth_sse_reserve(b, b->len + n + 1) != 0)
        return ANTH_SSE_ENOMEM;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* Replaces the contents with s[0..n) and keeps them NUL-terminated. */
static int anth_sse_assign(anth_sse_buf *b, const char *s, size_t n)
{
    if (anth_sse_reserve(b, n + 1) != 0)
        return ANTH_SSE_ENOMEM;
    memcpy(b->p, s, n);
    b->p[n] = '\0';
    b->len = n;
    return 0;
}

static size_t anth_sse_limit(const anth_sse *d)
{
    return d->max_event_size ? d->max_event_size : ANTH_SSE_DEFAULT_MAX;
}

/* The size rule from the top of this file, written so that it cannot overflow. */
static int anth_sse_fits(const anth_sse *d, size_t line_len)
{
    size_t max = anth_sse_limit(d), pending = d->data.len + d->event.len;
    return pending <= max && line_len <= max - pending;
}

static int anth_sse_stop(anth_sse *d, int code)
{
    d->status = code;
    return code;
}

void anth_sse_init(anth_sse *d)
{
    memset(d, 0, sizeof *d);
    d->max_event_size = ANTH_SSE_DEFAULT_MAX;
    d->retry_ms = -1;
}

void anth_sse_set_max(anth_sse *d, size_t max_event_size)
{
    d->max_event_size = max_event_size;
}

void anth_sse_reset(anth_sse *d)
{
    d->line.len = d->data.len = d->event.len = d->id.len = 0;
    d->retry_ms = -1;
    d->status = 0;
    d->bom = 0;
    d->skip_lf = 0;
    d->in_block = 0;
}

void anth_sse_free(anth_sse *d)
{
    anth_sse_release(&d->line);
    anth_sse_release(&d->data);
    anth_sse_release(&d->event);
    anth_sse_release(&d->id);
    anth_sse_reset(d);
}

const char *anth_sse_strerror(int code)
{
    switch (code) {
    case ANTH_SSE_OK:
        return "";
    case ANTH_SSE_ETOOBIG:
        return "SSE event larger than the configured maximum";
    case ANTH_SSE_ENOMEM:
        return "out of memory while decoding SSE";
    case ANTH_SSE_TRUNCATED:
        return "SSE stream ended inside an event";
    default:
        return NULL;
    }
}

/* A blank line: hand the block to the callback (if it has data) and start a new block. */
static int anth_sse_dispatch(anth_sse *d, anth_sse_cb cb, void *ud)
{
    anth_sse_event ev;
    int rc = 0;
    d->in_block = 0;
    if (d->data.len == 0) {
        /* No data lines: nothing is dispatched, but the event type does not carry over. */
        d->event.len = 0;
        return 0;
    }
    /* Every data line appended a '\n'; the last one becomes the terminator. */
    d->data.p[d->data.len - 1] = '\0';
    ev.data = d->data.p;
    ev.data_len = d->data.len - 1;
    if (d->event.len) {
        ev.event = d->event.p;
        ev.event_len = d->event.len;
    } else {
        ev.event = "message";
        ev.event_len = 7;
    }
    if (d->id.len) {
        ev.id = d->id.p;
        ev.id_len = d->id.len;
    } else {
        ev.id = "";
        ev.id_len = 0;
    }
    if (cb)
        rc = cb(ud, &ev);
    d->data.len = 0;
    d->event.len = 0;
    if (d->data.cap > ANTH_SSE_KEEP_CAP)
        anth_sse_release(&d->data);
    if (d->event.cap > ANTH_SSE_KEEP_CAP)
        anth_sse_release(&d->event);
    return rc ? anth_sse_stop(d, rc) : 0;
}

/* retry: only ASCII digits count; a value that does not fit a long is ignored. */
static void anth_sse_retry(anth_sse *d, const char *v, size_t n)
{
    long ms = 0;
    size_t i;
    if (n == 0)
        return;
    for (i = 0; i < n; i++) {
        int digit = v[i] - '0';
        if (digit < 0 || digit > 9)
            return;
        if (ms > (0x7fffffffL - digit) / 10)
            return;
        ms = ms * 10 + digit;
    }
    d->retry_ms = ms;
}

/* Interprets one complete line (terminator removed) that has already passed the size rule. */
static int anth_sse_line(anth_sse *d, const char *s, size_t n, anth_sse_cb cb, void *ud)
{
    const char *colon, *v;
    size_t flen, vlen;
    if (n == 0)
        return anth_sse_dispatch(d, cb, ud);
    d->in_block = 1;
    if (s[0] == ':')
        return 0; /* comment */
    colon = memchr(s, ':', n);
    if (colon) {
        flen = (size_t)(colon - s);
        v = colon + 1;
        vlen = n - flen - 1;
        if (vlen && *v == ' ') {
            v++;
            vlen--;
        }
    } else {
        flen = n;
        v = s + n;
        vlen = 0;
    }
    switch (flen) {
    case 4:
        if (memcmp(s, "data", 4) == 0) {
            if (anth_sse_reserve(&d->data, d->data.len + vlen + 1) != 0)
                return anth_sse_stop(d, ANTH_SSE_ENOMEM);
            memcpy(d->data.p + d->data.len, v, vlen);
            d->data.len += vlen;
            d->data.p[d->data.len++] = '\n';
        }
        break;
    case 5:
        if (memcmp(s, "event", 5) == 0) {
            if (anth_sse_assign(&d->event, v, vlen) != 0)
                return anth_sse_stop(d, ANTH_SSE_ENOMEM);
        } else if (memcmp(s, "retry", 5) == 0) {
            anth_sse_retry(d, v, vlen);
        }
        break;
    case 2:
        /* The spec ignores an id containing NUL (it could not round-trip as a header). */
        if (s[0] == 'i' && s[1] == 'd' && memchr(v, '\0', vlen) == NULL) {
            if (anth_sse_assign(&d->id, v, vlen) != 0)
                return anth_sse_stop(d, ANTH_SSE_ENOMEM);
        }
        break;
    default:
        break; /* unknown field: ignored */
    }
    return 0;
}

/* Stores the unfinished tail of a chunk. */
static int anth_sse_hold(anth_sse *d, const char *s, size_t n)
{
    if (!anth_sse_fits(d, d->line.len + n))
        return anth_sse_stop(d, ANTH_SSE_ETOOBIG);
    if (anth_sse_append(&d->line, s, n) != 0)
        return anth_sse_stop(d, ANTH_SSE_ENOMEM);
    return 0;
}

/* The first bytes of a stream may be a UTF-8 BOM, possibly split across chunks. Bytes that
 * turn out not to be one are ordinary content and go to the line buffer. */
static int anth_sse_skip_bom(anth_sse *d, const char **pp, const char *end)
{
    const char *p = *pp;
    while (d->bom < 3 && p < end) {
        if ((unsigned char)*p == anth_sse_bom[d->bom]) {
            d->bom++;
            p++;
        } else {
            size_t matched = d->bom;
            d->bom = 3;
            if (matched && anth_sse_hold(d, (const char *)anth_sse_bom, matched) != 0)
                return d->status;
        }
    }
    *pp = p;
    return 0;
}

int anth_sse_feed(anth_sse *d, const char *buf, size_t len, anth_sse_cb cb, void *ud)
{
    const char *p = buf, *end = buf + len, *nl, *cr;
    int rc;
    if (d->status)
        return d->status;
    if (len == 0)
        return 0;
    if (d->bom < 3) {
        if (anth_sse_skip_bom(d, &p, end) != 0)
            return d->status;
        if (p == end)
            return 0;
    }
    if (d->skip_lf) {
        d->skip_lf = 0;
        if (*p == '\n')
            p++;
    }
    /* Next LF / CR at or after p, or end when there is none in this chunk. */
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        nl = end;
    cr = memchr(p, '\r', (size_t)(end - p));
    if (cr == NULL)
        cr = end;
    while (p < end) {
        const char *eol;
        size_t n;
        if (nl < p) {
            nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL)
                nl = end;
        }
        if (cr < p) {
            cr = memchr(p, '\r', (size_t)(end - p));
            if (cr == NULL)
                cr = end;
        }
        eol = nl < cr ? nl : cr;
        if (eol == end)
            return anth_sse_hold(d, p, (size_t)(end - p));
        n = (size_t)(eol - p);
        if (d->line.len) {
            /* The line began in an earlier chunk: finish it in the line buffer. */
            if (!anth_sse_fits(d, d->line.len + n))
                return anth_sse_stop(d, ANTH_SSE_ETOOBIG);
            if (anth_sse_append(&d->line, p, n) != 0)
                return anth_sse_stop(d, ANTH_SSE_ENOMEM);
            n = d->line.len;
            d->line.len = 0;
            rc = anth_sse_line(d, d->line.p, n, cb, ud);
        } else {
            if (!anth_sse_fits(d, n))
                return anth_sse_stop(d, ANTH_SSE_ETOOBIG);
            rc = anth_sse_line(d, p, n, cb, ud);
        }
        if (rc)
            return rc;
        p = eol + 1;
        if (*eol == '\r') {
            if (p == end)
                d->skip_lf = 1; /* the LF of this CRLF may start the next chunk */
            else if (*p == '\n')
                p++;
        }
    }
    return 0;
}

int anth_sse_finish(anth_sse *d, anth_sse_cb cb, void *ud)
{
    int rc = d->status;
    if (rc == 0 && (d->in_block || d->line.len || (d->bom > 0 && d->bom < 3))) {
        rc = ANTH_SSE_TRUNCATED;
        if (d->dispatch_at_eof) {
            int stop = 0;
            if (d->bom > 0 && d->bom < 3) {
                /* Only part of a BOM arrived: those bytes are the start of a line. */
                size_t matched = d->bom;
                d->bom = 3;
                stop = anth_sse_hold(d, (const char *)anth_sse_bom, matched);
            }
            if (stop == 0 && d->line.len) {
                size_t n = d->line.len;
                d->line.len = 0;
                stop = anth_sse_fits(d, n) ? anth_sse_line(d, d->line.p, n, cb, ud)
                                           : ANTH_SSE_ETOOBIG;
            }
            if (stop == 0)
                stop = anth_sse_dispatch(d, cb, ud);
            if (stop)
                rc = stop;
        }
    }
    anth_sse_reset(d);
    return rc;
}
