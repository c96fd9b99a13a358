/*
 * sigv4.h: AWS Signature Version 4 for one request (the "Authorization" header value), on
 * libcrypto's SHA-256 and HMAC (crypto.h). Plain C99: no Lua, no curl.
 *
 * Why not libcurl's CURLOPT_AWS_SIGV4: for every service but S3, AWS builds the canonical
 * URI by URI-encoding the path as it is sent, which is already percent-encoded, so it gets
 * encoded twice; Bedrock model ids contain ':' ("anthropic.claude-sonnet-4-5-...-v1:0"),
 * sent as %3A and signed as %253A. libcurl up to at least 7.88 (Debian 12) signs the path
 * encoded once, and AWS answers InvalidSignatureException. So the signature is computed here,
 * and libcurl only sends the headers.
 */
#ifndef ANTH_SIGV4_H
#define ANTH_SIGV4_H

#include <stddef.h>

#define ANTH_SIGV4_MAX_HEADERS 32

typedef struct anth_sigv4 {
    const char *method;           /* "POST" */
    const char *path;             /* as sent ("/model/x%3A0/invoke"); encoded once more here */
    const char *query;            /* the canonical query string (sorted, encoded), or NULL */
    const char *const *headers;   /* 2 * nheaders strings: name, value, ...; names unique in
                                     any case, values trimmed and their inner runs of spaces
                                     collapsed here, as AWS does */
    size_t nheaders;
    const void *payload;          /* the body (may be NULL when payload_len is 0) */
    size_t payload_len;
    const char *amz_date;         /* "20150830T123600Z", also sent as x-amz-date */
    const char *region, *service, *access_key_id, *secret_access_key;
} anth_sigv4;

#define ANTH_SIGV4_EINVAL (-1)    /* too many headers, a bad date, a missing field */
#define ANTH_SIGV4_ENOMEM (-2)
#define ANTH_SIGV4_ESPACE (-3)    /* out is too small */
#define ANTH_SIGV4_ECRYPTO (-4)   /* libcrypto failed */

/* Writes the Authorization header value into out (NUL-terminated) and the hex signature
 * into sig_hex (may be NULL). Returns 0 or an ANTH_SIGV4_* code. */
int anth_sigv4_sign(const anth_sigv4 *r, char *out, size_t outlen, char sig_hex[65]);

#endif
