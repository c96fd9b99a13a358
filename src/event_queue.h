/*
 * event_queue.h: the queue of decoded events between a transfer's write callback, which
 * appends (SSE events, JSONL lines, event-stream messages), and the binding, which takes them
 * after libcurl has returned. Plain C: no Lua, no curl.
 *
 * Events are records in one growable buffer (the log), not an allocation each: a stream of a
 * thousand small events costs no malloc per event, and taking a batch reads memory in order.
 * A batch is taken into a second buffer (out), so events the write callback appends while the
 * binding is still handing a batch to Lua never move the bytes it is reading. Taking every
 * queued event swaps the two buffers instead of copying. Both keep their capacity until
 * anth_evq_free, so a steady stream reuses the same two buffers throughout.
 *
 * Invariants: `count` and `bytes` are the events and payload (name + data) in the log, which
 * flow control compares with its high-water mark; the out_left records from out.p[out_pos]
 * are the unread part of the batch last taken.
 */
#ifndef ANTH_EVENT_QUEUE_H
#define ANTH_EVENT_QUEUE_H

#include <stddef.h>

#include "buf.h"

/* One event as anth_evq_next shows it: both strings NUL-terminated, valid until the next
 * anth_evq_take, anth_evq_reset or anth_evq_free of the same queue. */
typedef struct anth_event {
    const char *name, *data;
    size_t name_len, data_len;
} anth_event;

typedef struct anth_event_queue {
    anth_buf log;
    size_t head;                  /* queued records: log.p[head, log.len) */
    size_t count, bytes;
    anth_buf out;
    size_t out_pos, out_left;     /* the batch: out_left records from out.p[out_pos] on */
    size_t reserved_name_len, reserved_cap;   /* the record anth_evq_reserve began */
} anth_event_queue;

/* Appends one event, name and data copied. 0, or -1 when out of memory (queue unchanged). */
int anth_evq_push(anth_event_queue *q, const char *name, size_t name_len, const char *data,
                  size_t data_len);
/* Begins an event whose data the caller writes in place (a decoder's output, with no copy):
 * returns room for up to data_cap bytes after the name (copied), valid until the next call on
 * q, or NULL when out of memory. Nothing is queued until anth_evq_commit(q, data_len) with
 * data_len <= data_cap; a reservation never committed is dropped by the next reserve or push. */
char *anth_evq_reserve(anth_event_queue *q, const char *name, size_t name_len, size_t data_cap);
void anth_evq_commit(anth_event_queue *q, size_t data_len);
/* Makes up to max queued events (0: all), oldest first, the batch that anth_evq_next reads.
 * A batch not read to its end (its reader was interrupted) is handed out again first, before
 * any newer event. Returns how many events the batch holds; 0 when there are none, or when out
 * of memory (the events stay queued). */
size_t anth_evq_take(anth_event_queue *q, size_t max);
/* The next event of the batch: 1 with *ev filled, 0 when the batch is read. */
int anth_evq_next(anth_event_queue *q, anth_event *ev);
/* Whether any event is queued or left unread in the batch. */
int anth_evq_pending(const anth_event_queue *q);
/* Drops every event, keeping the buffers for reuse (a retry starts an empty queue). */
void anth_evq_reset(anth_event_queue *q);
/* Drops every event and frees the buffers; the queue is empty and reusable afterwards. */
void anth_evq_free(anth_event_queue *q);

#endif
