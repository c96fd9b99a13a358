/*
 * upload.c: a multipart/form-data body on libcurl's MIME API (see upload.h). The read and seek
 * callbacks below run inside libcurl: they copy bytes from the caller's string and return,
 * nothing else (no Lua, no allocation).
 */
#include "upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A memory part: the caller's bytes and how far libcurl has read them. */
typedef struct anth_mem_part {
    const char *p;
    size_t len;
    size_t pos;
} anth_mem_part;

static size_t mem_read(char *out, size_t size, size_t n, void *ud)
{
    anth_mem_part *m = ud;
    size_t want = size * n, left = m->len - m->pos;
    if (want > left)
        want = left;
    memcpy(out, m->p + m->pos, want);
    m->pos += want;
    return want;
}

static int mem_seek(void *ud, curl_off_t offset, int origin)
{
    anth_mem_part *m = ud;
    curl_off_t base = origin == SEEK_CUR ? (curl_off_t)m->pos
                    : origin == SEEK_END ? (curl_off_t)m->len : 0;
    if (base + offset < 0 || base + offset > (curl_off_t)m->len)
        return CURL_SEEKFUNC_FAIL;
    m->pos = (size_t)(base + offset);
    return CURL_SEEKFUNC_OK;
}

static void mem_free(void *ud)
{
    free(ud);
}

static int add_part(curl_mime *mime, const anth_mime_part *pt, char *err, size_t errlen)
{
    curl_mimepart *part;
    CURLcode rc;
    part = curl_mime_addpart(mime);
    if (part == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pt->name == NULL || curl_mime_name(part, pt->name) != CURLE_OK) {
        snprintf(err, errlen, "multipart part without a name");
        return -1;
    }
    if (pt->path) {
        /* libcurl stats the file now (the body's length) and opens it when it sends. */
        rc = curl_mime_filedata(part, pt->path);
        if (rc != CURLE_OK) {
            snprintf(err, errlen, "cannot read %s", pt->path);
            return -1;
        }
    } else if (pt->data) {
        anth_mem_part *m = calloc(1, sizeof *m);
        if (m == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        m->p = pt->data;
        m->len = pt->data_len;
        rc = curl_mime_data_cb(part, (curl_off_t)pt->data_len, mem_read, mem_seek, mem_free, m);
        if (rc != CURLE_OK) {
            free(m);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    } else {
        snprintf(err, errlen, "multipart part %s has neither path nor data", pt->name);
        return -1;
    }
    if ((pt->filename && curl_mime_filename(part, pt->filename) != CURLE_OK) ||
        (pt->type && curl_mime_type(part, pt->type) != CURLE_OK)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

curl_mime *anth_mime_build(CURL *easy, const anth_mime_part *parts, size_t n, char *err,
                           size_t errlen)
{
    size_t i;
    curl_mime *mime = curl_mime_init(easy);
    if (mime == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (add_part(mime, &parts[i], err, errlen) != 0) {
            curl_mime_free(mime);
            return NULL;
        }
    }
    return mime;
}
