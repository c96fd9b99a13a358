/*
 * crypto.c: the libcrypto calls declared in crypto.h. OpenSSL 3 and 1.1 both provide every
 * call used here (EVP_Digest, HMAC, EVP_DigestSign*, EVP_EncodeBlock/EVP_DecodeBlock).
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

int anth_sha256(const void *p, size_t n, unsigned char out[ANTH_SHA256_LEN])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != ANTH_SHA256_LEN)
        return -1;
    return 0;
}

int anth_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                     unsigned char out[ANTH_SHA256_LEN])
{
    unsigned int len = 0;
    if (keylen > 0x7fffffff)
        return -1;
    if (HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len) == NULL || len != ANTH_SHA256_LEN)
        return -1;
    return 0;
}

void anth_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

size_t anth_base64_encoded_len(size_t n)
{
    return 4 * ((n + 2) / 3) + 1;
}

size_t anth_base64_encode(const void *p, size_t n, char *out)
{
    /* EVP_EncodeBlock takes int lengths: encode in 3 * 2^28-byte pieces. */
    const unsigned char *in = p;
    size_t written = 0;
    out[0] = '\0';
    while (n > 0) {
        size_t step = n > (size_t)3 << 28 ? (size_t)3 << 28 : n;
        written += (size_t)EVP_EncodeBlock((unsigned char *)out + written, in, (int)step);
        in += step;
        n -= step;
    }
    return written;
}

/* 1 for base64's alphabet, 3 for its padding '=' (bit 0: within a base64 text), 0 for every
 * other byte. */
static const unsigned char base64_class[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1,
    ['='] = 3,
};

/* 1 when all eight bytes at u are within a base64 text: one test for eight bytes, as most
 * texts here are a few hundred bytes of nothing else. */
static unsigned all_within8(const unsigned char *u)
{
    return base64_class[u[0]] & base64_class[u[1]] & base64_class[u[2]] & base64_class[u[3]] &
           base64_class[u[4]] & base64_class[u[5]] & base64_class[u[6]] & base64_class[u[7]] & 1u;
}

size_t anth_base64_span(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i + 8 <= n && all_within8(u + i))
        i += 8;
    while (i < n && base64_class[u[i]] != 0)
        i++;
    return i;
}

size_t anth_base64_decode_span(const char *s, size_t n, unsigned char *out)
{
    size_t pad = 0;
    int got;
    if (n % 4 != 0 || n > 0x7ffffffc)
        return (size_t)-1;
    if (n == 0)
        return 0;
    /* EVP_DecodeBlock skips leading/trailing whitespace and counts padding as data: with
     * only the alphabet and '=' in s, refusing '=' anywhere but the last one or two bytes
     * leaves nothing it could read differently, so "not base64" is always caught. */
    if (s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    if (memchr(s, '=', n - pad) != NULL)
        return (size_t)-1;
    got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (got < 0 || (size_t)got < pad)
        return (size_t)-1;
    return (size_t)got - pad;
}

size_t anth_base64_decode(const char *s, size_t n, unsigned char *out)
{
    if (anth_base64_span(s, n) != n)
        return (size_t)-1;
    return anth_base64_decode_span(s, n, out);
}

int anth_rs256_sign(const char *pem, size_t pemlen, const void *msg, size_t n,
                    unsigned char **sig, size_t *siglen)
{
    BIO *bio;
    EVP_PKEY *key;
    EVP_MD_CTX *md = NULL;
    int rc = -2;
    size_t len = 0;
    *sig = NULL;
    *siglen = 0;
    if (pemlen > 0x7fffffff || (bio = BIO_new_mem_buf(pem, (int)pemlen)) == NULL)
        return -3;
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        ERR_clear_error();   /* leave no stale entry for the next libcrypto (or curl) user */
        return -1;
    }
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        rc = -3;
    } else if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
               EVP_DigestSign(md, NULL, &len, msg, n) == 1) {
        *sig = malloc(len ? len : 1);
        if (*sig == NULL) {
            rc = -3;
        } else if (EVP_DigestSign(md, *sig, &len, msg, n) == 1) {
            *siglen = len;
            rc = 0;
        } else {
            free(*sig);
            *sig = NULL;
        }
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (rc != 0)
        ERR_clear_error();
    return rc;
}

int anth_rs256_verify(const char *pem, size_t pemlen, const void *msg, size_t n,
                      const unsigned char *sig, size_t siglen)
{
    BIO *bio;
    EVP_PKEY *key;
    EVP_MD_CTX *md;
    int rc = 0;
    if (pemlen > 0x7fffffff || (bio = BIO_new_mem_buf(pem, (int)pemlen)) == NULL)
        return -1;
    key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        return -1;
    }
    md = EVP_MD_CTX_new();
    if (md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
        rc = EVP_DigestVerify(md, sig, siglen, msg, n) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return rc;
}
