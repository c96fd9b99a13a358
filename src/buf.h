/*
 * buf.h: a growable byte buffer, always NUL-terminated after its last byte (so a text body
 * can be handed to C string functions), for the transfer's body, the line framer's partial
 * line and the event queue's records. Header-only, plain C99.
 */
#ifndef ANTH_BUF_H
#define ANTH_BUF_H

#include <stdlib.h>
#include <string.h>

typedef struct anth_buf {
    char *p;
    size_t len, cap;
} anth_buf;

/* Makes room for n more bytes (and the NUL after them) without changing the contents.
 * Returns 0, or -1 when out of memory (the buffer is then unchanged). */
static inline int anth_buf_reserve(anth_buf *b, size_t n)
{
    if (n + 1 > (size_t)-1 - b->len)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *q;
        while (cap < b->len + n + 1) {
            if (cap > (size_t)-1 / 2) {
                cap = b->len + n + 1;
                break;
            }
            cap *= 2;
        }
        q = realloc(b->p, cap);
        if (q == NULL)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    return 0;
}

/* Appends n bytes. Returns 0, or -1 when out of memory (the buffer is then unchanged). */
static inline int anth_buf_append(anth_buf *b, const char *p, size_t n)
{
    if (anth_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static inline void anth_buf_free(anth_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
