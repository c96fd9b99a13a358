/*
 * check.h: the smallest test harness that does the job for the C unit tests. Each CHECK is
 * one assertion (one table row); failures print file:line and a message to stderr, and
 * anth_check_done() prints the final "N passed, M failed" line and gives the exit status.
 * Header-only on purpose: each test program is one translation unit.
 */
#ifndef ANTH_CHECK_H
#define ANTH_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int anth_check_passed, anth_check_failed;

/* CHECK(condition, printf-format, args...): the message describes the row. */
#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (cond) {                                                                       \
            anth_check_passed++;                                                          \
        } else {                                                                          \
            anth_check_failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                          \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
        }                                                                                 \
    } while (0)

/* Compares two NUL-terminated strings and shows both on failure. */
#define CHECK_STR(got, want, ...)                                                         \
    do {                                                                                  \
        const char *anth_g_ = (got), *anth_w_ = (want);                                   \
        int anth_ok_ = anth_g_ && anth_w_ && strcmp(anth_g_, anth_w_) == 0;               \
        CHECK(anth_ok_, __VA_ARGS__);                                                     \
        if (!anth_ok_)                                                                    \
            fprintf(stderr, "    got:  %s\n    want: %s\n", anth_g_ ? anth_g_ : "(null)",  \
                    anth_w_ ? anth_w_ : "(null)");                                        \
    } while (0)

static int anth_check_done(void)
{
    printf("%d passed, %d failed\n", anth_check_passed, anth_check_failed);
    return anth_check_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
