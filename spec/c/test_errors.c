/*
 * test_errors.c: unit tests for src/errors.c, one table per decision: the kind table,
 * classification (every status/type row of the error tree, transport rows), the retry
 * decision (status, x-should-retry, transport), the retry delay (the required rows
 * and more), jitter, and HTTP-date parsing, including a round trip against libc's gmtime_r
 * as an independent oracle over random instants in years 1000-9999.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "../../src/errors.h"

#include <curl/curl.h>

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

/* Sun, 06 Nov 1994 08:49:37 GMT: the RFC's example date, used as "now" below. */
#define NOW ((time_t)784111777)

/* ---- the kind table --------------------------------------------------------------------- */

typedef struct kind_row {
    anth_kind k;
    const char *name, *parent;
    int status;
    const char *type;
    int retryable;
} kind_row;

static const kind_row kind_rows[] = {
    {ANTH_KIND_OK, "OK", "", 0, NULL, 0},
    {ANTH_KIND_BAD_REQUEST, "BadRequest", "APIStatusError", 400, "invalid_request_error", 0},
    {ANTH_KIND_AUTHENTICATION_FAILED, "AuthenticationFailed", "APIStatusError", 401,
     "authentication_error", 0},
    {ANTH_KIND_BILLING_ERROR, "BillingError", "APIStatusError", 402, "billing_error", 0},
    {ANTH_KIND_PERMISSION_DENIED, "PermissionDenied", "APIStatusError", 403, "permission_error",
     0},
    {ANTH_KIND_NOT_FOUND, "NotFound", "APIStatusError", 404, "not_found_error", 0},
    {ANTH_KIND_CONFLICT, "Conflict", "APIStatusError", 409, NULL, 1},
    {ANTH_KIND_REQUEST_TOO_LARGE, "RequestTooLarge", "APIStatusError", 413, "request_too_large",
     0},
    {ANTH_KIND_UNPROCESSABLE_ENTITY, "UnprocessableEntity", "APIStatusError", 422, NULL, 0},
    {ANTH_KIND_RATE_LIMITED, "RateLimited", "APIStatusError", 429, "rate_limit_error", 1},
    {ANTH_KIND_INTERNAL_SERVER_ERROR, "InternalServerError", "APIStatusError", 500, "api_error",
     1},
    {ANTH_KIND_GATEWAY_TIMEOUT, "GatewayTimeout", "APIStatusError", 504, "timeout_error", 1},
    {ANTH_KIND_OVERLOADED, "Overloaded", "APIStatusError", 529, "overloaded_error", 1},
    {ANTH_KIND_API_STATUS_ERROR, "APIStatusError", "APIError", 0, NULL, 0},
    {ANTH_KIND_STREAM_ERROR, "StreamError", "APIError", 0, NULL, 0},
    {ANTH_KIND_CONNECTION_ERROR, "ConnectionError", "AnthropicError", 0, NULL, 1},
    {ANTH_KIND_TIMEOUT, "Timeout", "ConnectionError", 0, NULL, 1},
    {ANTH_KIND_RESPONSE_TOO_LARGE, "ResponseTooLarge", "ConnectionError", 0, NULL, 0},
};

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void test_kinds(void)
{
    size_t i;
    CHECK(sizeof kind_rows / sizeof kind_rows[0] == ANTH_KIND__COUNT,
          "every kind has a row here (%d kinds)", (int)ANTH_KIND__COUNT);
    for (i = 0; i < sizeof kind_rows / sizeof kind_rows[0]; i++) {
        const kind_row *r = &kind_rows[i];
        CHECK(same_str(anth_kind_name(r->k), r->name) &&
                  same_str(anth_kind_parent(r->k), r->parent) &&
                  anth_kind_status(r->k) == r->status &&
                  same_str(anth_kind_error_type(r->k), r->type) &&
                  anth_kind_retryable(r->k) == r->retryable,
              "kind %s: name %s parent %s status %d type %s retryable %d", r->name,
              anth_kind_name(r->k), anth_kind_parent(r->k), anth_kind_status(r->k),
              anth_kind_error_type(r->k) ? anth_kind_error_type(r->k) : "NULL",
              anth_kind_retryable(r->k));
    }
    CHECK(same_str(anth_kind_name(ANTH_KIND__COUNT), "AnthropicError") &&
              same_str(anth_kind_name((anth_kind)-1), "AnthropicError") &&
              same_str(anth_kind_parent(ANTH_KIND__COUNT), "") &&
              anth_kind_status(ANTH_KIND__COUNT) == 0 &&
              anth_kind_error_type(ANTH_KIND__COUNT) == NULL &&
              anth_kind_retryable(ANTH_KIND__COUNT) == 0,
          "out-of-range kinds are harmless");
}

/* ---- classification + retry decision ------------------------------------------------------ */

typedef struct class_row {
    anth_transport t;
    long status;
    const char *type;
    const char *want;   /* class name */
    int retry;          /* anth_should_retry(status, NULL, t) */
} class_row;

static const class_row class_rows[] = {
    /* the error tree, status + error.type as the API sends them */
    {ANTH_T_NONE, 400, "invalid_request_error", "BadRequest", 0},
    {ANTH_T_NONE, 401, "authentication_error", "AuthenticationFailed", 0},
    {ANTH_T_NONE, 402, "billing_error", "BillingError", 0},
    {ANTH_T_NONE, 403, "permission_error", "PermissionDenied", 0},
    {ANTH_T_NONE, 404, "not_found_error", "NotFound", 0},
    {ANTH_T_NONE, 409, NULL, "Conflict", 1},
    {ANTH_T_NONE, 413, "request_too_large", "RequestTooLarge", 0},
    {ANTH_T_NONE, 422, NULL, "UnprocessableEntity", 0},
    {ANTH_T_NONE, 429, "rate_limit_error", "RateLimited", 1},
    {ANTH_T_NONE, 500, "api_error", "InternalServerError", 1},
    {ANTH_T_NONE, 504, "timeout_error", "GatewayTimeout", 1},
    {ANTH_T_NONE, 529, "overloaded_error", "Overloaded", 1},
    /* status alone (body not JSON) */
    {ANTH_T_NONE, 400, NULL, "BadRequest", 0},
    {ANTH_T_NONE, 401, NULL, "AuthenticationFailed", 0},
    {ANTH_T_NONE, 402, NULL, "BillingError", 0},
    {ANTH_T_NONE, 403, NULL, "PermissionDenied", 0},
    {ANTH_T_NONE, 404, NULL, "NotFound", 0},
    {ANTH_T_NONE, 413, NULL, "RequestTooLarge", 0},
    {ANTH_T_NONE, 429, NULL, "RateLimited", 1},
    {ANTH_T_NONE, 500, NULL, "InternalServerError", 1},
    {ANTH_T_NONE, 502, NULL, "InternalServerError", 1},
    {ANTH_T_NONE, 503, NULL, "InternalServerError", 1},
    {ANTH_T_NONE, 504, NULL, "GatewayTimeout", 1},
    {ANTH_T_NONE, 529, NULL, "Overloaded", 1},
    {ANTH_T_NONE, 599, NULL, "InternalServerError", 1},
    {ANTH_T_NONE, 500, "", "InternalServerError", 1},
    /* error.type wins over the status; retrying still follows the status */
    {ANTH_T_NONE, 500, "overloaded_error", "Overloaded", 1},
    {ANTH_T_NONE, 529, "api_error", "InternalServerError", 1},
    {ANTH_T_NONE, 400, "rate_limit_error", "RateLimited", 0},
    {ANTH_T_NONE, 403, "authentication_error", "AuthenticationFailed", 0},
    {ANTH_T_NONE, 418, "unknown_new_error", "APIStatusError", 0},
    {ANTH_T_NONE, 529, "Overloaded_Error", "Overloaded", 1},
    /* other statuses */
    {ANTH_T_NONE, 408, NULL, "APIStatusError", 1},
    {ANTH_T_NONE, 418, NULL, "APIStatusError", 0},
    {ANTH_T_NONE, 405, NULL, "APIStatusError", 0},
    {ANTH_T_NONE, 302, NULL, "APIStatusError", 0},
    {ANTH_T_NONE, 600, NULL, "APIStatusError", 0},
    {ANTH_T_NONE, 100, NULL, "APIStatusError", 0},
    /* success and stream errors */
    {ANTH_T_NONE, 200, NULL, "OK", 0},
    {ANTH_T_NONE, 204, "", "OK", 0},
    {ANTH_T_NONE, 200, "overloaded_error", "StreamError", 0},
    {ANTH_T_NONE, 200, "api_error", "StreamError", 0},
    {ANTH_T_NONE, 200, "something_new", "StreamError", 0},
    /* no reply at all */
    {ANTH_T_NONE, 0, NULL, "ConnectionError", 1},
    /* transport failures win over any status */
    {ANTH_T_CONNECT, 0, NULL, "ConnectionError", 1},
    {ANTH_T_CONNECT, 529, "overloaded_error", "ConnectionError", 1},
    {ANTH_T_PARTIAL, 200, NULL, "ConnectionError", 1},
    {ANTH_T_RESET, 200, NULL, "ConnectionError", 1},
    {ANTH_T_TIMEOUT_CONNECT, 0, NULL, "Timeout", 1},
    {ANTH_T_TIMEOUT_TOTAL, 0, NULL, "Timeout", 1},
    {ANTH_T_TIMEOUT_TOTAL, 200, NULL, "Timeout", 1},
    {ANTH_T_TIMEOUT_IDLE, 200, NULL, "Timeout", 1},
    {ANTH_T_TOO_LARGE, 200, NULL, "ResponseTooLarge", 0},
    {ANTH_T_TOO_LARGE, 500, "api_error", "ResponseTooLarge", 0},
    {ANTH_T_ABORTED, 200, NULL, "ConnectionError", 0},
    {ANTH_T_OTHER, 0, NULL, "ConnectionError", 0},
    {ANTH_T_OTHER, 401, NULL, "ConnectionError", 0},
    {(anth_transport)99, 0, NULL, "ConnectionError", 0},
};

static void test_classify(void)
{
    size_t i;
    for (i = 0; i < sizeof class_rows / sizeof class_rows[0]; i++) {
        const class_row *r = &class_rows[i];
        const char *got = anth_kind_name(anth_classify(r->t, r->status, r->type));
        int retry = anth_should_retry(r->status, NULL, r->t);
        CHECK(strcmp(got, r->want) == 0 && retry == r->retry,
              "transport %d status %ld type %s: got %s retry %d, want %s retry %d", (int)r->t,
              r->status, r->type ? r->type : "NULL", got, retry, r->want, r->retry);
    }
}

typedef struct retry_row {
    long status;
    const char *header;  /* x-should-retry */
    anth_transport t;
    int want;
} retry_row;

static const retry_row retry_rows[] = {
    {500, "false", ANTH_T_NONE, 0},
    {529, "false", ANTH_T_NONE, 0},
    {429, "false", ANTH_T_NONE, 0},
    {408, "false", ANTH_T_NONE, 0},
    {400, "true", ANTH_T_NONE, 1},
    {404, "true", ANTH_T_NONE, 1},
    {418, "true", ANTH_T_NONE, 1},
    {401, "true", ANTH_T_NONE, 0},   /* never, whatever the header says */
    {403, "true", ANTH_T_NONE, 0},
    {200, "true", ANTH_T_NONE, 0},   /* a success is not retried */
    {500, "TRUE", ANTH_T_NONE, 1},   /* not an exact value: the status decides */
    {400, "True", ANTH_T_NONE, 0},
    {400, "yes", ANTH_T_NONE, 0},
    {400, "", ANTH_T_NONE, 0},
    {500, "False", ANTH_T_NONE, 1},
    {500, " false", ANTH_T_NONE, 1},
    {400, "1", ANTH_T_NONE, 0},
    {0, "true", ANTH_T_NONE, 1}, /* status 0 = no reply: like a connection error */
    {0, "false", ANTH_T_CONNECT, 1}, /* transport failures ignore the header */
    {0, "true", ANTH_T_OTHER, 0},
    {0, "true", ANTH_T_TOO_LARGE, 0},
    {0, "true", ANTH_T_ABORTED, 0},
    {200, "false", ANTH_T_TIMEOUT_IDLE, 1},
};

static void test_should_retry(void)
{
    size_t i;
    for (i = 0; i < sizeof retry_rows / sizeof retry_rows[0]; i++) {
        const retry_row *r = &retry_rows[i];
        int got = anth_should_retry(r->status, r->header, r->t);
        CHECK(got == r->want, "should_retry(%ld, \"%s\", %d) = %d, want %d", r->status,
              r->header, (int)r->t, got, r->want);
    }
}

/* ---- retry delay ------------------------------------------------------------------------ */

typedef struct delay_row {
    const char *name, *ms, *ra;
    int retries_made;
    double cap;
    double want;
    int from_header;
} delay_row;

/* Required rows first ("3 retries left" of max_retries 3 = 0 retries made). */
static const delay_row delay_rows[] = {
    {"\"20\"", NULL, "20", 0, 60, 20, 1},
    {"\"0\"", NULL, "0", 0, 60, 0.5, 0},
    {"\"-10\"", NULL, "-10", 0, 60, 0.5, 0},
    {"\"60\"", NULL, "60", 0, 60, 60, 1},
    {"\"61\"", NULL, "61", 0, 60, 0.5, 0},
    {"HTTP-date 20 s ahead", NULL, "Sun, 06 Nov 1994 08:49:57 GMT", 0, 60, 20, 1},
    {"HTTP-date in the past", NULL, "Sun, 06 Nov 1994 08:49:17 GMT", 0, 60, 0.5, 0},
    {"unparseable", NULL, "soon", 0, 60, 0.5, 0},
    {"35 digits", NULL, "12345678901234567890123456789012345", 0, 60, 0.5, 0},
    {"no header, 3 left", NULL, NULL, 0, 60, 0.5, 0},
    {"no header, 2 left", NULL, NULL, 1, 60, 1, 0},
    {"no header, 1 left", NULL, NULL, 2, 60, 2, 0},
    {"retry-after-ms 200", "200", NULL, 0, 60, 0.2, 1},
    {"retry-after-ms wins over retry-after", "200", "20", 0, 60, 0.2, 1},
    /* backoff ceiling */
    {"backoff after 3", NULL, NULL, 3, 60, 4, 0},
    {"backoff after 4", NULL, NULL, 4, 60, 8, 0},
    {"backoff after 10", NULL, NULL, 10, 60, 8, 0},
    {"backoff after INT_MAX", NULL, NULL, INT_MAX, 60, 8, 0},
    {"negative retries_made", NULL, NULL, -5, 60, 0.5, 0},
    {"backoff ignores a bad header", NULL, "x", 2, 60, 2, 0},
    /* retry-after-ms */
    {"ms fractional", "1.5", NULL, 0, 60, 0.0015, 1},
    {"ms 200.5", "200.5", NULL, 0, 60, 0.2005, 1},
    {"ms at the cap", "60000", NULL, 0, 60, 60, 1},
    {"ms over the cap", "60001", NULL, 0, 60, 0.5, 0},
    {"ms invalid falls back to retry-after", "abc", "20", 0, 60, 20, 1},
    {"ms zero falls back to retry-after", "0", "7", 0, 60, 7, 1},
    {"ms over cap falls back to retry-after", "90000", "7", 0, 60, 7, 1},
    {"ms negative", "-200", NULL, 0, 60, 0.5, 0},
    {"ms empty", "", NULL, 0, 60, 0.5, 0},
    {"ms 35 digits", "12345678901234567890123456789012345", NULL, 0, 60, 0.5, 0},
    {"ms 400 digits of 9",
     "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "99999999999999999999999999999999999999999999999999",
     NULL, 0, 60, 0.5, 0},
    /* retry-after seconds forms */
    {"decimal seconds", NULL, "1.5", 0, 60, 1.5, 1},
    {"decimal rounds like the literal", NULL, "12.34", 0, 60, 12.34, 1},
    {"many fraction digits", NULL, "2.50000000000000000001", 0, 60, 2.5, 1},
    /* Digits past the ninth are dropped, not rounded: the delay is read to the nanosecond. */
    {"fraction digits past the ninth dropped", NULL, ".0000099999999999999999999", 0, 60,
     0.000009999, 1},
    {"ms decimal rounds like the literal", "33.3", NULL, 0, 60, 33.3 / 1000.0, 1},
    {"leading dot", NULL, ".5", 0, 60, 0.5, 1},
    {"trailing dot", NULL, "20.", 0, 60, 20, 1},
    {"zero point zero", NULL, "0.0", 0, 60, 0.5, 0},
    {"leading zeros", NULL, "0020", 0, 60, 20, 1},
    {"surrounding spaces and tabs", NULL, " \t20 \t", 0, 60, 20, 1},
    {"trailing junk", NULL, "20s", 0, 60, 0.5, 0},
    {"inner space", NULL, "2 0", 0, 60, 0.5, 0},
    {"plus sign", NULL, "+20", 0, 60, 0.5, 0},
    {"exponent", NULL, "2e1", 0, 60, 0.5, 0},
    {"hex", NULL, "0x10", 0, 60, 0.5, 0},
    {"two dots", NULL, "1.2.3", 0, 60, 0.5, 0},
    {"lone dot", NULL, ".", 0, 60, 0.5, 0},
    {"empty", NULL, "", 0, 60, 0.5, 0},
    {"inf", NULL, "inf", 0, 60, 0.5, 0},
    {"nan", NULL, "nan", 0, 60, 0.5, 0},
    {"trailing CR", NULL, "20\r", 0, 60, 0.5, 0},
    {"just over 60", NULL, "60.001", 0, 60, 0.5, 0},
    /* HTTP-date forms and edges */
    {"RFC 850 date 20 s ahead", NULL, "Sunday, 06-Nov-94 08:49:57 GMT", 0, 60, 20, 1},
    {"asctime date 20 s ahead", NULL, "Sun Nov  6 08:49:57 1994", 0, 60, 20, 1},
    {"date exactly now", NULL, "Sun, 06 Nov 1994 08:49:37 GMT", 0, 60, 0.5, 0},
    {"date 1 s ahead", NULL, "Sun, 06 Nov 1994 08:49:38 GMT", 0, 60, 1, 1},
    {"date 60 s ahead", NULL, "Sun, 06 Nov 1994 08:50:37 GMT", 0, 60, 60, 1},
    {"date 61 s ahead", NULL, "Sun, 06 Nov 1994 08:50:38 GMT", 0, 60, 0.5, 0},
    {"date next day", NULL, "Mon, 07 Nov 1994 08:49:37 GMT", 1, 60, 1, 0},
    {"date with junk", NULL, "Sun, 06 Nov 1994 08:49:57 GMT x", 0, 60, 0.5, 0},
    /* the cap */
    {"cap 10 refuses 20", NULL, "20", 0, 10, 0.5, 0},
    {"cap 120 takes 100", NULL, "100", 0, 120, 100, 1},
    {"cap 0 means 60", NULL, "60", 0, 0, 60, 1},
    {"cap -1 means 60", NULL, "61", 0, -1, 0.5, 0},
    {"cap NaN means 60", NULL, "30", 0, NAN, 30, 1},
};

static void test_delay(void)
{
    size_t i;
    for (i = 0; i < sizeof delay_rows / sizeof delay_rows[0]; i++) {
        const delay_row *r = &delay_rows[i];
        int from = -1;
        double got = anth_retry_delay(r->ms, r->ra, NOW, r->retries_made, r->cap, &from);
        CHECK(got == r->want && from == r->from_header, "delay %s: got %.17g (header %d), want %g (header %d)",
              r->name, got, from, r->want, r->from_header);
    }
    CHECK(anth_retry_delay(NULL, "20", NOW, 0, 60, NULL) == 20.0, "from_header may be NULL");
}

typedef struct jitter_row {
    double s, r, want;
} jitter_row;

static void test_jitter(void)
{
    static const jitter_row rows[] = {
        {10, 0, 10},    {10, 1, 7.5}, {10, 0.5, 8.75}, {0.5, 1, 0.375}, {8, 0.25, 7.5},
        {10, -1, 10},   {10, 2, 7.5}, {10, NAN, 10},   {-1, 0.5, 0},    {NAN, 0.5, 0},
        {0, 0.5, 0},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double got = anth_jitter(rows[i].s, rows[i].r);
        CHECK(got == rows[i].want, "jitter(%g, %g) = %.17g, want %g", rows[i].s, rows[i].r, got,
              rows[i].want);
    }
}

/* ---- HTTP-date ------------------------------------------------------------------------- */

typedef struct date_row {
    const char *s;
    time_t now;
    int ok;
    long long want;
} date_row;

static const date_row date_rows[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", NOW, 1, 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", NOW, 1, 784111777},
    {"Sun Nov  6 08:49:37 1994", NOW, 1, 784111777},
    {"Sun Nov 06 08:49:37 1994", NOW, 1, 784111777},
    {"  Sun, 06 Nov 1994 08:49:37 GMT \t", NOW, 1, 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", NOW, 1, 0},
    {"Wed, 31 Dec 1969 23:59:59 GMT", NOW, 1, -1},
    {"Tue, 29 Feb 2000 00:00:00 GMT", NOW, 1, 951782400},
    {"Sun, 29 Feb 2004 00:00:00 GMT", NOW, 1, 1078012800},
    {"Fri, 31 Dec 9999 23:59:59 GMT", NOW, 1, 253402300799LL},
    {"Sat, 01 Jan 0000 00:00:00 GMT", NOW, 1, -62167219200LL},
    {"Sun, 06 Nov 1994 08:49:60 GMT", NOW, 1, 784111800},
    /* the day name is not cross-checked against the date (as most parsers) */
    {"Mon, 06 Nov 1994 08:49:37 GMT", NOW, 1, 784111777},
    /* RFC 850 two-digit years: the year in (now - 50, now + 50] */
    {"Sunday, 06-Nov-44 08:49:37 GMT", NOW, 1, 2362034977LL},   /* 2044: 50 ahead */
    {"Monday, 06-Nov-45 08:49:37 GMT", NOW, 1, -762189023LL},   /* 1945: 51 ahead is past */
    {"Monday, 01-Jan-00 00:00:00 GMT", NOW, 1, 946684800},      /* 2000 */
    {"Thursday, 01-Jan-70 00:00:00 GMT", NOW, 1, 0},            /* 1970 */
    {"Thursday, 01-Jan-70 00:00:00 GMT", (time_t)1780000000, 1, 3155760000LL}, /* in 2026: 2070 */
    {"Friday, 01-Jan-77 00:00:00 GMT", (time_t)1780000000, 1, 220924800},      /* in 2026: 1977 */
    {"Wednesday, 01-Jan-76 00:00:00 GMT", (time_t)1780000000, 1, 3345062400LL}, /* 2076: 50 ahead */
    /* rejected */
    {"Thu, 29 Feb 1900 00:00:00 GMT", NOW, 0, 0},
    {"Mon, 29 Feb 2100 00:00:00 GMT", NOW, 0, 0},
    {"Wed, 31 Apr 2024 00:00:00 GMT", NOW, 0, 0},
    {"Sun, 00 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun, 32 Oct 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun, 06 Nov 1994 24:00:00 GMT", NOW, 0, 0},
    {"Sun, 06 Nov 1994 23:60:00 GMT", NOW, 0, 0},
    {"Sun, 06 Nov 1994 23:59:61 GMT", NOW, 0, 0},
    {"Sun, 6 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun, 06 Nov 94 08:49:37 GMT", NOW, 0, 0},
    {"sun, 06 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun, 06 nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", NOW, 0, 0},
    {"Sun, 06 Nov 1994 08:49:37 +0000", NOW, 0, 0},
    {"Sun, 06 Nov 1994 08:49:37", NOW, 0, 0},
    {"Sun, 06 Nov 1994 8:49:37 GMT", NOW, 0, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMTx", NOW, 0, 0},
    {"Sun,06 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun 06 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"06 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sunday, 06 Nov 1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun, 06-Nov-94 08:49:37 GMT", NOW, 0, 0},
    {"Sunday, 06-Nov-1994 08:49:37 GMT", NOW, 0, 0},
    {"Sun Nov 6 08:49:37 1994", NOW, 0, 0},
    {"Sun Nov  6 08:49:37 94", NOW, 0, 0},
    {"Sun Nov  6 08:49:37 1994 GMT", NOW, 0, 0},
    {"Sun Nov 31 08:49:37 1994", NOW, 0, 0},
    {"Sun", NOW, 0, 0},
    {"", NOW, 0, 0},
    {"20", NOW, 0, 0},
    /* an RFC 850 year relative to an absurd now would leave 0000-9999 */
    {"Sunday, 06-Nov-94 08:49:37 GMT", (time_t)LLONG_MAX, 0, 0},
};

static void test_dates(void)
{
    size_t i;
    for (i = 0; i < sizeof date_rows / sizeof date_rows[0]; i++) {
        const date_row *r = &date_rows[i];
        long long got = 12345;
        int ok = anth_parse_http_date(r->s, r->now, &got);
        CHECK(ok == r->ok && (!ok || got == r->want), "date \"%s\": ok %d epoch %lld, want ok %d epoch %lld",
              r->s, ok, got, r->ok, r->want);
    }
}

/* libc is the oracle: format random instants with gmtime_r + strftime in all three forms
 * and parse them back. One CHECK per form over all instants. */
static void test_dates_oracle(void)
{
    static const struct {
        const char *fmt, *name;
    } forms[] = {
        {"%a, %d %b %Y %H:%M:%S GMT", "IMF-fixdate"},
        {"%A, %d-%b-%y %H:%M:%S GMT", "RFC 850"},
        {"%a %b %e %H:%M:%S %Y", "asctime"},
    };
    const long long lo = -30610224000LL, hi = 253402300799LL; /* 1000-01-01 .. 9999-12-31 */
    size_t f;
    for (f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        uint64_t x = 0x9E3779B97F4A7C15ULL;
        int i, bad = 0;
        char text[64] = "", first_bad[128] = "";
        for (i = 0; i < 20000; i++) {
            long long t, got = 0;
            time_t tt;
            struct tm tm;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t = lo + (long long)(x % (uint64_t)(hi - lo + 1));
            if (i < 4) /* the ends of the range and the epoch are always covered */
                t = i == 0 ? lo : i == 1 ? hi : i == 2 ? 0 : 951825599LL;
            tt = (time_t)t;
            if (gmtime_r(&tt, &tm) == NULL || strftime(text, sizeof text, forms[f].fmt, &tm) == 0)
                continue;
            /* RFC 850 needs now within 50 years to name the century. */
            if (!anth_parse_http_date(text, tt, &got) || got != t) {
                if (!bad++)
                    snprintf(first_bad, sizeof first_bad, "\"%s\" -> %lld, want %lld", text, got, t);
            }
        }
        CHECK(bad == 0, "%s round trip via gmtime_r: %d failures, first %s", forms[f].name, bad,
              first_bad);
    }
}

/* ---- the decisions added for streams and outcomes ------------------------------------- */

typedef struct stream_row {
    const char *type;
    int want;
} stream_row;

static void test_stream_error(void)
{
    /* Retried before any content only where a retry can help (the kind's default). */
    static const stream_row rows[] = {
        {"overloaded_error", 1},      {"api_error", 1},          {"rate_limit_error", 1},
        {"timeout_error", 1},         {"invalid_request_error", 0}, {"authentication_error", 0},
        {"permission_error", 0},      {"not_found_error", 0},    {"billing_error", 0},
        {"request_too_large", 0},     {"something_new", 0},      {"", 0},
        {NULL, 0},                    {"Overloaded_Error", 0},   {"overloaded_error ", 0},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK(anth_stream_error_retryable(rows[i].type) == rows[i].want,
              "stream_error_retryable(%s) = %d, want %d", rows[i].type ? rows[i].type : "NULL",
              anth_stream_error_retryable(rows[i].type), rows[i].want);
}

/* anth_retry_after is exactly the header part of anth_retry_delay: -1 where it backs off. */
static void test_retry_after(void)
{
    size_t i;
    for (i = 0; i < sizeof delay_rows / sizeof delay_rows[0]; i++) {
        const delay_row *r = &delay_rows[i];
        double got = anth_retry_after(r->ms, r->ra, NOW, r->cap);
        double want = r->from_header ? r->want : -1.0;
        CHECK(got == want, "retry_after %s: got %.17g, want %g", r->name, got, want);
    }
    CHECK(anth_retry_after(NULL, "-5", NOW, 60) == -1.0, "-5: none");
    CHECK(anth_retry_after(NULL, "inf", NOW, 60) == -1.0, "inf: none");
    CHECK(anth_retry_after(NULL, "0x10", NOW, 60) == -1.0, "0x10: none");
    CHECK(anth_retry_after(NULL, "1e3", NOW, 60) == -1.0, "1e3: none");
    CHECK(anth_retry_after("inf", NULL, NOW, 60) == -1.0, "ms inf: none");
    CHECK(anth_retry_after(NULL, NULL, NOW, 60) == -1.0, "no header: none");
}

static void test_transport_names(void)
{
    static const char *const names[] = {"none", "connect", "partial", "reset", "timeout_connect",
                                        "timeout_total", "timeout_idle", "too_large", "aborted",
                                        "other"};
    size_t i;
    int found;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        anth_transport t = anth_transport_by_name(names[i], &found);
        CHECK(found && (size_t)t == i && strcmp(anth_transport_name(t), names[i]) == 0,
              "transport %s round trip", names[i]);
    }
    CHECK(anth_transport_by_name("nope", &found) == ANTH_T_OTHER && !found, "unknown name");
    CHECK(anth_transport_by_name(NULL, NULL) == ANTH_T_OTHER, "NULL name");
    CHECK(strcmp(anth_transport_name((anth_transport)99), "other") == 0, "out of range");
    CHECK(strcmp(anth_transport_name((anth_transport)-1), "other") == 0, "negative");
}

typedef struct curl_row {
    int code, cut, ready;
    anth_transport want;
} curl_row;

static void test_from_curl(void)
{
    static const curl_row rows[] = {
        {CURLE_OK, 0, 0, ANTH_T_NONE},
        {CURLE_OPERATION_TIMEDOUT, 0, 0, ANTH_T_TIMEOUT_CONNECT},
        {CURLE_OPERATION_TIMEDOUT, 0, 1, ANTH_T_TIMEOUT_TOTAL},
        {CURLE_WRITE_ERROR, 1, 0, ANTH_T_TOO_LARGE},
        {CURLE_WRITE_ERROR, 0, 0, ANTH_T_OTHER},
        {CURLE_OUT_OF_MEMORY, 0, 0, ANTH_T_OTHER},
        {CURLE_PARTIAL_FILE, 0, 0, ANTH_T_PARTIAL},
        {CURLE_RECV_ERROR, 0, 0, ANTH_T_RESET},
        {CURLE_HTTP2_STREAM, 0, 0, ANTH_T_RESET},
        {CURLE_COULDNT_CONNECT, 0, 0, ANTH_T_CONNECT},
        {CURLE_COULDNT_RESOLVE_HOST, 0, 0, ANTH_T_CONNECT},
        {CURLE_SEND_ERROR, 0, 0, ANTH_T_CONNECT},
        {CURLE_GOT_NOTHING, 0, 0, ANTH_T_CONNECT},
        {CURLE_SSL_CONNECT_ERROR, 0, 0, ANTH_T_CONNECT},
        {CURLE_PEER_FAILED_VERIFICATION, 0, 0, ANTH_T_CONNECT},
        {CURLE_URL_MALFORMAT, 0, 0, ANTH_T_OTHER},
        {CURLE_UNSUPPORTED_PROTOCOL, 0, 0, ANTH_T_OTHER},
        {-1, 0, 0, ANTH_T_OTHER},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        anth_transport got = anth_transport_from_curl(rows[i].code, rows[i].cut, rows[i].ready);
        CHECK(got == rows[i].want, "curl code %d (cut %d, ready %d): got %s, want %s",
              rows[i].code, rows[i].cut, rows[i].ready, anth_transport_name(got),
              anth_transport_name(rows[i].want));
    }
}

int main(void)
{
    test_kinds();
    test_classify();
    test_should_retry();
    test_delay();
    test_stream_error();
    test_retry_after();
    test_transport_names();
    test_from_curl();
    test_jitter();
    test_dates();
    test_dates_oracle();
    return anth_check_done();
}
