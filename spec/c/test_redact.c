/*
 * test_redact.c: unit tests for src/redact.c. A table of texts with the expected output, then
 * thousands of random texts built from pieces of the secret, checked against the oracle.
 */
#include "check.h"
#include "redact_oracle.h"

#include "../../src/redact.h"

#include <stdlib.h>

static const char *KEY = "sk-ant-mock-free";

/* text with every run of secret replaced, as a malloc'd NUL-terminated string */
static char *redacted(const char *text, const char *secret)
{
    size_t n = strlen(text);
    unsigned char *covered = calloc(n + 1, 1);
    char *out;
    size_t len;
    if (anth_redact_mark(text, n, secret, strlen(secret), covered) < 0) {
        free(covered);
        return NULL;
    }
    out = malloc(anth_redact_size(n, covered) + 1);
    len = anth_redact_apply(text, n, covered, out);
    out[len] = '\0';
    free(covered);
    return out;
}

static void row(const char *text, const char *secret, const char *want)
{
    char *got = redacted(text, secret);
    CHECK_STR(got, want, "redact(%s)", text);
    free(got);
}

static void table(void)
{
    row("", KEY, "");
    row("nothing here", KEY, "nothing here");
    row("sk-ant-mock-free", KEY, "[redacted]");
    row("x-api-key: sk-ant-mock-free\r\n", KEY, "x-api-key: [redacted]\r\n");
    row("sk-ant-mock-freesk-ant-mock-free", KEY, "[redacted]");
    row("a sk-ant-mock-free b sk-ant-mock-free c", KEY, "a [redacted] b [redacted] c");
    /* cut at either end: any 8 characters of the key are enough */
    row("...sk-ant-m", KEY, "...[redacted]");
    row("ock-free...", KEY, "[redacted]...");
    row("nt-mock-", KEY, "[redacted]");
    /* 7 characters are not a run (the key's prefix "sk-ant-" is common text) */
    row("sk-ant-", KEY, "sk-ant-");
    row("ck-free", KEY, "ck-free");
    /* overlapping runs that together are not the key are still runs */
    row("sk-ant-mock-sk-ant-mock-free", KEY, "[redacted]");
    row("<p>sk-ant-mock-fre</p>", KEY, "<p>[redacted]</p>");
    /* a short secret matches whole only */
    row("token abc token", "abc", "token [redacted] token");
    row("ab", "abc", "ab");
    row("abcabc", "abc", "[redacted]");
}

static void checks_only(void)
{
    const char *t = "header sk-ant-mock-free";
    CHECK(anth_redact_mark(t, strlen(t), KEY, strlen(KEY), NULL) == 1, "found without marking");
    CHECK(anth_redact_mark("plain", 5, KEY, strlen(KEY), NULL) == 0, "nothing found");
    CHECK(anth_redact_mark(t, strlen(t), "", 0, NULL) == 0, "empty secret finds nothing");
}

/* Random texts over a small alphabet plus pieces of the secret, against the oracle. */
static void random_rows(void)
{
    static const char *secrets[] = { "sk-ant-mock-free", "abababababab", "aaaaaaaaa", "xy",
                                     "sk-ant-api03-ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ" };
    char text[200];
    unsigned char want[200], got[200];
    int round, bad = 0;
    srand(15);
    for (round = 0; round < 20000; round++) {
        const char *secret = secrets[round % 5];
        size_t len = strlen(secret), n = 0, target = (size_t)(rand() % 190);
        while (n < target) {
            if (rand() % 3 == 0) {
                size_t from = (size_t)rand() % len, k = 1 + (size_t)rand() % len;
                if (from + k > len)
                    k = len - from;
                if (n + k > target)
                    k = target - n;
                memcpy(text + n, secret + from, k);
                n += k;
            } else {
                text[n++] = "ab -kx\n"[rand() % 7];
            }
        }
        memset(want, 0, n);
        memset(got, 0, n);
        oracle_mark(text, n, secret, len, want);
        if (anth_redact_mark(text, n, secret, len, got) < 0 || memcmp(want, got, n) != 0)
            bad++;
    }
    CHECK(bad == 0, "20000 random texts agree with the oracle (%d did not)", bad);
}

static void linear(void)
{
    /* 2 MB holding the key 100,000 times: one pass (the Lua spec shows it takes milliseconds) */
    size_t n = 100000 * 20, i;
    char *text = malloc(n);
    unsigned char *covered = calloc(n, 1);
    for (i = 0; i < 100000; i++) {
        memcpy(text + i * 20, KEY, 16);
        memcpy(text + i * 20 + 16, ", \n ", 4);
    }
    CHECK(anth_redact_mark(text, n, KEY, 16, covered) == 1, "found");
    CHECK(anth_redact_size(n, covered) == 100000 * 14, "every key replaced");
    free(text);
    free(covered);
}

int main(void)
{
    table();
    checks_only();
    random_rows();
    linear();
    return anth_check_done();
}
