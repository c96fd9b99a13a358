/*
 * redact_oracle.h: the slow, obviously right answer to "which bytes of the text lie in a run
 * of the secret?", for the unit test and the fuzz target to compare src/redact.c against:
 * for every start and every run length, is text[i..i+k) a substring of the secret?
 */
#ifndef ANTH_REDACT_ORACLE_H
#define ANTH_REDACT_ORACLE_H

#include <stddef.h>
#include <string.h>

#include "../../src/redact.h"

static int oracle_in_secret(const char *run, size_t k, const char *secret, size_t len)
{
    size_t j;
    for (j = 0; j + k <= len; j++)
        if (memcmp(secret + j, run, k) == 0)
            return 1;
    return 0;
}

static void oracle_mark(const char *text, size_t n, const char *secret, size_t len,
                        unsigned char *covered)
{
    size_t i, k, min = len < ANTH_REDACT_MIN_RUN ? len : ANTH_REDACT_MIN_RUN;
    if (len == 0)
        return;
    for (i = 0; i + min <= n; i++)
        for (k = min; k <= len && i + k <= n; k++)
            if (oracle_in_secret(text + i, k, secret, len))
                memset(covered + i, 1, k);
}

#endif
