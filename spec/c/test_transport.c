/*
 * test_transport.c: the transfer engine (src/engine.c, src/transfer.c) driven through real
 * transfers against a loopback anthropic-mock that this program starts (bin/anthropic-mock --port 0),
 * with no Lua binding in between.
 *
 * What it pins: anth_engine_inflight equals the number of transfers not DONE after every
 * path (finish, cancel, retry from RUNNING/WAITING/DONE, idle timeout, free, engine free);
 * attempts counting and x-should-retry; owner slots nulled by anth_engine_free; flow control
 * (a transfer paused because its events were not taken is not "idle"; pause + cancel,
 * pause + retry, and pooled-handle reuse after a pause); max_response_bytes in JSONL line
 * mode regardless of how the reply is chunked; poll() bounds, EINTR, and timeout() with
 * nothing pending; a 1xx interim reply before the final one.
 *
 * Environment: ANTH_TEST_LUA (interpreter for the mock, default lua5.4), ANTH_TEST_MOCK_URL
 * (use a running mock instead of starting one). Run from the repository root.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "../../src/transfer.h"
#include "../../src/headers.h"

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char base_url[256];
static pid_t mock_pid = -1;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Starts bin/anthropic-mock on a free port and reads its "listening URL" line. */
static int start_mock(void)
{
    const char *lua = getenv("ANTH_TEST_LUA");
    const char *given = getenv("ANTH_TEST_MOCK_URL");
    char line[256], watch[32];
    int fds[2];
    FILE *f;
    if (given && given[0]) {
        snprintf(base_url, sizeof base_url, "%s", given);
        return 0;
    }
    if (lua == NULL || lua[0] == '\0')
        lua = "lua5.4";
    if (pipe(fds) != 0)
        return -1;
    snprintf(watch, sizeof watch, "%ld", (long)getpid());
    mock_pid = fork();
    if (mock_pid < 0)
        return -1;
    if (mock_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp(lua, lua, "bin/anthropic-mock", "--host", "127.0.0.1", "--port", "0",
               "--watch-pid", watch, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL ||
        sscanf(line, "listening %255s", base_url) != 1) {
        fprintf(stderr, "anthropic-mock did not start (run from the repository root)\n");
        return -1;
    }
    fclose(f);
    return 0;
}

/* DELETE /_mock/requests: fresh sequence counters, also for a mock given by URL. */
static void clear_mock(void)
{
    char url[512];
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "%s/_mock/requests", base_url);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
}

static void stop_mock(void)
{
    if (mock_pid > 0) {
        kill(mock_pid, SIGTERM);
        waitpid(mock_pid, NULL, 0);
    }
}

static const char STREAM_BODY[] =
    "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":64000,\"stream\":true,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"one two three four\"}]}";
static const char PLAIN_BODY[] =
    "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":16,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

typedef struct req_opts {
    const char *fault;            /* x-mock-fault value, or NULL */
    int stream;                   /* ANTH_BODY_* */
    long idle_ms;
    int max_retries;
    size_t max_bytes;
    const char *extra_header;
} req_opts;

static anth_xfer *start(anth_engine *e, const req_opts *ro, anth_xfer **slot)
{
    anth_xfer_opts o;
    char url[512], err[256];
    struct curl_slist *h = NULL;
    anth_xfer *x;
    memset(&o, 0, sizeof o);
    snprintf(url, sizeof url, "%s/v1/messages", base_url);
    h = curl_slist_append(h, "x-api-key: sk-ant-mock-free");
    h = curl_slist_append(h, "anthropic-version: 2023-06-01");
    h = curl_slist_append(h, "content-type: application/json");
    if (ro->fault) {
        char fault[1024];
        snprintf(fault, sizeof fault, "x-mock-fault: %s", ro->fault);
        h = curl_slist_append(h, fault);
    }
    if (ro->extra_header)
        h = curl_slist_append(h, ro->extra_header);
    o.method = "POST";
    o.url = url;
    o.headers = h;
    o.body = ro->stream != ANTH_BODY_BUFFER ? STREAM_BODY : PLAIN_BODY;
    o.body_len = strlen(o.body);
    o.has_body = 1;
    o.stream = ro->stream;
    o.timeout_ms = 20000;
    o.connect_timeout_ms = 5000;
    o.idle_timeout_ms = ro->idle_ms;
    o.max_retries = ro->max_retries;
    o.retry_cap_s = 60;
    o.max_response_bytes = ro->max_bytes;
    x = anth_xfer_start(e, &o, slot, err, sizeof err);
    if (x == NULL)
        fprintf(stderr, "anth_xfer_start: %s\n", err);
    *slot = x;
    return x;
}

/* Takes and reads every queued event; returns how many. */
static size_t drain(anth_xfer *x)
{
    size_t n = 0;
    anth_event ev;
    anth_xfer_take_events(x, 0);
    while (anth_xfer_next_event(x, &ev))
        n++;
    return n;
}

/* Polls until x reaches state (or ms pass); takes events when take is set. Returns events
 * taken. */
static size_t run_until(anth_engine *e, anth_xfer *x, enum anth_xfer_state st, double ms, int take)
{
    char err[256];
    double until = now_ms() + ms;
    size_t n = 0;
    while (anth_xfer_state(x) != st && now_ms() < until) {
        anth_engine_poll(e, 20, -1, NULL, err, sizeof err);
        if (take)
            n += drain(x);
    }
    return n;
}

/* Polls until x waits for a retry: WAITING after an attempt (a new transfer is WAITING too,
 * for its first start, with no attempt yet). */
static void run_until_backoff(anth_engine *e, anth_xfer *x, double ms)
{
    char err[256];
    double until = now_ms() + ms;
    while (!(anth_xfer_state(x) == ANTH_X_WAITING && anth_xfer_attempts(x) >= 1) && now_ms() < until)
        anth_engine_poll(e, 20, -1, NULL, err, sizeof err);
}


static void poll_for(anth_engine *e, double ms)
{
    char err[256];
    double until = now_ms() + ms;
    while (now_ms() < until)
        anth_engine_poll(e, 20, -1, NULL, err, sizeof err);
}

static anth_engine *engine(void)
{
    char err[256];
    anth_engine *e = anth_engine_new(err, sizeof err);
    if (e == NULL) {
        fprintf(stderr, "anth_engine_new: %s\n", err);
        exit(1);
    }
    return e;
}

/* ---- inflight accounting and retries ------------------------------------------------------ */

static void t_finish_and_retry_done(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    req_opts ro = {NULL, ANTH_BODY_BUFFER, 0, 2, 0, NULL};
    x = start(e, &ro, &slot);
    CHECK(anth_engine_inflight(e) == 1, "a started transfer is in flight");
    run_until(e, x, ANTH_X_DONE, 5000, 0);
    CHECK(anth_xfer_status(x) == 200 && anth_xfer_attempts(x) == 1, "plain request: 200 in one attempt");
    CHECK(anth_engine_inflight(e) == 0, "done: inflight 0, got %d", anth_engine_inflight(e));
    CHECK(anth_xfer_retry(x) >= 0.0, "retry() on DONE with attempts left schedules one");
    CHECK(anth_xfer_state(x) == ANTH_X_WAITING, "retry() on DONE: WAITING");
    CHECK(anth_engine_inflight(e) == 1, "retry() on DONE: in flight again, got %d", anth_engine_inflight(e));
    run_until(e, x, ANTH_X_DONE, 5000, 0);
    CHECK(anth_xfer_attempts(x) == 2, "retry() on DONE: a second attempt ran, got %d", anth_xfer_attempts(x));
    CHECK(anth_engine_inflight(e) == 0, "after the retried attempt: inflight 0, got %d", anth_engine_inflight(e));
    anth_xfer_free(x);
    CHECK(slot == NULL, "free nulls the owner slot");
    CHECK(anth_engine_inflight(e) == 0, "free of a DONE transfer leaves inflight 0");
    anth_engine_free(e);
}

static void t_retry_running(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    char err[256];
    req_opts ro = {"{\"delay_ms\":300}", ANTH_BODY_BUFFER, 0, 2, 0, NULL};
    x = start(e, &ro, &slot);
    anth_engine_poll(e, 50, -1, NULL, err, sizeof err);
    CHECK(anth_xfer_state(x) == ANTH_X_RUNNING, "delayed reply: RUNNING");
    CHECK(anth_xfer_retry(x) >= 0.0, "retry() on RUNNING schedules one");
    CHECK(anth_xfer_state(x) == ANTH_X_WAITING && anth_engine_inflight(e) == 1,
          "retry() on RUNNING: WAITING, inflight stays 1 (got %d)", anth_engine_inflight(e));
    run_until(e, x, ANTH_X_DONE, 8000, 0);
    CHECK(anth_xfer_status(x) == 200 && anth_xfer_attempts(x) == 2, "RUNNING retry: 200 on attempt 2");
    CHECK(anth_engine_inflight(e) == 0, "inflight 0");
    anth_xfer_free(x);
    anth_engine_free(e);
}

static void t_retry_waiting_and_cancel(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x, *slot2, *y;
    req_opts ro = {"{\"sequence\":[{\"status\":529,\"headers\":{\"retry-after-ms\":\"400\"}}]}",
                   ANTH_BODY_BUFFER, 0, 2, 0, NULL};
    req_opts ro2 = {"{\"sequence\":[{\"status\":529,\"headers\":{\"retry-after-ms\":\"5000\",\"x-t\":\"2w\"}}]}",
                    ANTH_BODY_BUFFER, 0, 2, 0, NULL};
    x = start(e, &ro, &slot);
    run_until_backoff(e, x, 5000);
    CHECK(anth_xfer_state(x) == ANTH_X_WAITING && anth_xfer_attempts(x) == 1, "529 + retry-after: WAITING");
    {
        double delay;
        const char *why;
        int n = anth_xfer_last_retry(x, &delay, &why);
        CHECK(n == 1 && delay > 0.39 && delay < 0.41 && strcmp(why, "HTTP 529") == 0,
              "the retry note: 1 retry after 0.4 s for HTTP 529 (got %d, %g, %s)", n, delay, why);
    }
    CHECK(anth_xfer_retry(x) >= 0.0, "retry() on WAITING schedules one");
    CHECK(anth_xfer_state(x) == ANTH_X_WAITING && anth_xfer_attempts(x) == 1 && anth_engine_inflight(e) == 1,
          "retry() on WAITING: still WAITING, attempts 1, inflight 1 (got %d)", anth_engine_inflight(e));
    run_until(e, x, ANTH_X_DONE, 8000, 0);
    CHECK(anth_xfer_status(x) == 200 && anth_xfer_attempts(x) == 2, "then 200 on attempt 2 (got %ld, %d)",
          anth_xfer_status(x), anth_xfer_attempts(x));
    /* retry() rescheduled the wait with backoff: 0.5 s less at most 25 % jitter. */
    CHECK(anth_xfer_elapsed_ms(x) >= 375.0 && anth_xfer_elapsed_ms(x) < 8000.0,
          "elapsed_ms covers both attempts and the wait between (got %g)", anth_xfer_elapsed_ms(x));
    CHECK(anth_engine_inflight(e) == 0, "inflight 0");

    /* cancel while WAITING */
    y = start(e, &ro2, &slot2);
    run_until_backoff(e, y, 5000);
    CHECK(anth_xfer_state(y) == ANTH_X_WAITING, "second: WAITING");
    anth_xfer_cancel(y);
    CHECK(anth_xfer_state(y) == ANTH_X_DONE && anth_xfer_outcome(y)->transport == ANTH_T_ABORTED,
          "cancel on WAITING: DONE, aborted");
    CHECK(anth_engine_inflight(e) == 0, "cancel on WAITING: inflight 0, got %d", anth_engine_inflight(e));
    anth_xfer_cancel(y);
    CHECK(anth_engine_inflight(e) == 0, "a second cancel changes nothing");
    anth_xfer_free(x);
    anth_xfer_free(y);
    anth_engine_free(e);
}

static void t_retry_exhausted_and_should_retry(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    req_opts ro = {"{\"status\":529,\"headers\":{\"x-should-retry\":\"false\",\"x-t\":\"1\"}}",
                   ANTH_BODY_BUFFER, 0, 2, 0, NULL};
    x = start(e, &ro, &slot);
    run_until(e, x, ANTH_X_DONE, 5000, 0);
    CHECK(anth_xfer_status(x) == 529 && anth_xfer_attempts(x) == 1,
          "529 with x-should-retry: false is not retried (attempts %d)", anth_xfer_attempts(x));
    anth_xfer_free(x);

    ro.fault = "{\"status\":529,\"headers\":{\"retry-after-ms\":\"10\",\"x-t\":\"2\"}}";
    ro.max_retries = 0;
    x = start(e, &ro, &slot);
    run_until(e, x, ANTH_X_DONE, 5000, 0);
    CHECK(anth_xfer_attempts(x) == 1, "max_retries 0: one attempt");
    CHECK(anth_xfer_retry(x) < 0.0, "retry() with no attempt left refuses");
    CHECK(anth_xfer_state(x) == ANTH_X_DONE && anth_engine_inflight(e) == 0,
          "refused retry: still DONE, inflight 0 (got %d)", anth_engine_inflight(e));
    anth_xfer_free(x);
    anth_engine_free(e);
}

static void t_idle_and_free(void)
{
    anth_engine *e = engine();
    anth_xfer *s1, *s2, *s3, *x, *y, *z;
    req_opts idle = {"{\"pings_only\":true,\"ping_interval_ms\":30}", ANTH_BODY_SSE, 150, 0, 0, NULL};
    req_opts slow = {"{\"delay_ms\":3000}", ANTH_BODY_BUFFER, 0, 0, 0, NULL};
    req_opts wait = {"{\"sequence\":[{\"status\":529,\"headers\":{\"retry-after-ms\":\"5000\",\"x-t\":\"3\"}}]}",
                     ANTH_BODY_BUFFER, 0, 2, 0, NULL};
    x = start(e, &idle, &s1);
    run_until(e, x, ANTH_X_DONE, 5000, 1);
    CHECK(anth_xfer_outcome(x)->transport == ANTH_T_TIMEOUT_IDLE, "pings only: idle timeout");
    CHECK(anth_engine_inflight(e) == 0, "idle timeout: inflight 0, got %d", anth_engine_inflight(e));
    anth_xfer_free(x);

    y = start(e, &slow, &s2);
    z = start(e, &wait, &s3);
    run_until_backoff(e, z, 5000);
    CHECK(anth_engine_inflight(e) == 2, "one RUNNING, one WAITING: inflight 2");
    anth_xfer_free(y);
    CHECK(s2 == NULL && anth_engine_inflight(e) == 1, "free RUNNING: inflight 1, got %d", anth_engine_inflight(e));
    anth_xfer_free(z);
    CHECK(s3 == NULL && anth_engine_inflight(e) == 0, "free WAITING: inflight 0, got %d", anth_engine_inflight(e));

    /* the engine frees live transfers and nulls their owners' pointers */
    start(e, &slow, &s2);
    start(e, &wait, &s3);
    anth_engine_free(e);
    CHECK(s2 == NULL && s3 == NULL, "anth_engine_free nulls every owner slot");
}

/* ---- flow control ---------------------------------------------------------------------- */

/* Polls without taking events: the queue passes the high-water mark and the transfer pauses. */
static void t_pause_is_not_idle(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    req_opts ro = {"{\"deltas\":5000}", ANTH_BODY_SSE, 300, 0, 0, NULL};
    size_t n;
    x = start(e, &ro, &slot);
    poll_for(e, 700);             /* more than twice the idle timeout, events not taken */
    CHECK(anth_xfer_state(x) == ANTH_X_RUNNING,
          "a transfer paused by flow control is not idle (state %d, transport %d: %s)",
          (int)anth_xfer_state(x), (int)anth_xfer_outcome(x)->transport, anth_xfer_outcome(x)->message);
    n = drain(x);
    n += run_until(e, x, ANTH_X_DONE, 10000, 1);
    n += drain(x);
    CHECK(anth_xfer_outcome(x)->transport == ANTH_T_NONE && n == 5006,
          "taking the events resumes it to the end: transport %d, %lu events",
          (int)anth_xfer_outcome(x)->transport, (unsigned long)n);
    anth_xfer_free(x);
    anth_engine_free(e);
}

static void t_pause_cancel_retry_reuse(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    req_opts ro = {"{\"deltas\":5000}", ANTH_BODY_SSE, 0, 2, 0, NULL};
    req_opts small = {"{\"deltas\":3}", ANTH_BODY_SSE, 0, 0, 0, NULL};
    size_t n;

    x = start(e, &ro, &slot);
    poll_for(e, 300);
    CHECK(anth_xfer_state(x) == ANTH_X_RUNNING, "paused: RUNNING");
    CHECK(anth_xfer_retry(x) >= 0.0, "retry() while paused");
    n = run_until(e, x, ANTH_X_DONE, 10000, 1);
    n += drain(x);
    CHECK(anth_xfer_attempts(x) == 2 && anth_xfer_outcome(x)->transport == ANTH_T_NONE && n == 5006,
          "pause + retry: attempt 2 delivers the whole stream (attempts %d, %lu events)",
          anth_xfer_attempts(x), (unsigned long)n);
    anth_xfer_free(x);

    x = start(e, &ro, &slot);
    poll_for(e, 300);
    anth_xfer_cancel(x);
    CHECK(anth_xfer_outcome(x)->transport == ANTH_T_ABORTED && anth_engine_inflight(e) == 0,
          "pause + cancel: aborted, inflight 0");
    CHECK(drain(x) > 0, "the events queued before the cancel can still be taken");
    CHECK(drain(x) == 0, "and only once");
    anth_xfer_free(x);

    /* the paused handle went back to the pool: the next transfer must not start paused */
    x = start(e, &small, &slot);
    n = run_until(e, x, ANTH_X_DONE, 5000, 1);
    n += drain(x);
    CHECK(anth_xfer_status(x) == 200 && anth_xfer_outcome(x)->transport == ANTH_T_NONE && n == 9,
          "a pooled handle that was paused runs the next stream (%lu events)", (unsigned long)n);
    anth_xfer_free(x);
    anth_engine_free(e);
}

/* JSONL: a line longer than max_response_bytes is refused however the reply is chunked. */
static void t_lines_cap(void)
{
    anth_engine *e = engine();
    anth_xfer *slot;
    static const char *const chunks[] = {NULL, "1000"};
    char path[] = "/tmp/anth-test-lines-XXXXXX", fault[512];
    FILE *f;
    int fd = mkstemp(path), i, k;
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        CHECK(0, "cannot create a temporary file");
        return;
    }
    fputs("{\"a\":\"", f);
    for (k = 0; k < 5000; k++)
        fputc('x', f);
    fputs("\"}\n{\"b\":1}\n", f);
    fclose(f);
    for (i = 0; i < 2; i++) {
        req_opts ro = {fault, ANTH_BODY_LINES, 0, 0, 500, NULL};
        anth_xfer *x;
        if (chunks[i])
            snprintf(fault, sizeof fault, "{\"replay\":\"%s\",\"chunk\":%s}", path, chunks[i]);
        else
            snprintf(fault, sizeof fault, "{\"replay\":\"%s\"}", path);
        x = start(e, &ro, &slot);
        run_until(e, x, ANTH_X_DONE, 5000, 1);
        CHECK(anth_xfer_outcome(x)->transport == ANTH_T_TOO_LARGE,
              "a 5 KB JSONL line with max_response_bytes 500 (%s): too large, got transport %d",
              chunks[i] ? "1000-byte writes" : "one write", (int)anth_xfer_outcome(x)->transport);
        anth_xfer_free(x);
    }
    unlink(path);
    anth_engine_free(e);
}

/* ---- poll ------------------------------------------------------------------------------ */

static void on_usr1(int sig)
{
    (void)sig;
}

static void t_poll_bounds_and_eintr(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    char err[256];
    double t0, took;
    int rc;
    pid_t child;
    struct sigaction sa;
    req_opts ro = {"{\"sequence\":[{\"status\":529,\"headers\":{\"retry-after-ms\":\"3000\",\"x-t\":\"4\"}}]}",
                   ANTH_BODY_BUFFER, 0, 2, 0, NULL};

    CHECK(anth_engine_timeout(e) == -1, "a new engine has no timeout");
    t0 = now_ms();
    rc = anth_engine_poll(e, 1000, -1, NULL, err, sizeof err);
    took = now_ms() - t0;
    CHECK(rc == 0 && took < 100, "poll(1000) with nothing in flight returns 0 at once (%.0f ms)", took);

    x = start(e, &ro, &slot);
    run_until_backoff(e, x, 5000);
    t0 = now_ms();
    rc = anth_engine_poll(e, 150, -1, NULL, err, sizeof err);
    took = now_ms() - t0;
    CHECK(rc == 1 && took >= 140 && took < 400, "poll(150) during a 3 s backoff: %d after %.0f ms", rc, took);

    /* events waiting to be taken: timeout() says "now", but poll() leaves that decision to
     * its caller (who may be unable to take them yet) and still waits for the sockets */
    {
        anth_xfer *slot2, *y;
        req_opts small = {"{\"deltas\":3}", ANTH_BODY_SSE, 0, 0, 0, NULL};
        y = start(e, &small, &slot2);
        run_until(e, y, ANTH_X_DONE, 5000, 0);
        CHECK(anth_xfer_has_events(y), "a finished stream with its events not taken");
        CHECK(anth_engine_timeout(e) == 0, "timeout() is 0 while events wait, got %ld", anth_engine_timeout(e));
        t0 = now_ms();
        rc = anth_engine_poll(e, 150, -1, NULL, err, sizeof err);
        took = now_ms() - t0;
        CHECK(rc == 1 && took >= 140, "poll(150) is not cut short by events waiting (%.0f ms)", took);
        anth_xfer_free(y);
    }

    /* a signal without SA_RESTART interrupts poll(2): not an engine failure */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    child = fork();
    if (child == 0) {
        sleep_ms(100);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    t0 = now_ms();
    rc = anth_engine_poll(e, 1000, -1, NULL, err, sizeof err);
    took = now_ms() - t0;
    waitpid(child, NULL, 0);
    CHECK(rc == 1, "EINTR: poll returns the in-flight count, not -1 (got %d: %s)", rc, rc < 0 ? err : "");
    CHECK(took < 900, "EINTR: poll returned early (%.0f ms)", took);
    signal(SIGUSR1, SIG_DFL);
    anth_xfer_free(x);
    CHECK(anth_engine_timeout(e) == -1, "nothing pending after the last transfer is freed");
    anth_engine_free(e);
}

/* ---- interim replies ------------------------------------------------------------------- */

static void t_interim_1xx(void)
{
    anth_engine *e = engine();
    anth_xfer *slot, *x;
    size_t len, pos, vlen;
    const char *h, *v;
    char rid[64] = "";
    anth_header one;
    int n = 0;
    req_opts ro = {NULL, ANTH_BODY_BUFFER, 0, 0, 0, "Expect: 100-continue"};
    x = start(e, &ro, &slot);
    run_until(e, x, ANTH_X_DONE, 5000, 0);
    h = anth_xfer_headers(x, &len);
    CHECK(anth_xfer_status(x) == 200, "after 100 Continue: status 200, got %ld", anth_xfer_status(x));
    pos = 0;
    while (anth_headers_next(h, len, &pos, &one))
        n++;
    v = anth_headers_first(h, len, "Content-Type", 12, &vlen);
    CHECK(n > 0 && v != NULL && vlen > 0, "the final reply's headers are parsed (%d entries)", n);
    CHECK(anth_xfer_header(x, "request-id", rid, sizeof rid) && strncmp(rid, "req_", 4) == 0,
          "first value by name, any case: %s", rid);
    anth_xfer_free(x);
    anth_engine_free(e);
}

/* A new transfer goes on libcurl at the next poll; under a spent budget, one a poll. */
static void t_budget_starts_one_a_poll(void)
{
    anth_engine *e = engine();
    anth_xfer *slots[3], *xs[3];
    char err[256];
    double work_start = 0, before;
    int i, running, rounds;
    req_opts ro = {NULL, ANTH_BODY_BUFFER, 0, 0, 0, NULL};
    for (i = 0; i < 3; i++)
        xs[i] = start(e, &ro, &slots[i]);
    CHECK(anth_xfer_state(xs[0]) == ANTH_X_WAITING && anth_xfer_attempts(xs[0]) == 0,
          "a new transfer waits for the next poll, no attempt yet");
    CHECK(anth_engine_timeout(e) == 0, "and asks for that poll now (timeout %ld)", anth_engine_timeout(e));
    before = now_ms();
    anth_engine_poll(e, 0, 0.0, &work_start, err, sizeof err);
    CHECK(work_start >= before && work_start <= now_ms(), "work_start is the time the work began");
    for (rounds = 1; rounds <= 2; rounds++) {
        running = 0;
        for (i = 0; i < 3; i++)
            running += anth_xfer_attempts(xs[i]) > 0;
        CHECK(running == rounds, "after %d budgeted poll(s), %d started (want %d)", rounds, running, rounds);
        anth_engine_poll(e, 0, 0.0, NULL, err, sizeof err);
    }
    for (i = 0; i < 3; i++) {
        run_until(e, xs[i], ANTH_X_DONE, 5000, 0);
        CHECK(anth_xfer_status(xs[i]) == 200, "transfer %d: 200 (got %ld)", i, anth_xfer_status(xs[i]));
        anth_xfer_free(xs[i]);
    }
    anth_engine_free(e);
}

/* Under a generous budget a poll starts every due transfer, unless starts have lately cost
 * more than the time left: then one a poll, as with a spent budget. */
static void t_budget_respects_start_cost(void)
{
    int pass;
    for (pass = 0; pass < 2; pass++) {
        anth_engine *e = engine();
        anth_xfer *slots[3], *xs[3];
        char err[256];
        int i, started = 0;
        req_opts ro = {NULL, ANTH_BODY_BUFFER, 0, 0, 0, NULL};
        for (i = 0; i < 3; i++)
            xs[i] = start(e, &ro, &slots[i]);
        /* pass 0: no cost known yet; pass 1: starts have cost a minute each */
        e->cost_start = pass == 0 ? 0.0 : 60000.0;
        anth_engine_poll(e, 0, 1000.0, NULL, err, sizeof err);
        for (i = 0; i < 3; i++)
            started += anth_xfer_attempts(xs[i]) > 0;
        if (pass == 0)
            CHECK(started == 3, "a 1 s budget starts all 3 when starts cost nothing (%d)", started);
        else
            CHECK(started == 1, "a 1 s budget starts 1 when a start costs a minute (%d)", started);
        CHECK(pass == 1 ? e->cost_start < 60000.0 : e->cost_start > 0.0,
              "pass %d: the start measured moved the estimate (%.3f ms)", pass, e->cost_start);
        for (i = 0; i < 3; i++) {
            run_until(e, xs[i], ANTH_X_DONE, 5000, 0);
            CHECK(anth_xfer_status(xs[i]) == 200, "transfer %d: 200 (got %ld)", i, anth_xfer_status(xs[i]));
            anth_xfer_free(xs[i]);
        }
        anth_engine_free(e);
    }
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || start_mock() != 0)
        return EXIT_FAILURE;
    clear_mock();
    t_finish_and_retry_done();
    t_retry_running();
    t_retry_waiting_and_cancel();
    t_retry_exhausted_and_should_retry();
    t_idle_and_free();
    t_pause_is_not_idle();
    t_pause_cancel_retry_reuse();
    t_lines_cap();
    t_poll_bounds_and_eintr();
    t_interim_1xx();
    t_budget_starts_one_a_poll();
    t_budget_respects_start_cost();
    stop_mock();
    curl_global_cleanup();
    return anth_check_done();
}
