/*
 * easy_options.c: a request's options as libcurl options (see easy_options.h). Called when a
 * transfer starts, never from a libcurl callback.
 */
#include "easy_options.h"

#include <string.h>

int anth_easy_configure(CURL *c, const anth_xfer_opts *o, const anth_easy_hooks *h)
{
    int ok = 1;
#define SET(opt, val) ok &= curl_easy_setopt(c, opt, val) == CURLE_OK
    SET(CURLOPT_URL, o->url);
    SET(CURLOPT_PRIVATE, (char *)h->ud);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);            /* hosts may be threaded; we never want SIGALRM */
    SET(CURLOPT_HEADERFUNCTION, h->on_header);
    SET(CURLOPT_HEADERDATA, h->ud);
    SET(CURLOPT_WRITEFUNCTION, h->on_write);
    SET(CURLOPT_WRITEDATA, h->ud);
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);       /* long streams cross NATs that drop idle flows */
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 0L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 0L);
    if (strncmp(o->url, "https:", 6) == 0)
        SET(CURLOPT_PIPEWAIT, 1L);        /* prefer a stream on an HTTP/2 connection */
    if (o->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    if (o->proxy)
        SET(CURLOPT_PROXY, o->proxy);
    if (h->mime) {
        SET(CURLOPT_MIMEPOST, h->mime);   /* sets POST; the body is read as it is sent */
        return ok;
    }
    if (strcmp(o->method, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(o->method, "POST") == 0) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(o->has_body ? o->body_len : 0));
        SET(CURLOPT_POSTFIELDS, o->has_body ? o->body : "");
    } else {
        SET(CURLOPT_CUSTOMREQUEST, o->method);
        if (o->has_body) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
            SET(CURLOPT_POSTFIELDS, o->body);
        }
    }
#undef SET
    return ok;
}
