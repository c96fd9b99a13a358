/*
 * headers.h: the one parser of a response's header block. libcurl hands the header callback
 * one line at a time; each line is parsed here once, into a packed list that every reader
 * uses: the engine (x-should-retry, retry-after), the binding (one header, the Lua view).
 * Plain C99: no Lua, no curl. Unit-tested in spec/c/test_headers.c, fuzzed by
 * fuzz/fuzz_headers.c.
 *
 * Rules: names are lowercased ASCII, kept whole however long; values have their surrounding
 * spaces, tabs and the line's CR LF removed. The status line ("HTTP/..."), blank lines and
 * lines with no colon or an empty name are skipped. Repeats are kept, in order: a reader asks
 * for the first value (what the engine decides on) or for all of them joined with ", ".
 * Bytes are bytes: a NUL in a value is kept (entries carry lengths), nothing is NUL-terminated.
 */
#ifndef ANTH_HEADERS_H
#define ANTH_HEADERS_H

#include <stddef.h>
#include "buf.h"

/* Entries packed in buf as [name length][value length][name][value], lengths as size_t. */
typedef struct anth_headers {
    anth_buf buf;
    size_t count;
} anth_headers;

void anth_headers_init(anth_headers *h);
void anth_headers_free(anth_headers *h);
/* Forgets every entry (a new response starts), keeping the memory. */
void anth_headers_clear(anth_headers *h);
/* Parses one raw line ("Name: value\r\n"). Returns 0, or -1 when out of memory. */
int anth_headers_add_line(anth_headers *h, const char *line, size_t n);

/* One entry while iterating: start with pos = 0; returns 0 after the last. */
typedef struct anth_header {
    const char *name, *value;
    size_t name_len, value_len;
} anth_header;
int anth_headers_next(const char *packed, size_t len, size_t *pos, anth_header *out);

/* The first value of `name` (any case), or NULL when there is none. */
const char *anth_headers_first(const char *packed, size_t len, const char *name,
                               size_t name_len, size_t *value_len);

#endif
