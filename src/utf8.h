/*
 * utf8.h: strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF). The API rejects request bodies with invalid UTF-8; checking in C lets the Lua
 * side validate a whole encoded body in one pass and only walk the table to name the field
 * when something is wrong.
 */
#ifndef ANTH_UTF8_H
#define ANTH_UTF8_H

#include <stddef.h>

/* Returns len when s[0..len) is valid UTF-8, else the offset of the first invalid byte. */
size_t anth_utf8_check(const char *s, size_t len);

#endif
