/*
 * sigv4.c: the signer declared in sigv4.h, step by step as AWS documents it ("Create a
 * canonical request", "Create a string to sign", "Calculate the signature"): canonical
 * request -> SHA-256 -> string to sign -> HMAC chain of date, region, service,
 * "aws4_request" -> HMAC of the string to sign. Checked in spec/c/test_sigv4.c against
 * vectors of AWS's published Signature Version 4 test suite.
 */
#include "sigv4.h"
#include "crypto.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sv_buf {
    char *p;
    size_t len, cap;
    int oom;
} sv_buf;

static void sv_add(sv_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sv_str(sv_buf *b, const char *s)
{
    sv_add(b, s, strlen(s));
}

/* RFC 3986 encoding of everything but the unreserved set and '/'. */
static void sv_uri(sv_buf *b, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            sv_add(b, (const char *)&c, 1);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            sv_add(b, e, 3);
        }
    }
}

/* A header value as AWS canonicalises it: trimmed, inner runs of spaces made one. */
static void sv_value(sv_buf *b, const char *v)
{
    int space = 0, any = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = any;
            continue;
        }
        if (space)
            sv_add(b, " ", 1);
        space = 0;
        any = 1;
        sv_add(b, v, 1);
    }
}

typedef struct sv_hdr {
    char name[128];
    const char *value;
} sv_hdr;

static int sv_cmp(const void *a, const void *b)
{
    return strcmp(((const sv_hdr *)a)->name, ((const sv_hdr *)b)->name);
}

static int sv_date_ok(const char *d)
{
    size_t i;
    if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

static int sv_hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
    return anth_hmac_sha256(key, keylen, msg, strlen(msg), out);
}

int anth_sigv4_sign(const anth_sigv4 *r, char *out, size_t outlen, char sig_hex[65])
{
    sv_hdr hdrs[ANTH_SIGV4_MAX_HEADERS];
    sv_buf cr = {0, 0, 0, 0}, signed_names = {0, 0, 0, 0}, key = {0, 0, 0, 0};
    unsigned char hash[32], k[32], k2[32];
    char hex[65], date[9], scope[160], sts[256];
    size_t i, j;
    int rc = 0, n;

    if (!r->method || !r->path || !r->amz_date || !r->region || !r->service ||
        !r->access_key_id || !r->secret_access_key || r->nheaders > ANTH_SIGV4_MAX_HEADERS ||
        !sv_date_ok(r->amz_date) || (r->payload == NULL && r->payload_len > 0))
        return ANTH_SIGV4_EINVAL;
    for (i = 0; i < r->nheaders; i++) {
        const char *name = r->headers[2 * i];
        size_t len = strlen(name);
        if (len == 0 || len >= sizeof hdrs[i].name)
            return ANTH_SIGV4_EINVAL;
        for (j = 0; j <= len; j++) {
            char c = name[j];
            hdrs[i].name[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        hdrs[i].value = r->headers[2 * i + 1];
    }
    qsort(hdrs, r->nheaders, sizeof hdrs[0], sv_cmp);
    memcpy(date, r->amz_date, 8);
    date[8] = '\0';
    n = snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, r->region, r->service);
    if (n < 0 || (size_t)n >= sizeof scope)
        return ANTH_SIGV4_EINVAL;

    /* 1. The canonical request. */
    sv_str(&cr, r->method);
    sv_str(&cr, "\n");
    sv_uri(&cr, r->path[0] ? r->path : "/");
    sv_str(&cr, "\n");
    sv_str(&cr, r->query ? r->query : "");
    sv_str(&cr, "\n");
    for (i = 0; i < r->nheaders; i++) {
        sv_str(&cr, hdrs[i].name);
        sv_str(&cr, ":");
        sv_value(&cr, hdrs[i].value);
        sv_str(&cr, "\n");
        if (i)
            sv_str(&signed_names, ";");
        sv_str(&signed_names, hdrs[i].name);
    }
    sv_str(&signed_names, "");
    sv_str(&cr, "\n");
    sv_str(&cr, signed_names.p);
    sv_str(&cr, "\n");
    if (anth_sha256(r->payload ? r->payload : "", r->payload_len, hash) != 0) {
        rc = ANTH_SIGV4_ECRYPTO;
        goto done;
    }
    anth_hex(hash, 32, hex);
    sv_str(&cr, hex);
    if (cr.oom || signed_names.oom) {
        rc = ANTH_SIGV4_ENOMEM;
        goto done;
    }

    /* 2. The string to sign. */
    if (anth_sha256(cr.p, cr.len, hash) != 0) {
        rc = ANTH_SIGV4_ECRYPTO;
        goto done;
    }
    anth_hex(hash, 32, hex);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope, hex);

    /* 3. The signing key and the signature. */
    sv_str(&key, "AWS4");
    sv_str(&key, r->secret_access_key);
    if (key.oom) {
        rc = ANTH_SIGV4_ENOMEM;
        goto done;
    }
    if (sv_hmac((const unsigned char *)key.p, key.len, date, k) != 0 ||
        sv_hmac(k, 32, r->region, k2) != 0 || sv_hmac(k2, 32, r->service, k) != 0 ||
        sv_hmac(k, 32, "aws4_request", k2) != 0 || sv_hmac(k2, 32, sts, hash) != 0) {
        rc = ANTH_SIGV4_ECRYPTO;
        goto done;
    }
    anth_hex(hash, 32, hex);
    n = snprintf(out, outlen, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                 r->access_key_id, scope, signed_names.p, hex);
    if (n < 0 || (size_t)n >= outlen)
        rc = ANTH_SIGV4_ESPACE;
    else if (sig_hex)
        memcpy(sig_hex, hex, 65);
done:
    /* The secret and everything derived from it leave no copy behind. */
    if (key.p)
        OPENSSL_cleanse(key.p, key.cap);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(k2, sizeof k2);
    free(key.p);
    free(cr.p);
    free(signed_names.p);
    return rc;
}
