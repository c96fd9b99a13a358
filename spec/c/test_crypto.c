/*
 * test_crypto.c: unit tests for src/sigv4.c and src/crypto.c.
 *
 * SigV4 rows are vectors of AWS's published Signature Version 4 test suite (credentials
 * AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, us-east-1, service "service",
 * 20150830T123600Z), plus one Bedrock-shaped request whose expected signature was computed
 * by an independent reference (Python's hashlib/hmac with urllib's quote on the sent path,
 * the way botocore signs), which pins the double encoding of ':' (%3A -> %253A).
 * Base64 rows are RFC 4648's. RS256 is checked against a signature made by
 * `openssl dgst -sha256 -sign` with the specs' test service-account key (argv[1], default
 * spec/fixtures/platforms).
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "../../src/crypto.h"
#include "../../src/sigv4.h"

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

typedef struct sv_row {
    const char *name, *method, *path, *query;
    const char *headers[8];
    size_t nheaders;
    const char *signed_headers, *signature;
} sv_row;

static void test_sigv4_suite(void)
{
    static const sv_row rows[] = {
        {"get-vanilla", "GET", "/", NULL,
         {"Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"}, 2,
         "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        {"post-vanilla", "POST", "/", NULL,
         {"Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"}, 2,
         "host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        {"get-vanilla-query-order-key-case", "GET", "/", "Param1=value1&Param2=value2",
         {"Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"}, 2,
         "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        {"post-sts-header-before", "POST", "/", NULL,
         {"Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z",
          "X-Amz-Security-Token", TOKEN}, 3,
         "host;x-amz-date;x-amz-security-token",
         "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
        {"get-header-value-trim", "GET", "/", NULL,
         {"Host", "example.amazonaws.com", "My-Header1", " value1", "My-Header2", " \"a   b   c\"",
          "X-Amz-Date", "20150830T123600Z"}, 4,
         "host;my-header1;my-header2;x-amz-date",
         "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
        {"post-header-key-sort (headers given unsorted)", "POST", "/", NULL,
         {"X-Amz-Date", "20150830T123600Z", "My-Header1", "value1", "Host", "example.amazonaws.com"}, 3,
         "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
        {"post-header-value-case", "POST", "/", NULL,
         {"Host", "example.amazonaws.com", "My-Header1", "VALUE1", "X-Amz-Date", "20150830T123600Z"}, 3,
         "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
        {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
         NULL, {"Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"}, 2,
         "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
        {"get-space (the path encoded once)", "GET", "/example space/", NULL,
         {"Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"}, 2,
         "host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const sv_row *row = &rows[i];
        anth_sigv4 r;
        char auth[512], sig[65], want[512];
        int rc;
        memset(&r, 0, sizeof r);
        r.method = row->method;
        r.path = row->path;
        r.query = row->query;
        r.headers = row->headers;
        r.nheaders = row->nheaders;
        r.amz_date = "20150830T123600Z";
        r.region = "us-east-1";
        r.service = "service";
        r.access_key_id = AK;
        r.secret_access_key = SK;
        rc = anth_sigv4_sign(&r, auth, sizeof auth, sig);
        CHECK(rc == 0, "%s: signs (%d)", row->name, rc);
        snprintf(want, sizeof want,
                 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                 "SignedHeaders=%s, Signature=%s", row->signed_headers, row->signature);
        CHECK_STR(auth, want, "%s: Authorization", row->name);
        CHECK_STR(sig, row->signature, "%s: signature", row->name);
    }
}

static void test_sigv4_bedrock(void)
{
    static const char body[] = "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":16,"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    const char *headers[] = {"host", "bedrock-runtime.us-east-1.amazonaws.com", "x-amz-date",
                             "20260102T030405Z", "content-type", "application/json",
                             "x-amz-security-token", "FwoGZXIvYXdzEXAMPLETOKEN"};
    anth_sigv4 r;
    char auth[512], sig[65], small[40];
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke";
    r.headers = headers;
    r.nheaders = 4;
    r.payload = body;
    r.payload_len = sizeof body - 1;
    r.amz_date = "20260102T030405Z";
    r.region = "us-east-1";
    r.service = "bedrock";
    r.access_key_id = AK;
    r.secret_access_key = SK;
    CHECK(anth_sigv4_sign(&r, auth, sizeof auth, sig) == 0, "bedrock: signs");
    CHECK_STR(sig, "e710bc70ff07ebc0b94f9f60137c11b90c427b305feefa85bbed96d499919e5b",
              "bedrock: ':' in the model id is signed as %%253A");
    CHECK(strstr(auth, SK) == NULL && strstr(auth, "FwoGZX") == NULL,
          "the header carries neither the secret nor the token");
    CHECK(anth_sigv4_sign(&r, small, sizeof small, NULL) == ANTH_SIGV4_ESPACE, "too small a buffer");
    r.amz_date = "2026-01-02T03:04:05Z";
    CHECK(anth_sigv4_sign(&r, auth, sizeof auth, NULL) == ANTH_SIGV4_EINVAL, "a bad date is refused");
    r.amz_date = "20260102T030405Z";
    r.nheaders = ANTH_SIGV4_MAX_HEADERS + 1;
    CHECK(anth_sigv4_sign(&r, auth, sizeof auth, NULL) == ANTH_SIGV4_EINVAL, "too many headers");
    r.nheaders = 4;
    r.secret_access_key = NULL;
    CHECK(anth_sigv4_sign(&r, auth, sizeof auth, NULL) == ANTH_SIGV4_EINVAL, "no secret");
}

static void test_base64(void)
{
    static const char *rows[][2] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    static const char *bad[] = {"Zg=", "Zm9", "Z===", "Zm 9v", "Zm9v\n", "=Zm9", "Zg=a", "Zm-_"};
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char enc[16];
        unsigned char dec[16];
        size_t n = anth_base64_encode(rows[i][0], strlen(rows[i][0]), enc);
        CHECK(n == strlen(rows[i][1]), "encode %s: length", rows[i][0]);
        CHECK_STR(enc, rows[i][1], "encode %s", rows[i][0]);
        CHECK(anth_base64_encoded_len(strlen(rows[i][0])) >= n + 1, "encoded_len %s", rows[i][0]);
        n = anth_base64_decode(rows[i][1], strlen(rows[i][1]), dec);
        CHECK(n == strlen(rows[i][0]) && memcmp(dec, rows[i][0], n) == 0, "decode %s", rows[i][1]);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char dec[16];
        CHECK(anth_base64_decode(bad[i], strlen(bad[i]), dec) == (size_t)-1, "not base64: '%s'", bad[i]);
    }
}

/* Base64 as the decoder must read it, written apart: the alphabet everywhere, but one or
 * two '=' as the last bytes. */
static int oracle_is_base64(const char *s, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, body = n;
    if (n % 4 != 0)
        return 0;
    while (body > 0 && n - body < 2 && s[body - 1] == '=')
        body--;
    for (i = 0; i < body; i++)
        if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
            return 0;
    return 1;
}

/* Every text of 4 and 8 bytes over a few letters, '=', and bytes EVP_DecodeBlock would
 * skip or misread: the decoder refuses exactly what the oracle refuses. */
static void test_base64_exhaustive(void)
{
    static const char letters[] = "Aa/+=\n -";
    const size_t k = sizeof letters - 1;
    size_t n, code, wrong = 0;
    for (n = 4; n <= 8; n += 4) {
        size_t total = 1;
        for (code = 0; code < n; code++)
            total *= k;
        for (code = 0; code < total; code++) {
            char s[8];
            unsigned char out[6];
            size_t i, c = code;
            for (i = 0; i < n; i++, c /= k)
                s[i] = letters[c % k];
            if ((anth_base64_decode(s, n, out) != (size_t)-1) != oracle_is_base64(s, n))
                wrong++;
        }
    }
    CHECK(wrong == 0, "base64_decode agrees with the oracle on every short text (%zu differ)", wrong);
}

static void test_base64_span(void)
{
    static const struct { const char *s; size_t want; } rows[] = {
        { "", 0 }, { "eyJ9", 4 }, { "Zg==\"}", 4 }, { "ab+/09==,", 8 }, { "-abc", 0 },
        { "abc def", 3 }, { "AZaz09+/=", 9 }, { "a\\b", 1 },
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK(anth_base64_span(rows[i].s, strlen(rows[i].s)) == rows[i].want, "span of '%s'", rows[i].s);
    CHECK(anth_base64_span("abcd", 2) == 2, "span stops at n");
    CHECK(anth_base64_span("ab\0cd", 5) == 2, "span stops at a NUL");
}

/* A bad byte at every place of a long text, inside and past each eight-byte block the span
 * reads at once: the span ends just before it, and the decoder refuses the text. */
static void test_base64_long(void)
{
    static const char bad[] = { ' ', '\0', '-', '"', '\x80', '\xff' };
    char s[67];
    unsigned char out[64];
    size_t at, b, wrong_span = 0, wrong_decode = 0;
    for (at = 0; at < sizeof s - 3; at++)
        s[at] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[at % 64];
    memcpy(s + 64, "A==", 3);   /* 67 bytes: "...A==" is not a multiple of 4 */
    CHECK(anth_base64_span(s, 67) == 67, "a long text spans to its end");
    CHECK(anth_base64_decode(s, 64, out) == 48, "its first 64 bytes decode");
    for (at = 0; at < 64; at++) {
        char keep = s[at];
        for (b = 0; b < sizeof bad; b++) {
            s[at] = bad[b];
            wrong_span += anth_base64_span(s, 64) != at;
            wrong_decode += anth_base64_decode(s, 64, out) != (size_t)-1;
        }
        s[at] = '=';    /* within the span, but padding only as the last byte or two */
        wrong_span += anth_base64_span(s, 64) != 64;
        wrong_decode += (anth_base64_decode(s, 64, out) != (size_t)-1) != (at == 63);
        s[at] = keep;
    }
    CHECK(wrong_span == 0, "the span stops at a bad byte wherever it is (%zu wrong)", wrong_span);
    CHECK(wrong_decode == 0, "the decoder refuses a bad byte or '=' inside (%zu wrong)", wrong_decode);
    /* decode_span trusts the span but still refuses '=' inside and a bad length */
    CHECK(anth_base64_decode_span("Zg==", 4, out) == 1 && out[0] == 'f', "decode_span: Zg==");
    CHECK(anth_base64_decode_span("Z=g=", 4, out) == (size_t)-1, "decode_span: '=' inside");
    CHECK(anth_base64_decode_span("Zm9", 3, out) == (size_t)-1, "decode_span: length");
    CHECK(anth_base64_decode_span("", 0, out) == 0, "decode_span: empty");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = '\0';
        *len = (size_t)n;
    }
    return p;
}

/* The PEM inside the key file's "private_key" string: only \n escapes occur in it. */
static char *private_key_of(const char *json)
{
    const char *at = strstr(json, "\"private_key\": \"");
    char *out, *o;
    if (at == NULL)
        return NULL;
    at += strlen("\"private_key\": \"");
    out = o = calloc(strlen(at) + 1, 1);
    while (out && *at && *at != '"') {
        if (at[0] == '\\' && at[1] == 'n') {
            *o++ = '\n';
            at += 2;
        } else {
            *o++ = *at++;
        }
    }
    if (out)
        *o = '\0';
    return out;
}

static void test_rs256(const char *dir)
{
    static const char want_prefix[] = "9254d6d350e9dcd2d1f65f6aa6f73ec869ae56e6df987d2ebc1e9a0f";
    char path[512], *json, *pem, *pub;
    size_t jlen = 0, plen = 0, siglen = 0;
    unsigned char *sig = NULL;
    snprintf(path, sizeof path, "%s/vertex-service-account.json", dir);
    json = slurp(path, &jlen);
    snprintf(path, sizeof path, "%s/vertex-service-account.pub.pem", dir);
    pub = slurp(path, &plen);
    CHECK(json && pub, "fixtures readable under %s", dir);
    if (!json || !pub) {
        free(json);
        free(pub);
        return;
    }
    pem = private_key_of(json);
    CHECK(pem && anth_rs256_sign(pem, strlen(pem), "header.payload", 14, &sig, &siglen) == 0,
          "RS256 signs with the test key");
    CHECK(siglen == 256, "a 2048-bit key gives 256 bytes (%zu)", siglen);
    if (sig && siglen == 256) {
        char hex[2 * 256 + 1];
        anth_hex(sig, siglen, hex);
        CHECK(strncmp(hex, want_prefix, sizeof want_prefix - 1) == 0,
              "same signature as openssl dgst -sha256 -sign");
        CHECK(anth_rs256_verify(pub, plen, "header.payload", 14, sig, siglen) == 1, "verifies");
        CHECK(anth_rs256_verify(pub, plen, "header.payloaX", 14, sig, siglen) == 0,
              "another message does not verify");
        sig[10] ^= 1;
        CHECK(anth_rs256_verify(pub, plen, "header.payload", 14, sig, siglen) == 0,
              "a changed signature does not verify");
    }
    free(sig);
    sig = NULL;
    CHECK(anth_rs256_sign("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", 58,
                          "x", 1, &sig, &siglen) == -1 && sig == NULL, "a broken key is -1");
    CHECK(anth_rs256_verify("junk", 4, "x", 1, (const unsigned char *)"s", 1) == -1,
          "a broken public key is -1");
    free(pem);
    free(json);
    free(pub);
}

int main(int argc, char **argv)
{
    unsigned char h[32];
    char hex[65];
    test_sigv4_suite();
    test_sigv4_bedrock();
    test_base64();
    test_base64_exhaustive();
    test_base64_span();
    test_base64_long();
    CHECK(anth_sha256("", 0, h) == 0, "sha256 of nothing");
    anth_hex(h, 32, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256('')");
    test_rs256(argc > 1 ? argv[1] : "spec/fixtures/platforms");
    return anth_check_done();
}
