/*
 * redact.h: finds where a credential sits in a text so that no part of it is ever shown.
 * The rule: no run of ANTH_REDACT_MIN_RUN or more consecutive characters of a secret survives,
 * wherever it sits (any offset, cut off at either end, repeated, overlapping). A secret shorter
 * than that is matched whole. Plain C (no Lua, no curl); linear in the text's length: every
 * window of ANTH_REDACT_MIN_RUN bytes is looked up once in a small hash set of the secret's
 * windows, so a 2 MB body holding the key 100,000 times costs one pass, not one per match.
 */
#ifndef ANTH_REDACT_H
#define ANTH_REDACT_H

#include <stddef.h>

#define ANTH_REDACT_MIN_RUN 8
#define ANTH_REDACT_MARK "[redacted]"

/* Sets covered[i] = 1 for every byte of text[0..n) inside a run of at least
 * min(ANTH_REDACT_MIN_RUN, len) consecutive characters of secret[0..len); bytes already set
 * stay set, so several secrets mark one array. With covered == NULL it only answers whether
 * there is such a run. Returns 1 when something was found, 0 when not, -1 when out of memory
 * (nothing can be claimed then: the caller must not show the text). */
int anth_redact_mark(const char *text, size_t n, const char *secret, size_t len,
                     unsigned char *covered);

/* The length of text with every maximal covered run replaced by ANTH_REDACT_MARK. */
size_t anth_redact_size(size_t n, const unsigned char *covered);

/* Writes that text into out (anth_redact_size() bytes, no NUL added); returns its length. */
size_t anth_redact_apply(const char *text, size_t n, const unsigned char *covered, char *out);

#endif
