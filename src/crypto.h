/*
 * crypto.h: the few primitives the cloud platforms need, on OpenSSL's libcrypto (the kept
 * library for crypto: nothing here hashes, signs or encodes by hand). SHA-256 and
 * HMAC-SHA256 for AWS Signature Version 4 (sigv4.c), RS256 (RSASSA-PKCS1-v1_5 with SHA-256)
 * for the Google service-account JWT, and base64 for event-stream payloads and JWTs.
 * Plain C99: no Lua, no curl.
 */
#ifndef ANTH_CRYPTO_H
#define ANTH_CRYPTO_H

#include <stddef.h>

#define ANTH_SHA256_LEN 32

/* out = SHA-256(p[0..n)). Returns 0, or -1 when libcrypto fails. */
int anth_sha256(const void *p, size_t n, unsigned char out[ANTH_SHA256_LEN]);
/* out = HMAC-SHA256(key, msg). Returns 0 or -1. */
int anth_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                     unsigned char out[ANTH_SHA256_LEN]);
/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void anth_hex(const unsigned char *p, size_t n, char *out);

/* Standard base64 (with padding) of n bytes into out, which must hold
 * anth_base64_encoded_len(n) bytes (NUL included). Returns the length written. */
size_t anth_base64_encoded_len(size_t n);
size_t anth_base64_encode(const void *p, size_t n, char *out);
/* Decodes standard base64 (padding required, no whitespace) into out, which must hold
 * 3 * (n / 4) bytes. Returns the decoded length, or (size_t)-1 when s is not base64. */
size_t anth_base64_decode(const char *s, size_t n, unsigned char *out);
/* The length of s's longest prefix made of base64's alphabet and '=' (where a base64 text
 * inside other text ends). */
size_t anth_base64_span(const char *s, size_t n);
/* anth_base64_decode for a text already known to be within anth_base64_span (its bytes are
 * not looked up again). */
size_t anth_base64_decode_span(const char *s, size_t n, unsigned char *out);

/* RS256: signs msg with a PEM private key (PKCS#8 "BEGIN PRIVATE KEY" or PKCS#1 RSA).
 * *sig is malloc'ed (free() it) and *siglen set. Returns 0, -1 when the key does not load
 * or is not RSA, -2 when signing fails, -3 out of memory. */
int anth_rs256_sign(const char *pem, size_t pemlen, const void *msg, size_t n,
                    unsigned char **sig, size_t *siglen);

/* Verifies an RS256 signature with a PEM public key ("BEGIN PUBLIC KEY"). Returns 1 when it
 * matches, 0 when it does not, -1 when the key does not load or is not RSA. */
int anth_rs256_verify(const char *pem, size_t pemlen, const void *msg, size_t n,
                      const unsigned char *sig, size_t siglen);

#endif
