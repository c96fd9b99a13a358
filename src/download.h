/*
 * download.h: a reply body written to a file as it arrives, plain C (no Lua, no curl).
 *
 * The bytes go to a temporary file beside the target (same directory, so the final rename is
 * atomic on one file system); only a complete download is renamed over the target. A failed,
 * cancelled or abandoned download removes its temporary file and leaves the target as it was.
 *
 * Invariants:
 * - Memory is one stdio buffer, whatever the size of the body.
 * - A new attempt (a retry) starts the file again from zero.
 * - After commit or discard the sink holds no file; discard is idempotent.
 */
#ifndef ANTH_DOWNLOAD_H
#define ANTH_DOWNLOAD_H

#include <stddef.h>
#include <stdio.h>

typedef struct anth_sink {
    FILE *f;                      /* the temporary file, NULL when none is open */
    char *path;                   /* the target */
    char *tmp;                    /* the temporary file's name while it exists */
    unsigned long long bytes;     /* written in this attempt */
    int err;                      /* errno of the first failed write, 0 if none */
    int committed;
} anth_sink;

/* Opens a temporary file for `path`. Returns 0, or -1 with a message in err (nothing left
 * behind; anth_sink_discard is still safe to call). */
int anth_sink_open(anth_sink *s, const char *path, char *err, size_t errlen);
/* Appends n bytes. Returns 0, or -1 (s->err says why; later writes fail too). */
int anth_sink_write(anth_sink *s, const void *p, size_t n);
/* Empties the file for a new attempt (reopening one if commit or discard closed it). */
int anth_sink_restart(anth_sink *s, char *err, size_t errlen);
/* Flushes, closes and renames the file over the target. Returns 0, or -1 with a message
 * (the temporary file is then removed). */
int anth_sink_commit(anth_sink *s, char *err, size_t errlen);
/* Closes and removes the temporary file, if any. Frees nothing else. */
void anth_sink_discard(anth_sink *s);
/* Discards and frees the names. */
void anth_sink_free(anth_sink *s);

#endif
