/*
 * errors.c: failure typing, retry decision and retry delay (see errors.h for the rules).
 *
 * All class facts come from ANTH_KIND_LIST, expanded once into anth_kinds[]; the lookups
 * below are loops over that table, not chains of ifs. Header parsing is strict and
 * overflow-safe: numbers are read digit by digit with a bound, dates with civil-day
 * arithmetic on long long, so no input can reach undefined behaviour or libc locale rules.
 */
#include "errors.h"

#include <stddef.h>
#include <string.h>

#include <curl/curl.h>   /* the CURLcode names only */

typedef struct anth_kind_row {
    const char *name, *parent;
    int status;
    const char *type;
    int retryable;
} anth_kind_row;

static const anth_kind_row anth_kinds[ANTH_KIND__COUNT] = {
#define ANTH_KIND_ROW(id, name, parent, status, type, retry) {name, parent, status, type, retry},
    ANTH_KIND_LIST(ANTH_KIND_ROW)
#undef ANTH_KIND_ROW
};

#define ANTH_DEFAULT_CAP_S 60.0
#define ANTH_BACKOFF_BASE_S 0.5
#define ANTH_BACKOFF_MAX_S 8.0

static int anth_kind_valid(anth_kind k)
{
    return (int)k >= 0 && (int)k < ANTH_KIND__COUNT;
}

const char *anth_kind_name(anth_kind k)
{
    return anth_kind_valid(k) ? anth_kinds[k].name : "AnthropicError";
}

const char *anth_kind_parent(anth_kind k)
{
    return anth_kind_valid(k) ? anth_kinds[k].parent : "";
}

int anth_kind_status(anth_kind k)
{
    return anth_kind_valid(k) ? anth_kinds[k].status : 0;
}

const char *anth_kind_error_type(anth_kind k)
{
    return anth_kind_valid(k) ? anth_kinds[k].type : NULL;
}

int anth_kind_retryable(anth_kind k)
{
    return anth_kind_valid(k) ? anth_kinds[k].retryable : 0;
}

/* ANTH_KIND__COUNT when the type is absent or not one the API documents. */
static anth_kind anth_kind_by_type(const char *type)
{
    int i;
    if (type == NULL || type[0] == '\0')
        return ANTH_KIND__COUNT;
    for (i = 0; i < ANTH_KIND__COUNT; i++)
        if (anth_kinds[i].type && strcmp(anth_kinds[i].type, type) == 0)
            return (anth_kind)i;
    return ANTH_KIND__COUNT;
}

static anth_kind anth_kind_by_status(long status)
{
    int i;
    for (i = 0; i < ANTH_KIND__COUNT; i++)
        if (anth_kinds[i].status != 0 && anth_kinds[i].status == status)
            return (anth_kind)i;
    if (status >= 500 && status <= 599)
        return ANTH_KIND_INTERNAL_SERVER_ERROR;
    return ANTH_KIND_API_STATUS_ERROR;
}

anth_kind anth_classify(anth_transport t, long status, const char *error_type)
{
    anth_kind by_type;
    switch (t) {
    case ANTH_T_NONE:
        break;
    case ANTH_T_TIMEOUT_CONNECT:
    case ANTH_T_TIMEOUT_TOTAL:
    case ANTH_T_TIMEOUT_IDLE:
        return ANTH_KIND_TIMEOUT;
    case ANTH_T_TOO_LARGE:
        return ANTH_KIND_RESPONSE_TOO_LARGE;
    default:
        return ANTH_KIND_CONNECTION_ERROR;
    }
    if (status == 0)
        return ANTH_KIND_CONNECTION_ERROR;
    if (status >= 200 && status <= 299)
        return error_type && error_type[0] ? ANTH_KIND_STREAM_ERROR : ANTH_KIND_OK;
    by_type = anth_kind_by_type(error_type);
    return by_type != ANTH_KIND__COUNT ? by_type : anth_kind_by_status(status);
}

int anth_stream_error_retryable(const char *error_type)
{
    anth_kind k = anth_kind_by_type(error_type);
    return k != ANTH_KIND__COUNT && anth_kinds[k].retryable;
}

/* ---- transport outcomes -------------------------------------------------------------- */

/* Indexed by anth_transport. */
static const char *const anth_transport_names[] = {
    "none", "connect", "partial", "reset", "timeout_connect", "timeout_total", "timeout_idle",
    "too_large", "aborted", "other"
};

const char *anth_transport_name(anth_transport t)
{
    if ((int)t < 0 || (int)t > (int)ANTH_T_OTHER)
        return "other";
    return anth_transport_names[t];
}

anth_transport anth_transport_by_name(const char *s, int *found)
{
    int i;
    for (i = 0; s && i <= (int)ANTH_T_OTHER; i++)
        if (strcmp(anth_transport_names[i], s) == 0) {
            if (found)
                *found = 1;
            return (anth_transport)i;
        }
    if (found)
        *found = 0;
    return ANTH_T_OTHER;
}

anth_transport anth_transport_from_curl(int curl_code, int cut_too_large, int ready_to_send)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        return ANTH_T_NONE;
    case CURLE_OPERATION_TIMEDOUT:
        return ready_to_send ? ANTH_T_TIMEOUT_TOTAL : ANTH_T_TIMEOUT_CONNECT;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_OUT_OF_MEMORY:
        return cut_too_large ? ANTH_T_TOO_LARGE : ANTH_T_OTHER;
    case CURLE_PARTIAL_FILE:
        return ANTH_T_PARTIAL;
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2_STREAM:
        return ANTH_T_RESET;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_HTTP2:
    case CURLE_PROXY:
        return ANTH_T_CONNECT;
    default:
        return ANTH_T_OTHER;
    }
}

int anth_should_retry(long status, const char *x_should_retry, anth_transport t)
{
    switch (t) {
    case ANTH_T_NONE:
        break;
    case ANTH_T_CONNECT:
    case ANTH_T_PARTIAL:
    case ANTH_T_RESET:
    case ANTH_T_TIMEOUT_CONNECT:
    case ANTH_T_TIMEOUT_TOTAL:
    case ANTH_T_TIMEOUT_IDLE:
        return 1;
    default: /* TOO_LARGE, ABORTED, OTHER and unknown codes */
        return 0;
    }
    if (status == 0)
        return 1;
    if ((status >= 200 && status <= 299) || status == 401 || status == 403)
        return 0;
    if (x_should_retry) {
        if (strcmp(x_should_retry, "true") == 0)
            return 1;
        if (strcmp(x_should_retry, "false") == 0)
            return 0;
    }
    return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

/* ---- header values ----------------------------------------------------------------- */

static int anth_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int anth_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * A non-negative decimal: digits, at most one '.', at least one digit, optional spaces or
 * tabs around it. Integer digits stop accumulating past 1e15 (the value is then far above
 * any cap, which is all that matters); fraction digits past the 9th are checked, not used.
 * When all kept digits fit in 2^53 they form one exact mantissa and a single, correctly
 * rounded division by a power of ten gives the nearest double: "0.2" is the same double as
 * 200/1000.0 and as the literal 0.2.
 */
static int anth_parse_decimal(const char *s, double *out)
{
    double ipart = 0.0, frac = 0.0, scale = 1.0;
    int any = 0;
    while (anth_is_ows(*s))
        s++;
    for (; anth_is_digit(*s); s++, any = 1)
        if (ipart < 1e15)
            ipart = ipart * 10.0 + (*s - '0');
    if (*s == '.') {
        int fdigits = 0;
        for (s++; anth_is_digit(*s); s++, any = 1)
            if (fdigits < 9) {
                frac = frac * 10.0 + (*s - '0');
                scale *= 10.0;
                fdigits++;
            }
    }
    while (anth_is_ows(*s))
        s++;
    if (*s != '\0' || !any)
        return 0;
    /* Both terms are integers; below 2^53 their sum is exact (and at or above it the
     * rounded sum is too, so the test cannot be fooled). */
    if (ipart * scale + frac < 9007199254740992.0)
        *out = (ipart * scale + frac) / scale;
    else
        *out = ipart + frac / scale;
    return 1;
}

/* ---- HTTP-date ------------------------------------------------------------------------ */

static const char anth_months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char anth_wdays[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const anth_wdays_long[7] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long anth_days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The Gregorian year containing day z (days since 1970-01-01): civil_from_days, year only. */
static long long anth_year_from_days(long long z)
{
    long long era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10); /* months Jan/Feb (mp 10, 11) belong to next year */
}

static int anth_days_in_month(long long y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* Reads exactly n digits. */
static int anth_digits(const char **pp, int n, int *out)
{
    const char *p = *pp;
    int v = 0, i;
    for (i = 0; i < n; i++, p++) {
        if (!anth_is_digit(*p))
            return 0;
        v = v * 10 + (*p - '0');
    }
    *pp = p;
    *out = v;
    return 1;
}

static int anth_lit(const char **pp, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*pp, lit, n) != 0)
        return 0;
    *pp += n;
    return 1;
}

/* Month name -> 1..12, 0 when none. */
static int anth_month(const char **pp)
{
    int i;
    for (i = 0; i < 12; i++)
        if (anth_lit(pp, anth_months[i]))
            return i + 1;
    return 0;
}

/* "HH:MM:SS"; 60 seconds is allowed for a leap second. */
static int anth_time_of_day(const char **pp, int *h, int *mi, int *s)
{
    return anth_digits(pp, 2, h) && anth_lit(pp, ":") && anth_digits(pp, 2, mi) &&
           anth_lit(pp, ":") && anth_digits(pp, 2, s) && *h <= 23 && *mi <= 59 && *s <= 60;
}

int anth_parse_http_date(const char *s, time_t now, long long *epoch)
{
    const char *p = s;
    int i, form = 0, day = 0, mon = 0, year = 0, h = 0, mi = 0, sec = 0;
    long long y;
    while (anth_is_ows(*p))
        p++;
    /* The day name decides the form: "Sun," IMF, "Sunday," RFC 850, "Sun " asctime. */
    for (i = 0; i < 7 && form == 0; i++) {
        const char *q = p;
        if (anth_lit(&q, anth_wdays_long[i]) && *q == ',') {
            form = 2;
        } else {
            q = p;
            if (anth_lit(&q, anth_wdays[i]) && (*q == ',' || *q == ' '))
                form = *q == ',' ? 1 : 3;
        }
        if (form)
            p = q;
    }
    if (form == 1) { /* Sun, 06 Nov 1994 08:49:37 GMT */
        if (!(anth_lit(&p, ", ") && anth_digits(&p, 2, &day) && anth_lit(&p, " ") &&
              (mon = anth_month(&p)) && anth_lit(&p, " ") && anth_digits(&p, 4, &year) &&
              anth_lit(&p, " ") && anth_time_of_day(&p, &h, &mi, &sec) && anth_lit(&p, " GMT")))
            return 0;
        y = year;
    } else if (form == 2) { /* Sunday, 06-Nov-94 08:49:37 GMT */
        long long now_year, guess;
        long long nd = (long long)now / 86400;
        if ((long long)now % 86400 < 0)
            nd--;
        if (!(anth_lit(&p, ", ") && anth_digits(&p, 2, &day) && anth_lit(&p, "-") &&
              (mon = anth_month(&p)) && anth_lit(&p, "-") && anth_digits(&p, 2, &year) &&
              anth_lit(&p, " ") && anth_time_of_day(&p, &h, &mi, &sec) && anth_lit(&p, " GMT")))
            return 0;
        /* RFC 9110: a two-digit year more than 50 years ahead is the most recent past
         * year with those digits. So the year is the one in (now - 50, now + 50] that ends
         * in them. */
        now_year = anth_year_from_days(nd);
        guess = now_year - now_year % 100 + year;
        if (guess > now_year + 50)
            guess -= 100;
        else if (guess <= now_year - 50)
            guess += 100;
        y = guess;
    } else if (form == 3) { /* Sun Nov  6 08:49:37 1994 */
        if (!(anth_lit(&p, " ") && (mon = anth_month(&p)) && anth_lit(&p, " ")))
            return 0;
        if (*p == ' ') {
            p++;
            if (!anth_digits(&p, 1, &day))
                return 0;
        } else if (!anth_digits(&p, 2, &day)) {
            return 0;
        }
        if (!(anth_lit(&p, " ") && anth_time_of_day(&p, &h, &mi, &sec) && anth_lit(&p, " ") &&
              anth_digits(&p, 4, &year)))
            return 0;
        y = year;
    } else {
        return 0;
    }
    while (anth_is_ows(*p))
        p++;
    /* Only an RFC 850 year can leave 0..9999 (when now is far off); refusing it keeps
     * the seconds arithmetic below far from overflow. */
    if (*p != '\0' || y < 0 || y > 9999 || day < 1 || day > anth_days_in_month(y, mon))
        return 0;
    *epoch = anth_days_from_civil(y, mon, day) * 86400 + h * 3600LL + mi * 60LL + sec;
    return 1;
}

/* ---- delay -------------------------------------------------------------------------- */

double anth_retry_after(const char *retry_after_ms, const char *retry_after, time_t now,
                        double cap_s)
{
    double v;
    long long when;
    if (!(cap_s > 0.0))
        cap_s = ANTH_DEFAULT_CAP_S;
    if (retry_after_ms && anth_parse_decimal(retry_after_ms, &v)) {
        v /= 1000.0;
        if (v > 0.0 && v <= cap_s)
            return v;
    }
    if (retry_after) {
        if (anth_parse_decimal(retry_after, &v)) {
            if (v > 0.0 && v <= cap_s)
                return v;
        } else if (anth_parse_http_date(retry_after, now, &when)) {
            /* In double: now is arbitrary and the difference must not overflow. */
            v = (double)when - (double)now;
            if (v > 0.0 && v <= cap_s)
                return v;
        }
    }
    return -1.0;
}

double anth_retry_delay(const char *retry_after_ms, const char *retry_after, time_t now,
                        int retries_made, double cap_s, int *from_header)
{
    double v = anth_retry_after(retry_after_ms, retry_after, now, cap_s), backoff;
    if (from_header)
        *from_header = v >= 0.0;
    if (v >= 0.0)
        return v;
    /* min(0.5 * 2^n, 8) without pow(): 0.5 * 2^4 is already the ceiling. */
    backoff = ANTH_BACKOFF_BASE_S;
    for (; retries_made > 0 && backoff < ANTH_BACKOFF_MAX_S; retries_made--)
        backoff *= 2.0;
    return backoff < ANTH_BACKOFF_MAX_S ? backoff : ANTH_BACKOFF_MAX_S;
}

double anth_jitter(double seconds, double rand01)
{
    if (!(seconds > 0.0))
        return 0.0;
    if (!(rand01 > 0.0))
        rand01 = 0.0;
    else if (rand01 > 1.0)
        rand01 = 1.0;
    return seconds * (1.0 - 0.25 * rand01);
}
