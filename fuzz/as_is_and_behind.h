/*
 * as_is_and_behind.h: for the frame matchers' fuzz targets (fuzz_bedrock_chunk.c,
 * fuzz_text_delta.c). Runs one(s, n) on each input as it is and behind the frame's fixed
 * head, so that most inputs get past the head to the parts worth fuzzing; each run gets an
 * exact-size copy, so that ASan sees any read past n. Header-only: each target is one
 * translation unit.
 */
#ifndef ANTH_FUZZ_AS_IS_AND_BEHIND_H
#define ANTH_FUZZ_AS_IS_AND_BEHIND_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void run_copy(void (*one)(const char *, size_t), const char *head, size_t hlen,
                     const uint8_t *data, size_t size)
{
    size_t n = hlen + size;
    char *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, head, hlen);
    memcpy(copy + hlen, data, size);
    one(copy, n);
    free(copy);
}

static void as_is_and_behind(void (*one)(const char *, size_t), const char *head,
                             const uint8_t *data, size_t size)
{
    run_copy(one, "", 0, data, size);
    run_copy(one, head, strlen(head), data, size);
}

#endif
