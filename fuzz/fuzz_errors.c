/*
 * fuzz_errors.c: libFuzzer target for src/errors.c: retry-after / HTTP-date parsing,
 * classification and the retry decision, with arbitrary strings and numbers.
 *
 * Input layout: bytes 0-1 status (mod 700), byte 2 transport (incl. out-of-range values),
 * byte 3 retries_made (signed), byte 4 cap selector, bytes 5-12 "now" (raw int64),
 * bytes 13-20 an instant for the date oracle, then up to four '\n'-separated strings:
 * retry-after-ms, retry-after, error.type, x-should-retry (a missing one is NULL).
 * Besides "no crash, no UB", each run checks invariants and two oracles (strtod for plain
 * decimals, gmtime_r + strftime for dates); any violation abort()s.
 */
#define _POSIX_C_SOURCE 200809L
#include "../src/errors.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FZ_CHECK(cond)                                                                \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_errors: invariant failed at line %d: %s\n", __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static uint64_t fz_u64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static double fz_backoff(int n)
{
    double b = 0.5;
    int i;
    for (i = 0; i < n && i < 4; i++)
        b *= 2;
    return b > 8 ? 8 : b;
}

/* Independent reading of a plain decimal: OWS, [0-9]*(.[0-9]*)?, OWS, with a digit.
 * Returns 1 (value in *v), 0 (not such a decimal) or -1 (too long for this oracle). */
static int fz_plain_decimal(const char *s, double *v)
{
    const char *p = s, *start;
    int digits = 0, dots = 0;
    char buf[64];
    size_t n;
    while (*p == ' ' || *p == '\t')
        p++;
    start = p;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (*p == '.')
            dots++;
        else
            digits++;
    }
    n = (size_t)(p - start);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || !digits || dots > 1)
        return 0;
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, start, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return 1;
}

/* 1: clearly inside (0, cap]; 0: clearly outside; -1: too close to an edge to say. */
static int fz_in_range(double v, double cap)
{
    if (v > 1e-6 && v < cap - 1e-6)
        return 1;
    if (v < -1e-6 || v > cap + 1e-6 || v == 0)
        return 0;
    return -1;
}

/* How far the parser may be from strtod: it drops fraction digits past the ninth, so a
 * value in seconds may read up to (not quite) 1 ns low, and both sides round to a double.
 * At exactly 1e-9 the bound failed on ".0000099999999999999999999" (kept 0.000009999, short
 * of 1e-5 by 1e-9 less 1e-25, which rounding carried past 1e-9); the extra part in a
 * million covers that rounding and nothing a wrong digit could hide in. */
#define FZ_NS_TRUNCATION (1e-9 * (1 + 1e-6))

/* strtod as the oracle for header numbers: a clearly usable retry-after-ms is used as is;
 * a clearly unusable or invalid one hands over to a clearly usable retry-after. */
static void fz_check_decimal_oracle(const char *ms, const char *ra, double got, int from,
                                    double cap)
{
    double v;
    if (ms) {
        int kind = fz_plain_decimal(ms, &v);
        if (kind < 0)
            return;
        if (kind == 1) {
            int in = fz_in_range(v / 1000.0, cap);
            if (in < 0)
                return;
            if (in == 1) {
                FZ_CHECK(from == 1);
                FZ_CHECK(fabs(got - v / 1000.0) <= FZ_NS_TRUNCATION * (v > 1000 ? v / 1000.0 : 1));
                return;
            }
        }
    }
    if (ra && fz_plain_decimal(ra, &v) == 1 && fz_in_range(v, cap) == 1) {
        FZ_CHECK(from == 1);
        FZ_CHECK(fabs(got - v) <= FZ_NS_TRUNCATION * (v > 1 ? v : 1));
    }
}

/* Formats t in the three HTTP-date forms with libc and parses each back. */
static void fz_date_oracle(long long t)
{
    static const char *const fmts[3] = {"%a, %d %b %Y %H:%M:%S GMT",
                                        "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
    time_t tt = (time_t)t;
    struct tm tm;
    char text[64];
    int i;
    if (gmtime_r(&tt, &tm) == NULL)
        return;
    for (i = 0; i < 3; i++) {
        long long got = 0;
        if (strftime(text, sizeof text, fmts[i], &tm) == 0)
            continue;
        FZ_CHECK(anth_parse_http_date(text, tt, &got) == 1);
        FZ_CHECK(got == t);
    }
}

/* Negative oracle for calendars: libc says which day ends t's month (walk forward a day
 * at a time until the month changes); that day must parse and the day after it must not. */
static void fz_month_end_oracle(long long t)
{
    static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm, next;
    char text[64];
    long long got;
    int last;
    if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999)
        return;
    for (;;) {
        tt += 86400;
        if (gmtime_r(&tt, &next) == NULL)
            return;
        if (next.tm_mon != tm.tm_mon)
            break;
        tm = next;
    }
    last = tm.tm_mday;
    snprintf(text, sizeof text, "Sun, %02d %s %04d 12:00:00 GMT", last, mon[tm.tm_mon],
             tm.tm_year + 1900);
    FZ_CHECK(anth_parse_http_date(text, 0, &got) == 1);
    snprintf(text, sizeof text, "Sun, %02d %s %04d 12:00:00 GMT", last + 1, mon[tm.tm_mon],
             tm.tm_year + 1900);
    FZ_CHECK(anth_parse_http_date(text, 0, &got) == 0);
}

/* A string that parsed must name exactly the instant we got: libc formats that instant
 * again (without the day name, which is not cross-checked) and one of the forms must match
 * what followed the day name. This catches dates accepted that do not exist (31 Apr,
 * 29 Feb 1900), which a parse-format-parse loop would not. Leap seconds (":60") are
 * normalised by libc and skipped. */
static void fz_check_parsed_date(const char *s, long long when)
{
    static const char *const tails[4] = {" %d %b %Y %H:%M:%S GMT", " %d-%b-%y %H:%M:%S GMT",
                                         " %b %e %H:%M:%S %Y", " %b %d %H:%M:%S %Y"};
    char text[64], body[64];
    const char *p = s, *q;
    size_t n;
    time_t tt = (time_t)when;
    struct tm tm;
    int i;
    if (strstr(s, ":60") || gmtime_r(&tt, &tm) == NULL)
        return;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p && *p != ',' && *p != ' ')
        p++; /* past the day name */
    if (*p == ',')
        p++;
    q = p + strlen(p);
    while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
        q--;
    n = (size_t)(q - p);
    FZ_CHECK(n < sizeof body);
    memcpy(body, p, n);
    body[n] = '\0';
    for (i = 0; i < 4; i++)
        if (strftime(text, sizeof text, tails[i], &tm) && strcmp(text, body) == 0)
            return;
    FZ_CHECK(!"parsed date does not name the instant it returned");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *field[4] = {NULL, NULL, NULL, NULL}, *p;
    long status;
    anth_transport t;
    int retries, from = -1, nf = 0, should;
    double cap, eff_cap, delay, j, r01;
    time_t now;
    long long when, t_oracle;
    const long long lo = -30610224000LL, hi = 253402300799LL; /* years 1000..9999 */
    anth_kind k;
    if (size < 21)
        return 0;
    status = (long)(((unsigned)data[0] << 8 | data[1]) % 700);
    t = (anth_transport)(data[2] % 9);
    retries = (int)(signed char)data[3];
    switch (data[4]) {
    case 0:
        cap = 60;
        break;
    case 1:
        cap = 0;
        break;
    case 2:
        cap = NAN;
        break;
    case 3:
        cap = -1;
        break;
    default:
        cap = data[4];
    }
    eff_cap = cap > 0 ? cap : 60;
    now = (time_t)(int64_t)fz_u64(data + 5);
    t_oracle = lo + (long long)(fz_u64(data + 13) % (uint64_t)(hi - lo + 1));

    text = malloc(size - 21 + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 21, size - 21);
    text[size - 21] = '\0';
    /* Fields end at '\n'; a NUL inside simply ends that C string early. */
    p = text;
    for (nf = 0; nf < 4 && p != NULL; nf++) {
        char *nl = strchr(p, '\n');
        field[nf] = p;
        if (nl != NULL)
            *nl++ = '\0';
        p = nl;
    }

    /* delay */
    delay = anth_retry_delay(field[0], field[1], now, retries, cap, &from);
    FZ_CHECK(from == 0 || from == 1);
    if (from)
        FZ_CHECK(delay > 0 && delay <= eff_cap);
    else
        FZ_CHECK(delay == fz_backoff(retries < 0 ? 0 : retries));
    fz_check_decimal_oracle(field[0], field[1], delay, from, eff_cap);
    r01 = (double)data[20] / 255.0;
    j = anth_jitter(delay, r01);
    FZ_CHECK(j <= delay && j >= 0.75 * delay);

    /* dates: whatever parses must survive a libc round trip */
    if (field[1] && anth_parse_http_date(field[1], now, &when)) {
        FZ_CHECK(when >= -62167219200LL && when <= hi);
        if (when >= lo) {
            fz_date_oracle(when);
            fz_check_parsed_date(field[1], when);
        }
    }
    fz_date_oracle(t_oracle);
    fz_month_end_oracle(t_oracle);

    /* classification */
    k = anth_classify(t, status, field[2]);
    FZ_CHECK((int)k >= 0 && k < ANTH_KIND__COUNT);
    FZ_CHECK(anth_kind_name(k) && anth_kind_name(k)[0]);
    if (t != ANTH_T_NONE)
        FZ_CHECK(k == ANTH_KIND_CONNECTION_ERROR || k == ANTH_KIND_TIMEOUT ||
                 k == ANTH_KIND_RESPONSE_TOO_LARGE);
    else if (status >= 200 && status <= 299)
        FZ_CHECK(k == ANTH_KIND_OK || k == ANTH_KIND_STREAM_ERROR);
    else
        FZ_CHECK(k != ANTH_KIND_OK && k != ANTH_KIND_STREAM_ERROR);
    should = anth_should_retry(status, field[3], t);
    FZ_CHECK(should == 0 || should == 1);
    if (t == ANTH_T_NONE && (status == 401 || status == 403 || (status >= 200 && status <= 299)))
        FZ_CHECK(should == 0);
    free(text);
    return 0;
}
