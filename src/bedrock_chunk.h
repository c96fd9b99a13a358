/*
 * bedrock_chunk.h: finds the base64 text in the payload of a Bedrock `chunk` message when
 * it comes in the exact shape AWS sends: {"bytes":"<base64>"} or
 * {"bytes":"<base64>","p":"<padding>"} (the padding masks the payload's length). Any other
 * text, valid JSON or not, is not matched, and the caller decodes it with cjson instead:
 * this is a byte comparison for the common frame, not a JSON parser. Plain C99.
 */
#ifndef ANTH_BEDROCK_CHUNK_H
#define ANTH_BEDROCK_CHUNK_H

#include <stddef.h>

/* 1 when s[0..n) is one of the two shapes, with *off and *len the base64 text's position
 * (only base64's alphabet and '=', which JSON reads as itself); 0 otherwise. The padding
 * must be printable ASCII other than '"' and '\', so the match is always a JSON object whose
 * `bytes` is that text. Whether the text is valid base64 is anth_base64_decode's to say. */
int anth_bedrock_chunk_b64(const char *s, size_t n, size_t *off, size_t *len);

#endif
