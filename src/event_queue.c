/*
 * event_queue.c: the decoded-event queue of one transfer (see event_queue.h).
 *
 * A record is its header (the two lengths), the name, a NUL, the data and a NUL. Records are
 * packed with no alignment, so headers are read and written with memcpy. Both buffers are
 * anth_bufs (buf.h), which own their growth.
 */
#include "event_queue.h"

#include <stdint.h>
#include <string.h>

typedef struct record_header {
    size_t name_len, data_len;
} record_header;

#define RECORD_SIZE(h) (sizeof(record_header) + (h).name_len + (h).data_len + 2)

/* Empties b, keeping its capacity (and its NUL after the last byte). */
static void empty(anth_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *anth_evq_reserve(anth_event_queue *q, const char *name, size_t name_len, size_t data_cap)
{
    anth_buf *log = &q->log;
    record_header h;
    size_t need;
    char *at;
    if (name_len > SIZE_MAX / 4 || data_cap > SIZE_MAX / 4)
        return NULL;
    h.name_len = name_len;
    h.data_len = data_cap;
    need = RECORD_SIZE(h);
    if (log->len + need + 1 > log->cap && q->head > 0) {
        /* Taken records leave room at the front: move the rest there before growing. */
        memmove(log->p, log->p + q->head, log->len - q->head);
        log->len -= q->head;
        log->p[log->len] = '\0';
        q->head = 0;
    }
    if (anth_buf_reserve(log, need) != 0)
        return NULL;
    /* Written past log->len: nothing is queued until anth_evq_commit says how long it is. */
    at = log->p + log->len + sizeof h;
    memcpy(at, name, name_len);
    at[name_len] = '\0';
    q->reserved_name_len = name_len;
    q->reserved_cap = data_cap;
    return at + name_len + 1;
}

void anth_evq_commit(anth_event_queue *q, size_t data_len)
{
    anth_buf *log = &q->log;
    record_header h;
    char *at = log->p + log->len;
    h.name_len = q->reserved_name_len;
    h.data_len = data_len <= q->reserved_cap ? data_len : q->reserved_cap;
    memcpy(at, &h, sizeof h);
    at[sizeof h + h.name_len + 1 + h.data_len] = '\0';
    log->len += RECORD_SIZE(h);
    log->p[log->len] = '\0';
    q->count++;
    q->bytes += h.name_len + h.data_len;
    q->reserved_cap = 0;
}

int anth_evq_push(anth_event_queue *q, const char *name, size_t name_len, const char *data,
                  size_t data_len)
{
    char *at = anth_evq_reserve(q, name, name_len, data_len);
    if (at == NULL)
        return -1;
    if (data_len > 0)
        memcpy(at, data, data_len);
    anth_evq_commit(q, data_len);
    return 0;
}

size_t anth_evq_take(anth_event_queue *q, size_t max)
{
    size_t at, n, payload, span;
    if (q->out_left > 0)
        return q->out_left;
    q->out_pos = 0;
    if (q->count == 0)
        return 0;
    if (max == 0 || max >= q->count) {
        /* All of them: the log becomes the batch, and the drained batch buffer the log. */
        anth_buf drained = q->out;
        q->out = q->log;
        q->out_pos = q->head;
        q->out_left = q->count;
        q->log = drained;
        empty(&q->log);
        q->head = q->count = q->bytes = 0;
        return q->out_left;
    }
    for (at = q->head, n = 0, payload = 0; n < max; n++) {
        record_header h;
        memcpy(&h, q->log.p + at, sizeof h);
        at += RECORD_SIZE(h);
        payload += h.name_len + h.data_len;
    }
    span = at - q->head;
    empty(&q->out);
    if (anth_buf_append(&q->out, q->log.p + q->head, span) != 0)
        return 0;
    q->out_left = n;
    q->head = at;
    q->count -= n;
    q->bytes -= payload;
    if (q->head == q->log.len) {
        q->head = 0;
        empty(&q->log);
    }
    return n;
}

int anth_evq_next(anth_event_queue *q, anth_event *ev)
{
    record_header h;
    const char *at;
    if (q->out_left == 0)
        return 0;
    at = q->out.p + q->out_pos;
    memcpy(&h, at, sizeof h);
    ev->name = at + sizeof h;
    ev->name_len = h.name_len;
    ev->data = ev->name + h.name_len + 1;
    ev->data_len = h.data_len;
    q->out_pos += RECORD_SIZE(h);
    q->out_left--;
    return 1;
}

int anth_evq_pending(const anth_event_queue *q)
{
    return q->count > 0 || q->out_left > 0;
}

void anth_evq_reset(anth_event_queue *q)
{
    empty(&q->log);
    empty(&q->out);
    q->head = q->count = q->bytes = 0;
    q->out_pos = q->out_left = 0;
}

void anth_evq_free(anth_event_queue *q)
{
    anth_buf_free(&q->log);
    anth_buf_free(&q->out);
    memset(q, 0, sizeof *q);
}
