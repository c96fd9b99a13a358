/*
 * event_queue.h: the queue of decoded events between a transfer's write callback, which
 * appends (SSE events, JSONL lines, event-stream messages), and the binding, which takes them
 * after libcurl has returned. Plain C: no Lua, no curl.
 *
 * Invariants: `bytes` is the payload (name + data) of every event in head..tail, which flow
 * control compares with its high-water mark; an event is one allocation, freed with free()
 * by whoever took it.
 */
#ifndef ANTH_EVENT_QUEUE_H
#define ANTH_EVENT_QUEUE_H

#include <stddef.h>

/* A decoded event waiting for the binding to hand it to Lua. */
typedef struct anth_event {
    struct anth_event *next;
    size_t name_len, data_len;
    char *name;   /* NUL-terminated, points into the same allocation */
    char *data;   /* NUL-terminated */
} anth_event;

typedef struct anth_event_queue {
    anth_event *head, *tail;
    size_t bytes;
} anth_event_queue;

/* Appends one event, name and data copied. 0, or -1 when out of memory (queue unchanged). */
int anth_evq_push(anth_event_queue *q, const char *name, size_t name_len, const char *data,
                  size_t data_len);
/* Detaches up to max events (0: all) from the front, in order; NULL when empty. */
anth_event *anth_evq_take(anth_event_queue *q, size_t max);
/* Frees every queued event; the queue is empty and reusable afterwards. */
void anth_evq_clear(anth_event_queue *q);

#endif
