/*
 * errors.h: failure typing for the C core. Decides, from what the transport saw (an
 * anth_transport code), the HTTP status and the body's error.type, which class of the
 * error tree in ARCHITECTURE.md a failure belongs to; whether to retry it; and how long to
 * wait first (retry-after-ms, retry-after as seconds or an HTTP-date, else backoff).
 * Also the names of transport outcomes, and what a libcurl result code means for us
 * (anth_transport_from_curl). Plain C99: no Lua; curl only for the CURLcode names (no curl
 * function is called, nothing is linked). Every fact lives in one table (ANTH_KIND_LIST below).
 * The C core is the one owner of the retry decision: the engine asks anth_should_retry and
 * anth_retry_delay; Lua reads the outcome (retryable, retry_after) and decides nothing.
 *
 * Decisions taken here (and tested in spec/c/test_errors.c):
 * - ResponseTooLarge (a reply cut off at the client's size cap) is a subclass of
 *   ConnectionError, like Timeout: no usable reply arrived. It is not retried, since the
 *   same request would most likely produce the same oversized reply.
 * - ANTH_T_CONNECT is a transient network failure (DNS, refused, reset, TLS handshake,
 *   send/recv) and is retried like the SDKs retry connection errors; ANTH_T_OTHER is any
 *   other transport failure (bad URL, unsupported protocol, out of memory) and is not;
 *   ANTH_T_ABORTED (the caller cancelled) is never retried. All three are ConnectionError.
 * - 401 and 403 are never retried, even with "x-should-retry: true".
 * - Delays given by the server are not jittered (as in the official SDKs); backoff is.
 */
#ifndef ANTH_ERRORS_H
#define ANTH_ERRORS_H

#include <time.h>

/* What the transfer engine saw, mapped from CURLcode by anth_transport_from_curl. */
typedef enum anth_transport {
    ANTH_T_NONE = 0,          /* a complete HTTP reply arrived */
    ANTH_T_CONNECT,           /* transient network failure: DNS, refused, TLS, send, no reply */
    ANTH_T_PARTIAL,           /* the body ended before its announced end (length, chunks) */
    ANTH_T_RESET,             /* the connection (or HTTP/2 stream) broke while receiving */
    ANTH_T_TIMEOUT_CONNECT,   /* connect_timeout fired */
    ANTH_T_TIMEOUT_TOTAL,     /* timeout (whole request) fired */
    ANTH_T_TIMEOUT_IDLE,      /* a stream went quiet (no non-ping event) too long */
    ANTH_T_TOO_LARGE,         /* the reply exceeded the size cap and was cut off */
    ANTH_T_ABORTED,           /* the caller cancelled the transfer */
    ANTH_T_OTHER              /* any other transport failure: not retried */
} anth_transport;

/* "none", "connect", "partial", "reset", "timeout_connect", "timeout_total", "timeout_idle",
 * "too_large", "aborted", "other": the names Lua sees as err.transport ("other" for an
 * out-of-range value). */
const char *anth_transport_name(anth_transport t);
/* The transport whose name is s; ANTH_T_OTHER, with *found = 0, when none is (found may be
 * NULL). */
anth_transport anth_transport_by_name(const char *s, int *found);

/*
 * What a libcurl result code (a CURLcode, as int) means for us. cut_too_large: a callback
 * stopped the transfer because the reply passed the size cap (curl then reports a write
 * error). ready_to_send: for CURLE_OPERATION_TIMEDOUT, whether the connection was ready
 * (TCP and TLS done, CURLINFO_PRETRANSFER_TIME_T > 0): then the request timed out, not the
 * connect.
 */
anth_transport anth_transport_from_curl(int curl_code, int cut_too_large, int ready_to_send);

/*
 * The kind table. Columns:
 *   enum suffix, Lua class name, Lua parent class name, HTTP status (0 = none of its own),
 *   API error.type (NULL = none), retryable by default.
 * The status and error.type columns are also the lookup tables used by anth_classify.
 * "Retryable" is the class default; for a concrete reply anth_should_retry decides (e.g.
 * 408 is an APIStatusError, which is retried while the class default is not).
 */
#define ANTH_KIND_LIST(X)                                                                     \
    X(OK,                    "OK",                   "",               0,   NULL,                    0) \
    X(BAD_REQUEST,           "BadRequest",           "APIStatusError", 400, "invalid_request_error", 0) \
    X(AUTHENTICATION_FAILED, "AuthenticationFailed", "APIStatusError", 401, "authentication_error",  0) \
    X(BILLING_ERROR,         "BillingError",         "APIStatusError", 402, "billing_error",         0) \
    X(PERMISSION_DENIED,     "PermissionDenied",     "APIStatusError", 403, "permission_error",      0) \
    X(NOT_FOUND,             "NotFound",             "APIStatusError", 404, "not_found_error",       0) \
    X(CONFLICT,              "Conflict",             "APIStatusError", 409, NULL,                    1) \
    X(REQUEST_TOO_LARGE,     "RequestTooLarge",      "APIStatusError", 413, "request_too_large",     0) \
    X(UNPROCESSABLE_ENTITY,  "UnprocessableEntity",  "APIStatusError", 422, NULL,                    0) \
    X(RATE_LIMITED,          "RateLimited",          "APIStatusError", 429, "rate_limit_error",      1) \
    X(INTERNAL_SERVER_ERROR, "InternalServerError",  "APIStatusError", 500, "api_error",             1) \
    X(GATEWAY_TIMEOUT,       "GatewayTimeout",       "APIStatusError", 504, "timeout_error",         1) \
    X(OVERLOADED,            "Overloaded",           "APIStatusError", 529, "overloaded_error",      1) \
    X(API_STATUS_ERROR,      "APIStatusError",       "APIError",       0,   NULL,                    0) \
    X(STREAM_ERROR,          "StreamError",          "APIError",       0,   NULL,                    0) \
    X(CONNECTION_ERROR,      "ConnectionError",      "AnthropicError", 0,   NULL,                    1) \
    X(TIMEOUT,               "Timeout",              "ConnectionError", 0,  NULL,                    1) \
    X(RESPONSE_TOO_LARGE,    "ResponseTooLarge",     "ConnectionError", 0,  NULL,                    0)

typedef enum anth_kind {
#define ANTH_KIND_ENUM(id, name, parent, status, type, retry) ANTH_KIND_##id,
    ANTH_KIND_LIST(ANTH_KIND_ENUM)
#undef ANTH_KIND_ENUM
    ANTH_KIND__COUNT
} anth_kind;

/* Lua class name ("AuthenticationFailed", ...); "AnthropicError" for an out-of-range kind. */
const char *anth_kind_name(anth_kind k);
/* Lua parent class name ("APIStatusError", "APIError", "ConnectionError", "AnthropicError";
 * "" for OK and out-of-range kinds). */
const char *anth_kind_parent(anth_kind k);
/* The HTTP status the class stands for (401 for AuthenticationFailed), 0 when none. */
int anth_kind_status(anth_kind k);
/* The API's error.type for the class ("overloaded_error"), NULL when none. */
const char *anth_kind_error_type(anth_kind k);
/* The class's default retryability (0/1); see anth_should_retry for a concrete reply. */
int anth_kind_retryable(anth_kind k);

/*
 * Chooses the class. A transport failure wins over any status: TIMEOUT_* -> Timeout,
 * TOO_LARGE -> ResponseTooLarge, the rest -> ConnectionError. With a reply: a 2xx status is
 * OK, or StreamError when error_type is set (an `event: error` after a 200). Otherwise the
 * class comes from error_type when it is a known API type (a 500 whose body says
 * overloaded_error is Overloaded), else from the status: the table rows, other 5xx ->
 * InternalServerError, anything else (408, 418, 3xx) -> APIStatusError. Status 0 with
 * ANTH_T_NONE (no reply at all) -> ConnectionError. error_type may be NULL; "" means none.
 */
anth_kind anth_classify(anth_transport t, long status, const char *error_type);

/*
 * An `event: error` inside a stream whose reply was a 200: no status of its own, only the
 * body's error.type. The class is StreamError (with that .type). Retrying, before any content
 * reached the caller, helps only for the types whose kind is retryable by default
 * (overloaded_error, api_error, rate_limit_error, timeout_error); an unknown, absent or
 * other type (invalid_request_error, authentication_error, ...) is not retried. Returns 0/1.
 */
int anth_stream_error_retryable(const char *error_type);

/*
 * Whether to try again, as the official SDKs decide: transport failures by the rule at the
 * top of this file (x-should-retry is not consulted: no reply carried it). With a reply:
 * 2xx never; 401/403 never; else x_should_retry "true"/"false" (exact, as sent) decides;
 * else 408, 409, 429 and every 5xx (incl. 529) are retried and the rest not. Status 0 with
 * ANTH_T_NONE counts as a connection failure. Returns 0 or 1.
 */
int anth_should_retry(long status, const char *x_should_retry, anth_transport t);

/*
 * Seconds to wait before the next attempt, before jitter. retry_after_ms (milliseconds,
 * decimal fractions allowed) is used when it parses and 0 < value <= cap_s; else
 * retry_after as seconds (integer or decimal) or as an HTTP-date relative to now, under the
 * same 0 < value <= cap_s rule; else exponential backoff min(0.5 * 2^retries_made, 8).
 * Numbers are plain ASCII digits with at most one '.', optional surrounding spaces/tabs: no
 * sign, exponent or trailing junk (such a value means backoff). retries_made < 0 counts as
 * 0; cap_s <= 0 or NaN means the default 60. Header strings may be NULL.
 * *from_header (may be NULL) is set to 1 when the delay came from a header (then the SDKs,
 * and we, do not jitter it), 0 for backoff.
 */
double anth_retry_delay(const char *retry_after_ms, const char *retry_after, time_t now,
                        int retries_made, double cap_s, int *from_header);

/*
 * The delay the server asked for that anth_retry_delay would honour (same rules: retry-after-ms,
 * else retry-after seconds or HTTP-date, each 0 < value <= cap_s), in seconds; -1 when no
 * header gives one (then the engine backs off). Always finite.
 */
double anth_retry_after(const char *retry_after_ms, const char *retry_after, time_t now,
                        double cap_s);

/* seconds * (1 - 0.25 * rand01): up to 25 % shorter. rand01 is clamped to [0, 1] (NaN -> 0);
 * a negative or NaN seconds gives 0. */
double anth_jitter(double seconds, double rand01);

/*
 * Parses an HTTP-date (RFC 9110 5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", or the
 * obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit year read relative to now:
 * more than 50 years ahead means the previous century) and asctime "Sun Nov  6 08:49:37
 * 1994". Surrounding spaces/tabs are allowed, nothing else. No libc time functions: pure
 * day arithmetic, valid for years 0000-9999. Returns 1 and stores seconds since the Unix
 * epoch in *epoch, or 0 when s is not such a date (or names a day that does not exist).
 */
int anth_parse_http_date(const char *s, time_t now, long long *epoch);

#endif
