/*
 * engine.c: the libcurl multi handle behind every request (see engine.h for the invariants).
 *
 * We drive the multi handle with the socket API (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION and
 * curl_multi_socket_action) rather than curl_multi_perform, because hosts with their own event
 * loop (Neovim's libuv, a game's frame loop) need to know which sockets to watch and when the
 * next timer is due. anth_engine_poll is then a small poll(2) loop over exactly those sockets;
 * what happens to one transfer (its attempt ending, its timers) is transfer.c's business.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine.h"
#include "transfer.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double anth_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

double anth_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void anth_sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double anth_engine_rand01(anth_engine *e)
{
    uint64_t x = e->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    e->rng = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- libcurl callbacks: C state only, never Lua ------------------------------------------ */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    anth_engine *e = userp;
    size_t i;
    (void)easy;
    (void)socketp;
    for (i = 0; i < e->nsocks; i++)
        if (e->socks[i].fd == fd)
            break;
    if (what == CURL_POLL_REMOVE) {
        if (i < e->nsocks)
            e->socks[i] = e->socks[--e->nsocks];
        return 0;
    }
    if (i == e->nsocks) {
        if (e->nsocks == e->capsocks) {
            size_t cap = e->capsocks ? e->capsocks * 2 : 8;
            anth_sock *s = realloc(e->socks, cap * sizeof *s);
            if (s == NULL)
                return -1;    /* libcurl fails the transfer; nothing to unwind */
            e->socks = s;
            e->capsocks = cap;
        }
        e->socks[e->nsocks++].fd = fd;
    }
    e->socks[i].what = what;
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    anth_engine *e = userp;
    (void)multi;
    e->timer_at = timeout_ms < 0 ? -1.0 : anth_now_ms() + (double)timeout_ms;
    return 0;
}

/* ---- the easy-handle pool ---------------------------------------------------------------- */

CURL *anth_engine_take_easy(anth_engine *e)
{
    if (e->npool > 0)
        return e->pool[--e->npool];
    return curl_easy_init();
}

void anth_engine_give_easy(anth_engine *e, CURL *easy)
{
    if (e->npool < ANTH_POOL_MAX) {
        curl_easy_reset(easy);
        e->pool[e->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* ---- engine ------------------------------------------------------------------------------ */

anth_engine *anth_engine_new(char *err, size_t errlen)
{
    anth_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->multi = curl_multi_init();
    if (e->multi == NULL) {
        free(e);
        snprintf(err, errlen, "curl_multi_init failed");
        return NULL;
    }
    e->timer_at = -1.0;
    e->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)e << 16) ^ 0x9E3779B97F4A7C15ULL;
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    /* HTTP/2 multiplexing where the server offers it; HTTP/1.1 gets a connection pool. */
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return e;
}

int anth_engine_inflight(const anth_engine *e)
{
    return e->inflight;
}

void anth_engine_free(anth_engine *e)
{
    int i;
    if (e == NULL)
        return;
    while (e->xfers)
        anth_xfer_free(e->xfers);
    for (i = 0; i < e->npool; i++)
        curl_easy_cleanup(e->pool[i]);
    curl_multi_cleanup(e->multi);
    free(e->socks);
    free(e->pfds);
    free(e);
}

static void read_done(anth_engine *e)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        anth_xfer *x = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x != NULL)
            anth_xfer_attempt_done(x, m->data.result);
    }
}

/* A unit's cost, folded into its moving average: a quarter of the new sample, so one slow
 * unit (a page fault, the collector) moves the estimate without owning it. */
static void note_cost(double *avg, double sample)
{
    *avg += (sample - *avg) * 0.25;
}

/* Puts the transfers due by `now` on libcurl, oldest first (the list is newest first), so
 * transfers queued for a slot start in the order they were made.
 *
 * Under a budget (deadline >= 0) they go one at a time, and each opens its connection at once
 * (the timer action is where libcurl connects a new transfer), while the time left covers what
 * a start has lately cost (cost_start). At least one starts per poll, so new requests get
 * through whatever else the poll has to do; the rest wait for the next poll, whose timeout
 * stays 0 while they do. Opening ten connections costs over a millisecond here
 * (bench/PROFILES.md): one frame need not pay for all of them. Without a budget they all go on
 * libcurl and connect in the poll's own timer action. */
static void start_due(anth_engine *e, double now, double deadline)
{
    anth_xfer *x, *last = NULL, *prev;
    int started = 0, running;
    for (x = e->xfers; x; x = anth_xfer_next(x))
        last = x;
    for (x = last; x; x = prev) {
        prev = anth_xfer_prev(x);
        if (deadline >= 0 && started > 0) {
            now = anth_now_ms();
            if (now + e->cost_start >= deadline)
                break;
        }
        if (anth_xfer_start_due(x, now) && deadline >= 0) {
            started++;
            e->timer_at = -1.0;
            curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            note_cost(&e->cost_start, anth_now_ms() - now);
        }
    }
    if (started > 0)
        read_done(e);
}

/* Runs libcurl's timer action if it is due by `now`. */
static void run_due_timer(anth_engine *e, double now)
{
    int running;
    if (e->timer_at >= 0 && now >= e->timer_at) {
        e->timer_at = -1.0;
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

/* Puts the transfers due on libcurl and runs a libcurl timer already due: a new transfer's
 * action connects it, or writes its request on a kept-alive connection. Returns whether that
 * ended a transfer or decoded events, which is news for the caller. */
static int send_due(anth_engine *e)
{
    int before = e->inflight;
    unsigned long events = e->events_made;
    start_due(e, anth_now_ms(), -1.0);
    run_due_timer(e, anth_now_ms());
    read_done(e);
    return e->inflight < before || e->events_made != events;
}

void anth_engine_send_now(anth_engine *e)
{
    if (send_due(e))
        e->news = 1;
}

static void check_idle(anth_engine *e, double now)
{
    anth_xfer *x, *next;
    for (x = e->xfers; x; x = next) {
        next = anth_xfer_next(x);
        anth_xfer_check_idle(x, now);
    }
}

static int engine_has_events(const anth_engine *e)
{
    const anth_xfer *x;
    for (x = e->xfers; x; x = anth_xfer_next(x))
        if (anth_xfer_has_events(x))
            return 1;
    return 0;
}

/* When the engine next has timed work (monotonic ms): libcurl's timer, a retry's wake-up, a
 * stream's idle deadline. -1 when none. */
static double next_deadline(const anth_engine *e)
{
    double best = e->timer_at >= 0 ? e->timer_at : -1.0;
    const anth_xfer *x;
    for (x = e->xfers; x; x = anth_xfer_next(x)) {
        double at = anth_xfer_deadline(x);
        if (at >= 0 && (best < 0 || at < best))
            best = at;
    }
    return best;
}

static long ms_until(double at, double now)
{
    if (at < 0)
        return -1;
    if (at <= now)
        return 0;
    return (long)(at - now + 0.999);
}

long anth_engine_timeout(anth_engine *e)
{
    if (e->news || engine_has_events(e))
        return 0;                 /* the caller has news or events to take: poll again at once */
    return ms_until(next_deadline(e), anth_now_ms());
}

void anth_engine_sockets(anth_engine *e, void (*fn)(int, int, int, void *), void *ud)
{
    size_t i;
    for (i = 0; i < e->nsocks; i++) {
        int w = e->socks[i].what;
        fn((int)e->socks[i].fd, (w & CURL_POLL_IN) != 0, (w & CURL_POLL_OUT) != 0, ud);
    }
}

int anth_engine_poll(anth_engine *e, long timeout_ms, double budget_ms, double *work_start,
                     char *err, size_t errlen)
{
    double now = anth_now_ms(), t_work;
    long wait = timeout_ms < 0 ? 0 : timeout_ms, t;
    size_t i, k, n, first, handled;
    int rc, running;

    /* What a send_now ended or decoded is news this poll must not wait on. */
    if (e->news) {
        e->news = 0;
        wait = 0;
    }
    /* A poll that may wait (no budget) sends what is due before the wait, so that the wait is
     * for the reply: a blocking request then takes one poll, not one to send and one to
     * receive. If that ended a transfer (one libcurl refuses at once: an unsupported scheme, a
     * malformed URL) or decoded new events, the poll does not wait. (Events that were waiting before do not count: see below. A poll(0) of a
     * frame loop, and one under a budget, keep their order: the wait, then all the work.) */
    if (budget_ms < 0 && wait > 0) {
        if (send_due(e))
            wait = 0;
    } else if (budget_ms < 0) {
        start_due(e, now, -1.0);
    }
    now = anth_now_ms();
    /* Only timers shorten the wait. Whether decoded events waiting to be taken should is the
     * caller's decision: it knows which it can take now (a consumer whose callback is running
     * a nested blocking call cannot, and a poll that never sleeps for them would spin). */
    t = ms_until(next_deadline(e), now);
    if (e->inflight == 0)
        wait = 0;
    else if (t >= 0 && t < wait)
        wait = t;

    n = e->nsocks;
    if (n > e->cappfds) {
        struct pollfd *p = realloc(e->pfds, n * sizeof *p);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        e->pfds = p;
        e->cappfds = n;
    }
    for (i = 0; i < n; i++) {
        e->pfds[i].fd = e->socks[i].fd;
        e->pfds[i].events = (short)(((e->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                                    ((e->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
        e->pfds[i].revents = 0;
    }
    rc = poll(n ? e->pfds : NULL, (nfds_t)n, (int)wait);
    if (rc < 0 && errno != EINTR) {
        snprintf(err, errlen, "poll: %s", strerror(errno));
        return -1;
    }
    now = t_work = anth_now_ms();
    if (work_start != NULL)
        *work_start = t_work;
    /* New connections first: opening one costs more than reading a socket, and reads are what
     * a budget can leave for the next poll without delaying anything that is not already
     * waiting in the kernel. */
    if (budget_ms >= 0)
        start_due(e, t_work, t_work + budget_ms);
    /* Under a budget, a poll that runs out of time leaves the ready sockets it has not reached
     * for the next one (they stay ready, so its poll(2) returns at once) and that poll starts
     * where this one stopped: every connection gets its turn, and no byte is dropped. A socket
     * after the first is read only while the time left covers what a read has lately cost
     * (cost_read). */
    first = n > 0 ? e->turn % n : 0;
    for (k = 0, handled = 0; rc > 0 && k < n; k++) {
        int flags = 0;
        short r;
        i = (first + k) % n;
        r = e->pfds[i].revents;
        if (r == 0)
            continue;
        if (budget_ms >= 0) {
            now = anth_now_ms();
            if (handled > 0 && now - t_work + e->cost_read >= budget_ms) {
                e->turn = i;
                break;
            }
        }
        handled++;
        if (r & (POLLIN | POLLHUP))
            flags |= CURL_CSELECT_IN;
        if (r & POLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (r & (POLLERR | POLLNVAL))
            flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(e->multi, e->pfds[i].fd, flags, &running);
        if (budget_ms >= 0)
            note_cost(&e->cost_read, anth_now_ms() - now);
    }
    run_due_timer(e, anth_now_ms());
    read_done(e);
    check_idle(e, anth_now_ms());
    if (budget_ms < 0)
        start_due(e, anth_now_ms(), -1.0);
    return e->inflight;
}
