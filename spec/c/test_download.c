/*
 * test_download.c: src/download.c, a reply body streamed to a file: the target appears only on
 * commit (atomically, with the bytes written), an existing target survives a discard, a retry
 * starts the file again, a missing directory fails at open with a message, and no temporary
 * file is ever left behind. Runs in a fresh directory of its own (mkdtemp).
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "../../src/download.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int entries(void)
{
    int n = 0;
    struct dirent *e;
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    fputs(s, f);
    fclose(f);
}

int main(void)
{
    char path[128], err[256];
    anth_sink s;
    size_t len;
    char *got;
    static char big[1 << 20];
    int i;

    strcpy(dir, "/tmp/anth-download-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/out.bin", dir);

    /* write, commit: the target holds exactly the bytes, nothing else is left */
    CHECK(anth_sink_open(&s, path, err, sizeof err) == 0, "open: %s", err);
    CHECK(entries() == 1, "one temporary file while writing");
    CHECK(access(path, F_OK) != 0, "the target does not exist before commit");
    CHECK(anth_sink_write(&s, "hello ", 6) == 0, "write");
    CHECK(anth_sink_write(&s, "world", 5) == 0, "write");
    CHECK(anth_sink_write(&s, "", 0) == 0, "empty write");
    CHECK(s.bytes == 11, "bytes counted: %llu", s.bytes);
    CHECK(anth_sink_commit(&s, err, sizeof err) == 0, "commit: %s", err);
    got = slurp(path, &len);
    CHECK(got && len == 11 && memcmp(got, "hello world", 11) == 0, "committed content");
    free(got);
    CHECK(entries() == 1, "only the target after commit");
    anth_sink_discard(&s);              /* after commit: nothing to remove, target kept */
    CHECK(access(path, F_OK) == 0, "discard after commit keeps the target");
    anth_sink_free(&s);

    /* restart (a retry) empties the file; a large body goes through whole */
    for (i = 0; i < (int)sizeof big; i++)
        big[i] = (char)(i % 251);
    CHECK(anth_sink_open(&s, path, err, sizeof err) == 0, "open again: %s", err);
    CHECK(anth_sink_write(&s, "first attempt, thrown away", 26) == 0, "write");
    CHECK(anth_sink_restart(&s, err, sizeof err) == 0, "restart: %s", err);
    CHECK(s.bytes == 0, "restart resets the count");
    for (i = 0; i < 4; i++)
        CHECK(anth_sink_write(&s, big, sizeof big) == 0, "big write %d", i);
    CHECK(anth_sink_commit(&s, err, sizeof err) == 0, "commit: %s", err);
    got = slurp(path, &len);
    CHECK(got && len == 4 * sizeof big, "4 MiB committed: %lu", (unsigned long)len);
    CHECK(got && memcmp(got, big, sizeof big) == 0 && memcmp(got + 3 * sizeof big, big, sizeof big) == 0,
          "content after a restart is the second attempt's");
    free(got);
    /* a restart after commit opens a new temporary file */
    CHECK(anth_sink_restart(&s, err, sizeof err) == 0, "restart after commit: %s", err);
    CHECK(entries() == 2, "a new temporary file beside the target");
    anth_sink_free(&s);
    CHECK(entries() == 1, "free removes it");

    /* discard leaves an existing target as it was */
    write_file(path, "old");
    CHECK(anth_sink_open(&s, path, err, sizeof err) == 0, "open: %s", err);
    CHECK(anth_sink_write(&s, "new new new", 11) == 0, "write");
    anth_sink_discard(&s);
    anth_sink_discard(&s);              /* idempotent */
    got = slurp(path, &len);
    CHECK(got && strcmp(got, "old") == 0, "discard keeps the old content");
    free(got);
    CHECK(entries() == 1, "discard removes the temporary file");
    CHECK(anth_sink_write(&s, "x", 1) != 0, "write after discard fails");
    CHECK(anth_sink_commit(&s, err, sizeof err) != 0, "commit after discard fails");
    anth_sink_free(&s);

    /* a directory that does not exist: open fails with the reason, leaves nothing */
    snprintf(path, sizeof path, "%s/no/such/out.bin", dir);
    CHECK(anth_sink_open(&s, path, err, sizeof err) != 0, "open in a missing directory fails");
    CHECK(strstr(err, "No such file") != NULL, "message says why: %s", err);
    anth_sink_discard(&s);
    anth_sink_free(&s);

    /* a target that is a directory: the rename fails at commit, the temporary file goes */
    snprintf(path, sizeof path, "%s/adir", dir);
    CHECK(mkdir(path, 0700) == 0, "mkdir");
    CHECK(anth_sink_open(&s, path, err, sizeof err) == 0, "open beside a directory: %s", err);
    CHECK(anth_sink_write(&s, "x", 1) == 0, "write");
    CHECK(anth_sink_commit(&s, err, sizeof err) != 0, "commit over a directory fails");
    CHECK(strstr(err, "adir") != NULL, "message names the target: %s", err);
    CHECK(entries() == 2, "no temporary file left: the old target and the directory");
    anth_sink_free(&s);

    snprintf(path, sizeof path, "%s/out.bin", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/adir", dir);
    rmdir(path);
    rmdir(dir);
    return anth_check_done();
}
