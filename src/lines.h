/*
 * lines.h: the line framer for JSONL bodies (Message Batches results), beside sse.h: bytes
 * in, one callback per complete line out. Plain C99: no Lua, no curl. Unit-tested in
 * spec/c/test_lines.c and fuzzed by fuzz/fuzz_lines.c.
 *
 * Rules: a line ends at LF; one CR before the LF is dropped; empty lines carry nothing and
 * are skipped. A line may arrive split over any number of feeds: its start waits in the
 * framer. max_line (0 = no limit) bounds one line, whether it arrives whole or in pieces;
 * past it the framer stops with ANTH_LINES_ETOOBIG. anth_lines_finish hands over a last line
 * that has no LF. After a nonzero return the framer is stopped: later feeds return the same
 * code until anth_lines_reset.
 */
#ifndef ANTH_LINES_H
#define ANTH_LINES_H

#include <stddef.h>
#include "buf.h"

#define ANTH_LINES_ETOOBIG (-1)   /* a line exceeded max_line */
#define ANTH_LINES_ENOMEM (-2)    /* an allocation failed */

/* Return 0 to go on, nonzero to stop: anth_lines_feed returns that value at once. */
typedef int (*anth_lines_cb)(void *ud, const char *line, size_t len);

typedef struct anth_lines {
    anth_buf partial;             /* the start of a line whose LF has not arrived */
    size_t max_line;
    int stopped;                  /* the code that stopped the framer, 0 while running */
} anth_lines;

void anth_lines_init(anth_lines *f, size_t max_line);
/* Returns 0, ANTH_LINES_ETOOBIG, ANTH_LINES_ENOMEM or the callback's nonzero code. */
int anth_lines_feed(anth_lines *f, const char *p, size_t len, anth_lines_cb cb, void *ud);
/* The body ended: hands over a last line without its LF. Same return codes. */
int anth_lines_finish(anth_lines *f, anth_lines_cb cb, void *ud);
/* Forgets the partial line and a stop; keeps max_line and the memory. */
void anth_lines_reset(anth_lines *f);
void anth_lines_free(anth_lines *f);

#endif
