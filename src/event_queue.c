/*
 * event_queue.c: the decoded-event queue of one transfer (see event_queue.h).
 */
#include "event_queue.h"

#include <stdlib.h>
#include <string.h>

int anth_evq_push(anth_event_queue *q, const char *name, size_t name_len, const char *data,
                  size_t data_len)
{
    anth_event *ev = malloc(sizeof *ev + name_len + data_len + 2);
    if (ev == NULL)
        return -1;
    ev->next = NULL;
    ev->name = (char *)(ev + 1);
    ev->name_len = name_len;
    memcpy(ev->name, name, name_len);
    ev->name[name_len] = '\0';
    ev->data = ev->name + name_len + 1;
    ev->data_len = data_len;
    memcpy(ev->data, data, data_len);
    ev->data[data_len] = '\0';
    if (q->tail)
        q->tail->next = ev;
    else
        q->head = ev;
    q->tail = ev;
    q->bytes += name_len + data_len;
    return 0;
}

anth_event *anth_evq_take(anth_event_queue *q, size_t max)
{
    anth_event *head = q->head, *last = NULL, *ev = head;
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
    q->head = ev;
    if (ev == NULL)
        q->tail = NULL;
    q->bytes -= bytes;
    return head;
}

void anth_evq_clear(anth_event_queue *q)
{
    anth_event *ev = q->head;
    while (ev) {
        anth_event *next = ev->next;
        free(ev);
        ev = next;
    }
    q->head = q->tail = NULL;
    q->bytes = 0;
}
