/*
 * eventstream.h: incremental decoder of the AWS event-stream binary framing
 * (application/vnd.amazon.eventstream), in which Amazon Bedrock streams
 * InvokeModelWithResponseStream replies. Bytes go in with any chunking, down to one byte per
 * call; each complete, CRC-checked message comes out through a callback. Plain C99 on zlib's
 * crc32: no Lua, no curl.
 *
 * One message on the wire (all integers big-endian):
 *   total length (u32) | headers length (u32) | prelude CRC32 (u32, of the 8 bytes before)
 *   headers (headers length bytes) | payload | message CRC32 (u32, of every byte before it)
 * and each header: name length (u8) | name | value type (u8) | value, where the value is
 * nothing (0 true, 1 false), 1, 2, 4 or 8 bytes (2 byte, 3 short, 4 int, 5 long,
 * 8 timestamp), a u16 length and that many bytes (6 byte array, 7 string), or 16 bytes (9 uuid).
 *
 * Invariants:
 * - The decoded messages depend only on the bytes, never on how they were split into calls.
 * - Memory is bounded: a message whose total length exceeds max_message_size, or whose
 *   headers exceed ANTH_ES_MAX_HEADERS, stops the decoder with ANTH_ES_ETOOBIG as soon as its
 *   prelude is read (nothing past the 12-byte prelude is buffered for it).
 * - Nothing reaches the callback unchecked: both CRCs match and the headers parse exactly to
 *   their declared length.
 * - After any nonzero return from anth_es_feed (an error or the callback's stop code) the
 *   decoder is stopped: later feeds return the same code until anth_es_finish or
 *   anth_es_reset.
 */
#ifndef ANTH_EVENTSTREAM_H
#define ANTH_EVENTSTREAM_H

#include <stddef.h>

/* Return codes. As in sse.h: the decoder's own codes are negative, a callback stops the
 * decoder with any nonzero value and anth_es_feed hands that value back unchanged. */
#define ANTH_ES_OK 0
#define ANTH_ES_ETOOBIG (-1)     /* total length > max_message_size, or headers too long */
#define ANTH_ES_ENOMEM (-2)      /* an allocation failed */
#define ANTH_ES_TRUNCATED (-3)   /* anth_es_finish: the stream ended inside a message */
#define ANTH_ES_EPRELUDE (-4)    /* prelude CRC mismatch, or lengths that cannot be */
#define ANTH_ES_ECRC (-5)        /* message CRC mismatch */
#define ANTH_ES_EHEADERS (-6)    /* a header that does not parse within the headers block */

/* AWS caps a message at 16 MiB and its headers at 128 KiB. */
#define ANTH_ES_DEFAULT_MAX ((size_t)16 * 1024 * 1024)
#define ANTH_ES_MAX_HEADERS ((size_t)128 * 1024)
/* prelude (12) + message CRC (4): the smallest possible message. */
#define ANTH_ES_OVERHEAD 16

/* Header value types. */
enum anth_es_type {
    ANTH_ES_TRUE = 0, ANTH_ES_FALSE, ANTH_ES_BYTE, ANTH_ES_SHORT, ANTH_ES_INT, ANTH_ES_LONG,
    ANTH_ES_BYTES, ANTH_ES_STRING, ANTH_ES_TIMESTAMP, ANTH_ES_UUID
};

/* One header. value points at the value bytes (for BYTES/STRING past the u16 length; for
 * the integer types the big-endian bytes); nothing is NUL-terminated. */
typedef struct anth_es_header {
    const char *name;
    size_t name_len;
    int type;                 /* enum anth_es_type */
    const char *value;
    size_t value_len;
} anth_es_header;

/* One decoded message. Every pointer is valid only during the callback. */
typedef struct anth_es_message {
    const char *headers;      /* the raw, already validated headers block */
    size_t headers_len;
    const char *payload;
    size_t payload_len;
} anth_es_message;

typedef int (*anth_es_cb)(void *ud, const anth_es_message *m);

typedef struct anth_es {
    /* public, settable between calls */
    size_t max_message_size;  /* 0 means ANTH_ES_DEFAULT_MAX; never below ANTH_ES_OVERHEAD */
    /* private */
    char *buf;                /* a message whose last byte has not arrived yet */
    size_t len, cap;
    size_t need;              /* total length of the buffered message, 0 while unknown */
    int status;               /* sticky nonzero code once stopped */
} anth_es;

/* Sets up an empty decoder (no allocation, cannot fail). */
void anth_es_init(anth_es *d);
/* Decodes len bytes, calling cb (may be NULL) for every message completed by them.
 * Returns 0, a negative ANTH_ES_* code or the callback's nonzero code. */
int anth_es_feed(anth_es *d, const char *buf, size_t len, anth_es_cb cb, void *ud);
/* End of stream: 0 when it ended on a message boundary, ANTH_ES_TRUNCATED when bytes of an
 * unfinished message are pending, or the sticky code. Afterwards the decoder is reset. */
int anth_es_finish(anth_es *d);
/* Drops all stream state; keeps settings and the buffer's memory. */
void anth_es_reset(anth_es *d);
/* Frees the buffer; the decoder is then as after anth_es_init with its settings kept. */
void anth_es_free(anth_es *d);
/* A fixed English description of a code above ("" for 0, NULL for other codes). */
const char *anth_es_strerror(int code);

/* Walks a validated headers block: returns 1 and fills *h with the header at *pos (advancing
 * *pos), 0 at the end. */
int anth_es_next_header(const anth_es_message *m, size_t *pos, anth_es_header *h);
/* The value of the first STRING header called name (e.g. ":event-type"), with its length in
 * *len; NULL when there is none. */
const char *anth_es_string(const anth_es_message *m, const char *name, size_t *len);

/* How a message is handed on (the transport queues it as one event, name + data):
 *   :message-type "event"     -> name = its :event-type ("chunk"), data = the payload;
 *   :message-type "exception" -> name = "exception:" + :exception-type, data = the payload;
 *   :message-type "error"     -> name = "error:" + :error-code, data = :error-message.
 * Writes the NUL-terminated name into name[namelen] (cut to fit) and points *data at the
 * data. Returns 0, or 1 for a message to skip (no or an unknown :message-type, an event
 * without :event-type), as AWS clients ignore message types they do not know. */
int anth_es_describe(const anth_es_message *m, char *name, size_t namelen, const char **data,
                     size_t *data_len);

#endif
