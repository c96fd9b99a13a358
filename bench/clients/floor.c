/* bench/clients/floor.c: the libcurl floor, the least any client built on libcurl can cost.
 *
 *   floor <workload> <base_url> <n>     prints one JSON line (see bench/README.md)
 *   a: n sequential POST <base>/v1/messages on one reused easy handle (one keep-alive
 *      connection); the body is a prebuilt string and the reply is only counted, never parsed.
 *   b: n sequential streams from <base>/v1/messages; SSE events are counted by their blank-line
 *      terminators (no field parsing, no JSON).
 *   c: n streams at once on one curl multi handle, one thread.
 * Anything slower than this is the price of decoding, of the language, or of the design.
 * One untimed warm-up request (a, b) opens the connection first, as every client does.
 * Build: gcc -O2 -std=c99 -o floor floor.c -lcurl
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char anth_body[] =
    "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":1024,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"Hello, Claude\"}]}";
static const char anth_body_stream[] =
    "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":1024,\"stream\":true,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"Hello, Claude\"}]}";

typedef struct {
    size_t bytes;
    size_t events;
    char last; /* last byte seen, so a "\n\n" split across two writes still counts once */
} anth_sink;

static size_t anth_write(char *p, size_t size, size_t nmemb, void *ud)
{
    anth_sink *s = ud;
    size_t len = size * nmemb;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n' && s->last == '\n')
            s->events++;
        s->last = p[i];
    }
    s->bytes += len;
    return len;
}

static double anth_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double anth_now(void) { return anth_clock(CLOCK_MONOTONIC); }
/* CPU time of the process, reported beside wall time: a busy machine disturbs it far less. */
static double anth_cpu(void) { return anth_clock(CLOCK_PROCESS_CPUTIME_ID); }

static struct curl_slist *anth_headers(int stream)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "content-type: application/json");
    h = curl_slist_append(h, "x-api-key: sk-ant-bench-not-a-key");
    h = curl_slist_append(h, "anthropic-version: 2023-06-01");
    h = curl_slist_append(h, stream ? "accept: text/event-stream" : "accept: application/json");
    return h;
}

static void anth_setup(CURL *e, const char *url, struct curl_slist *h, const char *body,
                       anth_sink *s)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, anth_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* h: TLS to the run's self-signed certificate; wait for the first connection's ALPN answer
     * so that concurrent transfers become HTTP/2 streams on it instead of new connections. */
    const char *ca = getenv("BENCH_CA_FILE");
    if (ca && !strncmp(url, "https:", 6)) {
        curl_easy_setopt(e, CURLOPT_CAINFO, ca);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    }
}

static int anth_fail(const char *what, const char *detail)
{
    printf("{\"client\":\"floor\",\"error\":\"%s: %s\"}\n", what, detail);
    return 1;
}

/* a and b: one easy handle, reused, so every request after the first rides the same connection. */
static int anth_sequential(const char *w, const char *url, long n)
{
    int stream = w[0] == 'b';
    struct curl_slist *h = anth_headers(stream);
    anth_sink s = {0, 0, 0};
    CURL *e = curl_easy_init();
    anth_setup(e, url, h, stream ? anth_body_stream : anth_body, &s);
    double t0 = 0, c0 = 0;
    for (long i = -1; i < n; i++) { /* i == -1: the untimed warm-up */
        if (i == 0) {
            t0 = anth_now();
            c0 = anth_cpu();
            s.bytes = s.events = 0;
        }
        s.last = 0;
        CURLcode rc = curl_easy_perform(e);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK)
            return anth_fail("curl", curl_easy_strerror(rc));
        if (status != 200)
            return anth_fail("status", "not 200");
    }
    double dt = anth_now() - t0, dc = anth_cpu() - c0;
    /* bytes and events are those of one reply: every reply is the same canned file. */
    printf("{\"client\":\"floor\",\"workload\":\"%s\",\"n\":%ld,\"seconds\":%.6f,"
           "\"cpu_seconds\":%.6f,\"bytes\":%zu", w, n, dt, dc, s.bytes / (size_t)n);
    if (stream)
        printf(",\"events\":%zu", s.events / (size_t)n);
    printf("}\n");
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return 0;
}

/* c, m, h: n transfers on one multi handle, driven by curl_multi_poll on this one thread. */
static int anth_concurrent(const char *w, const char *url, long n)
{
    struct curl_slist *h = anth_headers(1);
    CURLM *m = curl_multi_init();
    /* h: one connection, so libcurl queues what exceeds its streams; left to open more, 7.88
     * fails the streams the server refuses on them ("Stream error in the HTTP/2 framing layer"). */
    if (!strcmp(w, "h"))
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    CURL **es = calloc((size_t)n, sizeof *es);
    anth_sink *ss = calloc((size_t)n, sizeof *ss);
    if (!es || !ss)
        return anth_fail("alloc", "out of memory");
    double t0 = anth_now(), c0 = anth_cpu();
    for (long i = 0; i < n; i++) {
        es[i] = curl_easy_init();
        anth_setup(es[i], url, h, anth_body_stream, &ss[i]);
        curl_multi_add_handle(m, es[i]);
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            return anth_fail("curl", "multi_perform");
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    double dt = anth_now() - t0, dc = anth_cpu() - c0;
    size_t bytes = 0, events = 0;
    int msgs;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &msgs)))
        if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
            return anth_fail("curl", curl_easy_strerror(msg->data.result));
    for (long i = 0; i < n; i++) {
        bytes += ss[i].bytes;
        events += ss[i].events;
        curl_multi_remove_handle(m, es[i]);
        curl_easy_cleanup(es[i]);
    }
    printf("{\"client\":\"floor\",\"workload\":\"%s\",\"n\":%ld,\"seconds\":%.6f,"
           "\"cpu_seconds\":%.6f,\"bytes\":%zu,\"events\":%zu}\n", w, n, dt, dc, bytes, events);
    free(es);
    free(ss);
    curl_multi_cleanup(m);
    curl_slist_free_all(h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: floor a|b|c|m|h BASE_URL N\n");
        return 2;
    }
    const char *w = argv[1];
    long n = strtol(argv[3], NULL, 10);
    char url[1024];
    snprintf(url, sizeof url, "%s/v1/messages", argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (n <= 0)
        rc = anth_fail("usage", "N must be positive");
    else if (!strcmp(w, "a") || !strcmp(w, "b"))
        rc = anth_sequential(w, url, n);
    else if (!strcmp(w, "c") || !strcmp(w, "m") || !strcmp(w, "h"))
        rc = anth_concurrent(w, url, n);
    else
        rc = anth_fail("usage", "workload not supported by this client");
    curl_global_cleanup();
    return rc;
}
