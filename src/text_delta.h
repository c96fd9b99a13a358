/*
 * text_delta.h: finds the text of a stream's text delta when its event data is exactly the
 * frame the API sends:
 *
 *   {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"..."}   }
 *
 * (N a JSON integer of at most 9 digits, the text one JSON string, then up to 64 spaces of
 * padding before the last brace). Any other data, valid JSON or not, is not matched, and the
 * caller decodes it with cjson: this is a byte comparison for the bulk of every stream, not a
 * JSON parser. Plain C99.
 */
#ifndef ANTH_TEXT_DELTA_H
#define ANTH_TEXT_DELTA_H

#include <stddef.h>

#define ANTH_TEXT_DELTA_MAX_PADDING 64

typedef struct anth_text_delta {
    unsigned long index;  /* the block index N */
    size_t off, len;      /* the JSON string, quotes included: s[off .. off + len) */
    int plain;            /* 1 when the string holds no '\' or '"': then its text is the
                           * bytes between the quotes, as cjson would decode it */
} anth_text_delta;

/* 1 when s[0..n) is the frame above, with *d filled in; 0 otherwise, and for a string that
 * holds a NUL (which cjson takes for the end of its input). The string's end is the '"'
 * before the closing '}', the padding and the last '}'; whether a string that is not plain
 * is valid JSON is cjson's to say. */
int anth_text_delta_match(const char *s, size_t n, anth_text_delta *d);

#endif
