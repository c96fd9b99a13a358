/*
 * upload.h: a multipart/form-data request body on libcurl's MIME API (curl_mime), read as it
 * is sent: a part from a file is read from disk by libcurl in small pieces (curl_mime_filedata,
 * which also gives the body its length), a part from memory is read in place from the caller's
 * bytes (a read callback over them, never a copy). So a 200 MB file costs no 200 MB of memory.
 *
 * Invariants:
 * - Names, file names and types are copied by libcurl; `data` is not: the caller keeps it alive
 *   and unchanged until the mime is freed.
 * - A body can be read more than once (a retry rewinds it: the memory part has a seek callback).
 */
#ifndef ANTH_UPLOAD_H
#define ANTH_UPLOAD_H

#include <stddef.h>
#include <curl/curl.h>

typedef struct anth_mime_part {
    const char *name;             /* the form field's name, required */
    const char *path;             /* read from this file while sending, or NULL */
    const char *data;             /* or these bytes (not copied) */
    size_t data_len;
    const char *filename;         /* the part's filename; NULL: the path's base name */
    const char *type;             /* the part's Content-Type; NULL: none */
} anth_mime_part;

#define ANTH_MIME_MAX_PARTS 8

/* Builds the body for `easy` (set it with CURLOPT_MIMEPOST). Returns NULL with a message in
 * err (a file that cannot be read, a part with neither path nor data, out of memory). */
curl_mime *anth_mime_build(CURL *easy, const anth_mime_part *parts, size_t n, char *err,
                           size_t errlen);

#endif
