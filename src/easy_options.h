/*
 * easy_options.h: how a request's options (transfer.h's anth_xfer_opts) become libcurl options
 * on an easy handle: URL, method and body (a string, or a multipart body from upload.h), the
 * timeouts, TLS, proxy, protocols, and the transfer's callbacks. One place, so every request is
 * set up the same way.
 */
#ifndef ANTH_EASY_OPTIONS_H
#define ANTH_EASY_OPTIONS_H

#include <curl/curl.h>
#include "transfer.h"

/* What the transfer itself gives the easy handle: its callbacks and their data, the error
 * buffer, the header list and the multipart body it owns. */
typedef struct anth_easy_hooks {
    void *ud;                     /* CURLOPT_PRIVATE, HEADERDATA, WRITEDATA */
    char *errbuf;                 /* CURL_ERROR_SIZE bytes */
    curl_write_callback on_header;
    curl_write_callback on_write;
    struct curl_slist *headers;
    curl_mime *mime;              /* the body instead of o->body when not NULL */
} anth_easy_hooks;

/* Sets every option; returns 1 when libcurl took them all, 0 otherwise. */
int anth_easy_configure(CURL *c, const anth_xfer_opts *o, const anth_easy_hooks *h);

#endif
