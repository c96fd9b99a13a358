/*
 * eventstream.c: the AWS event-stream decoder declared in eventstream.h.
 *
 * Shape: a message that lies wholly inside one chunk is checked and handed out in place;
 * only a message cut by a chunk boundary is copied, into d->buf, first its 12-byte prelude
 * and then (once the prelude has passed its CRC and size checks) exactly the rest of it, the
 * buffer growing as the bytes arrive. So the buffer never holds more than one message, never
 * more than max_message_size, and never much more than the bytes actually received.
 *
 * Chunking independence (the differential fuzzer holds us to it): the prelude is judged
 * when its 12th byte is available, the message when its last byte is, in both paths, with
 * the same checks in the same order: prelude CRC, lengths, size caps; then message CRC, then
 * headers. CRCs are zlib's crc32 (the kept library for it), never a table of our own.
 */
#include "eventstream.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A buffer that grew past this for one huge message is released after it. */
#define ANTH_ES_KEEP_CAP ((size_t)64 * 1024)
#define ANTH_ES_PRELUDE 12

static unsigned long be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return ((unsigned long)u[0] << 24) | ((unsigned long)u[1] << 16) | ((unsigned long)u[2] << 8) |
           (unsigned long)u[3];
}

static unsigned long crc(const char *p, size_t n)
{
    /* zlib takes uInt lengths; messages are capped far below 4 GiB, but stay exact anyway. */
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
        c = crc32(c, (const Bytef *)p, step);
        p += step;
        n -= step;
    }
    return (unsigned long)c;
}

static size_t limit(const anth_es *d)
{
    size_t max = d->max_message_size ? d->max_message_size : ANTH_ES_DEFAULT_MAX;
    return max < ANTH_ES_OVERHEAD ? ANTH_ES_OVERHEAD : max;
}

/* Judges a prelude; on success stores the message's total length. */
static int check_prelude(const anth_es *d, const char *p, size_t *total)
{
    unsigned long t = be32(p), h = be32(p + 4);
    if (crc(p, 8) != be32(p + 8))
        return ANTH_ES_EPRELUDE;
    if (t < ANTH_ES_OVERHEAD || h > t - ANTH_ES_OVERHEAD)
        return ANTH_ES_EPRELUDE;
    if (t > limit(d) || h > ANTH_ES_MAX_HEADERS)
        return ANTH_ES_ETOOBIG;
    *total = (size_t)t;
    return 0;
}

/* Value length of a header of type t whose value starts at p (avail bytes there), or
 * (size_t)-1 when the type is unknown or the value does not fit; *skip is the length
 * prefix to step over. */
static size_t value_len(int t, const char *p, size_t avail, size_t *skip)
{
    static const unsigned char fixed[] = {0, 0, 1, 2, 4, 8, 0, 0, 8, 16};
    size_t n;
    *skip = 0;
    if (t < 0 || t > ANTH_ES_UUID)
        return (size_t)-1;
    if (t == ANTH_ES_BYTES || t == ANTH_ES_STRING) {
        if (avail < 2)
            return (size_t)-1;
        *skip = 2;
        n = ((size_t)(unsigned char)p[0] << 8) | (unsigned char)p[1];
    } else {
        n = fixed[t];
    }
    return n > avail - *skip ? (size_t)-1 : n;
}

/* Reads the header at *pos of hdrs[0..len); returns 0 at the end, 1 for a header, -1 when it
 * does not parse. */
static int read_header(const char *hdrs, size_t len, size_t *pos, anth_es_header *h)
{
    size_t at = *pos, skip, n;
    if (at >= len)
        return 0;
    h->name_len = (unsigned char)hdrs[at++];
    if (h->name_len == 0 || h->name_len > len - at)
        return -1;
    h->name = hdrs + at;
    at += h->name_len;
    if (at >= len)
        return -1;
    h->type = (unsigned char)hdrs[at++];
    n = value_len(h->type, hdrs + at, len - at, &skip);
    if (n == (size_t)-1)
        return -1;
    h->value = hdrs + at + skip;
    h->value_len = n;
    *pos = at + skip + n;
    return 1;
}

/* Checks a whole message (total bytes at p) and hands it to cb. */
static int deliver(const char *p, size_t total, anth_es_cb cb, void *ud)
{
    anth_es_message m;
    anth_es_header h;
    size_t pos = 0;
    int r;
    if (crc(p, total - 4) != be32(p + total - 4))
        return ANTH_ES_ECRC;
    m.headers = p + ANTH_ES_PRELUDE;
    m.headers_len = (size_t)be32(p + 4);
    m.payload = m.headers + m.headers_len;
    m.payload_len = total - ANTH_ES_OVERHEAD - m.headers_len;
    while ((r = read_header(m.headers, m.headers_len, &pos, &h)) == 1)
        ;
    if (r < 0)
        return ANTH_ES_EHEADERS;
    return cb ? cb(ud, &m) : 0;
}

/* Room for need bytes. Grows geometrically up to limit (the message's declared length), so
 * a prelude that announces 16 MiB costs memory only as its bytes actually arrive. */
static int reserve(anth_es *d, size_t need, size_t limit)
{
    char *p;
    size_t cap;
    if (need <= d->cap)
        return 0;
    cap = d->cap ? d->cap : 256;
    while (cap < need) {
        if (cap > limit / 2) {
            cap = limit < need ? need : limit;
            break;
        }
        cap *= 2;
    }
    p = realloc(d->buf, cap);
    if (p == NULL)
        return ANTH_ES_ENOMEM;
    d->buf = p;
    d->cap = cap;
    return 0;
}

static void after_message(anth_es *d)
{
    d->len = d->need = 0;
    if (d->cap > ANTH_ES_KEEP_CAP) {
        free(d->buf);
        d->buf = NULL;
        d->cap = 0;
    }
}

void anth_es_init(anth_es *d)
{
    memset(d, 0, sizeof *d);
}

int anth_es_feed(anth_es *d, const char *buf, size_t len, anth_es_cb cb, void *ud)
{
    int rc = 0;
    if (d->status)
        return d->status;
    while (len > 0 && rc == 0) {
        size_t take;
        if (d->len == 0 && len >= ANTH_ES_PRELUDE) {
            size_t total;
            rc = check_prelude(d, buf, &total);
            if (rc == 0 && len >= total) {
                rc = deliver(buf, total, cb, ud);
                buf += total;
                len -= total;
                continue;
            }
            if (rc != 0)
                break;
        }
        if (d->need == 0) {
            /* Collect the prelude: at most 12 bytes are ever held before it is judged. */
            if ((rc = reserve(d, ANTH_ES_PRELUDE, ANTH_ES_PRELUDE)) != 0)
                break;
            take = ANTH_ES_PRELUDE - d->len < len ? ANTH_ES_PRELUDE - d->len : len;
            memcpy(d->buf + d->len, buf, take);
            d->len += take;
            buf += take;
            len -= take;
            if (d->len < ANTH_ES_PRELUDE)
                break;
            if ((rc = check_prelude(d, d->buf, &d->need)) != 0)
                break;
        }
        take = d->need - d->len < len ? d->need - d->len : len;
        if ((rc = reserve(d, d->len + take, d->need)) != 0)
            break;
        memcpy(d->buf + d->len, buf, take);
        d->len += take;
        buf += take;
        len -= take;
        if (d->len == d->need) {
            rc = deliver(d->buf, d->need, cb, ud);
            after_message(d);
        }
    }
    d->status = rc;
    return rc;
}

int anth_es_finish(anth_es *d)
{
    int rc = d->status ? d->status : d->len ? ANTH_ES_TRUNCATED : 0;
    anth_es_reset(d);
    return rc;
}

void anth_es_reset(anth_es *d)
{
    d->len = d->need = 0;
    d->status = 0;
}

void anth_es_free(anth_es *d)
{
    free(d->buf);
    d->buf = NULL;
    d->len = d->cap = d->need = 0;
    d->status = 0;
}

const char *anth_es_strerror(int code)
{
    switch (code) {
    case ANTH_ES_OK: return "";
    case ANTH_ES_ETOOBIG: return "event-stream message larger than the limit";
    case ANTH_ES_ENOMEM: return "out of memory";
    case ANTH_ES_TRUNCATED: return "event stream ended inside a message";
    case ANTH_ES_EPRELUDE: return "event-stream prelude is corrupt (CRC or lengths)";
    case ANTH_ES_ECRC: return "event-stream message CRC mismatch";
    case ANTH_ES_EHEADERS: return "event-stream message headers are malformed";
    default: return NULL;
    }
}

int anth_es_next_header(const anth_es_message *m, size_t *pos, anth_es_header *h)
{
    return read_header(m->headers, m->headers_len, pos, h) == 1;
}

const char *anth_es_string(const anth_es_message *m, const char *name, size_t *len)
{
    anth_es_header h;
    size_t pos = 0, n = strlen(name);
    while (anth_es_next_header(m, &pos, &h)) {
        if (h.type == ANTH_ES_STRING && h.name_len == n && memcmp(h.name, name, n) == 0) {
            *len = h.value_len;
            return h.value;
        }
    }
    return NULL;
}

static void put_name(char *out, size_t outlen, const char *prefix, const char *s, size_t n)
{
    size_t pl = strlen(prefix);
    if (outlen == 0)
        return;
    if (pl >= outlen)
        pl = outlen - 1;
    memcpy(out, prefix, pl);
    if (n > outlen - 1 - pl)
        n = outlen - 1 - pl;
    memcpy(out + pl, s, n);
    out[pl + n] = '\0';
}

int anth_es_describe(const anth_es_message *m, char *name, size_t namelen, const char **data,
                     size_t *data_len)
{
    size_t tl = 0, vl = 0;
    const char *type = anth_es_string(m, ":message-type", &tl), *v;
    *data = m->payload;
    *data_len = m->payload_len;
    if (type && tl == 5 && memcmp(type, "event", 5) == 0) {
        if ((v = anth_es_string(m, ":event-type", &vl)) == NULL)
            return 1;
        put_name(name, namelen, "", v, vl);
        return 0;
    }
    if (type && tl == 9 && memcmp(type, "exception", 9) == 0) {
        v = anth_es_string(m, ":exception-type", &vl);
        put_name(name, namelen, "exception:", v ? v : "", v ? vl : 0);
        return 0;
    }
    if (type && tl == 5 && memcmp(type, "error", 5) == 0) {
        v = anth_es_string(m, ":error-code", &vl);
        put_name(name, namelen, "error:", v ? v : "", v ? vl : 0);
        *data = anth_es_string(m, ":error-message", data_len);
        if (*data == NULL) {
            *data = "";
            *data_len = 0;
        }
        return 0;
    }
    return 1;
}
