/*
 * errors_aws.c: the lookup declared in errors_aws.h.
 */
#include "errors_aws.h"

#include <string.h>

typedef struct anth_aws_row {
    const char *name;
    anth_kind kind;
} anth_aws_row;

static const anth_aws_row anth_aws_rows[] = {
#define ANTH_AWS_ROW(name, kind) {name, ANTH_KIND_##kind},
    ANTH_AWS_ERROR_LIST(ANTH_AWS_ROW)
#undef ANTH_AWS_ROW
};

anth_kind anth_aws_kind(const char *type, size_t len)
{
    const char *colon;
    size_t i;
    if (type == NULL)
        return ANTH_KIND__COUNT;
    while (len > 0 && (type[0] == ' ' || type[0] == '\t')) {
        type++;
        len--;
    }
    if ((colon = memchr(type, ':', len)) != NULL)
        len = (size_t)(colon - type);
    while (len > 0 && (type[len - 1] == ' ' || type[len - 1] == '\t'))
        len--;
    if (len == 0)
        return ANTH_KIND__COUNT;
    for (i = 0; i < sizeof anth_aws_rows / sizeof anth_aws_rows[0]; i++) {
        const char *n = anth_aws_rows[i].name;
        /* Exception frames spell the first letter in lower case. */
        if (strlen(n) == len && (type[0] == n[0] || type[0] == n[0] + 32) &&
            memcmp(type + 1, n + 1, len - 1) == 0)
            return anth_aws_rows[i].kind;
    }
    return ANTH_KIND__COUNT;
}
