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

/* The room anth_bedrock_chunk_decode may write for a payload of n bytes. */
#define ANTH_BEDROCK_CHUNK_ROOM(n) (3 * ((n) / 4))

/* Decodes the event a payload s[0..n) in one of the two shapes carries into out (room for
 * ANTH_BEDROCK_CHUNK_ROOM(n) bytes): its length, or (size_t)-1 when s is not in either shape
 * or its text is not base64 (then the caller reads s with cjson). What a Bedrock stream's
 * transfer queues for each `chunk` (transfer_io.c) and core.bedrock_chunk_bytes returns. */
size_t anth_bedrock_chunk_decode(const char *s, size_t n, unsigned char *out);

#endif
