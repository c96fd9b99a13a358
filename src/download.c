/*
 * download.c: a reply body streamed to a file (see download.h for the invariants).
 *
 * The temporary name is the target's plus ".part-<pid>-<n>", created with O_EXCL (never an
 * existing file) and mode 0666 so the process's umask decides the final permissions, as for
 * any file the caller would have created itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "download.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned tmp_counter;

static int open_tmp(anth_sink *s, char *err, size_t errlen)
{
    size_t n = strlen(s->path) + 48;
    int tries, fd = -1;
    free(s->tmp);
    s->tmp = malloc(n);
    if (s->tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (tries = 0; tries < 100 && fd < 0; tries++) {
        snprintf(s->tmp, n, "%s.part-%ld-%u", s->path, (long)getpid(), tmp_counter++);
        fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0 || (s->f = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        snprintf(err, errlen, "cannot create a file beside %s: %s", s->path, strerror(e));
        if (fd >= 0) {
            close(fd);
            unlink(s->tmp);
        }
        free(s->tmp);
        s->tmp = NULL;
        return -1;
    }
    s->bytes = 0;
    s->err = 0;
    s->committed = 0;
    return 0;
}

int anth_sink_open(anth_sink *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->path = malloc(strlen(path) + 1);
    if (s->path == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    strcpy(s->path, path);
    return open_tmp(s, err, errlen);
}

int anth_sink_write(anth_sink *s, const void *p, size_t n)
{
    if (s->f == NULL || s->err)
        return -1;
    if (n > 0 && fwrite(p, 1, n, s->f) != n) {
        s->err = errno ? errno : EIO;
        return -1;
    }
    s->bytes += n;
    return 0;
}

int anth_sink_restart(anth_sink *s, char *err, size_t errlen)
{
    if (s->f == NULL)
        return open_tmp(s, err, errlen);
    if (fflush(s->f) != 0 || ftruncate(fileno(s->f), 0) != 0 || fseek(s->f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot empty %s: %s", s->tmp, strerror(errno));
        return -1;
    }
    s->bytes = 0;
    s->err = 0;
    return 0;
}

int anth_sink_commit(anth_sink *s, char *err, size_t errlen)
{
    int e = s->err;
    if (s->f == NULL) {
        snprintf(err, errlen, "no download file is open");
        return -1;
    }
    if (e == 0 && fflush(s->f) != 0)
        e = errno ? errno : EIO;
    if (fclose(s->f) != 0 && e == 0)
        e = errno ? errno : EIO;
    s->f = NULL;
    if (e == 0 && rename(s->tmp, s->path) != 0)
        e = errno;
    if (e != 0) {
        snprintf(err, errlen, "cannot write %s: %s", s->path, strerror(e));
        unlink(s->tmp);
        free(s->tmp);
        s->tmp = NULL;
        return -1;
    }
    free(s->tmp);
    s->tmp = NULL;
    s->committed = 1;
    return 0;
}

void anth_sink_discard(anth_sink *s)
{
    if (s->f) {
        fclose(s->f);
        s->f = NULL;
    }
    if (s->tmp) {
        unlink(s->tmp);
        free(s->tmp);
        s->tmp = NULL;
    }
}

void anth_sink_free(anth_sink *s)
{
    anth_sink_discard(s);
    free(s->path);
    s->path = NULL;
}
