/*
 * redact.c: see redact.h. The windows of a secret (every ANTH_REDACT_MIN_RUN-byte substring)
 * go into an open-addressing set of 64-bit words; the text is then read one window per byte.
 * A run of k >= ANTH_REDACT_MIN_RUN secret characters in the text contains k - 7 windows of
 * the secret that between them cover all k bytes, so marking each window found marks the run.
 */
#include "redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MARK_LEN (sizeof ANTH_REDACT_MARK - 1)

typedef struct {
    uint64_t *slots;
    unsigned char *used;
    size_t mask;
    int bits;
} window_set;

static uint64_t window_at(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);   /* ANTH_REDACT_MIN_RUN == sizeof(uint64_t) */
    return w;
}

static size_t slot_of(const window_set *s, uint64_t w)
{
    return (size_t)((w * 0x9E3779B97F4A7C15ULL) >> (64 - s->bits)) & s->mask;
}

static int set_init(window_set *s, size_t count)
{
    size_t cap = 16;
    s->bits = 4;
    while (cap < 2 * count) {
        cap *= 2;
        s->bits++;
    }
    s->mask = cap - 1;
    s->slots = malloc(cap * sizeof *s->slots);
    s->used = calloc(cap, 1);
    if (s->slots == NULL || s->used == NULL) {
        free(s->slots);
        free(s->used);
        return -1;
    }
    return 0;
}

static void set_add(window_set *s, uint64_t w)
{
    size_t i = slot_of(s, w);
    while (s->used[i]) {
        if (s->slots[i] == w)
            return;
        i = (i + 1) & s->mask;
    }
    s->used[i] = 1;
    s->slots[i] = w;
}

static int set_has(const window_set *s, uint64_t w)
{
    size_t i = slot_of(s, w);
    while (s->used[i]) {
        if (s->slots[i] == w)
            return 1;
        i = (i + 1) & s->mask;
    }
    return 0;
}

/* A secret shorter than one window: whole occurrences only. */
static int mark_short(const char *text, size_t n, const char *secret, size_t len,
                      unsigned char *covered)
{
    size_t i;
    int found = 0;
    if (len > n)
        return 0;
    for (i = 0; i + len <= n; i++) {
        if (text[i] == secret[0] && memcmp(text + i, secret, len) == 0) {
            if (covered == NULL)
                return 1;
            memset(covered + i, 1, len);
            found = 1;
        }
    }
    return found;
}

int anth_redact_mark(const char *text, size_t n, const char *secret, size_t len,
                     unsigned char *covered)
{
    window_set set;
    size_t i;
    int found = 0;
    if (len == 0 || n == 0)
        return 0;
    if (len < ANTH_REDACT_MIN_RUN)
        return mark_short(text, n, secret, len, covered);
    if (n < ANTH_REDACT_MIN_RUN)
        return 0;
    if (set_init(&set, len - ANTH_REDACT_MIN_RUN + 1) != 0)
        return -1;
    for (i = 0; i + ANTH_REDACT_MIN_RUN <= len; i++)
        set_add(&set, window_at(secret + i));
    for (i = 0; i + ANTH_REDACT_MIN_RUN <= n; i++) {
        if (set_has(&set, window_at(text + i))) {
            found = 1;
            if (covered == NULL)
                break;
            memset(covered + i, 1, ANTH_REDACT_MIN_RUN);
        }
    }
    free(set.slots);
    free(set.used);
    return found;
}

size_t anth_redact_size(size_t n, const unsigned char *covered)
{
    size_t i = 0, size = 0;
    while (i < n) {
        if (covered[i]) {
            while (i < n && covered[i])
                i++;
            size += MARK_LEN;
        } else {
            size++;
            i++;
        }
    }
    return size;
}

size_t anth_redact_apply(const char *text, size_t n, const unsigned char *covered, char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t start = i;
        if (covered[i]) {
            while (i < n && covered[i])
                i++;
            memcpy(out + o, ANTH_REDACT_MARK, MARK_LEN);
            o += MARK_LEN;
        } else {
            while (i < n && !covered[i])
                i++;
            memcpy(out + o, text + start, i - start);
            o += i - start;
        }
    }
    return o;
}
