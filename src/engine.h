/*
 * engine.h: the transfer engine. One anth_engine per client owns a libcurl multi handle, the
 * sockets libcurl asked to have watched, libcurl's timer, and the list of its transfers
 * (transfer.h), whose own timers (retry backoff, stream idle timeout) it fires. Every
 * request, blocking or not, is an anth_xfer on that engine.
 *
 * Invariants:
 * - The socket and timer callbacks only record what libcurl asked for; nothing here calls
 *   Lua, so no Lua error can unwind through a libcurl frame.
 * - Attempt completion, retry scheduling and idle checks run from anth_engine_poll after
 *   libcurl has returned; anth_engine_poll never sleeps longer than the caller allowed.
 * - Freeing the engine frees every transfer and tells each transfer's owner through
 *   *owner_slot = NULL.
 */
#ifndef ANTH_ENGINE_H
#define ANTH_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

typedef struct anth_engine anth_engine;
typedef struct anth_xfer anth_xfer;

#define ANTH_POOL_MAX 16          /* idle easy handles kept for reuse */
/* Transfers on the multi handle at once; the rest wait, oldest first, for a slot. libcurl puts
 * at most 100 streams on one HTTP/2 connection (CURLMOPT_MAX_CONCURRENT_STREAMS) and, beyond
 * that, opens more connections whose streams a server refuses past its own limit (7.88 fails
 * them: "Stream error in the HTTP/2 framing layer"); waiting transfers are not yet connecting,
 * so their connect timeout cannot run out in the queue. Over HTTP/1.1 it bounds the connections
 * one client opens (a thousand streams need not mean a thousand sockets). */
#define ANTH_MAX_ACTIVE 100

typedef struct anth_sock {
    curl_socket_t fd;
    int what;                     /* CURL_POLL_IN / _OUT / _INOUT */
} anth_sock;

struct pollfd;

/* Shared with the transfer module: transfer.c links its transfers into `xfers` and keeps
 * `inflight`, transfer_io.c counts `events_made`; everything else is the engine's own. */
struct anth_engine {
    CURLM *multi;
    anth_xfer *xfers;             /* every live transfer, any state */
    int inflight;                 /* transfers not DONE */
    unsigned long events_made;    /* events decoded so far, by every transfer (wraps) */
    int active;                   /* transfers on the multi handle (<= ANTH_MAX_ACTIVE) */
    int news;                     /* a send_now ended a transfer or decoded events */
    anth_sock *socks;
    size_t nsocks, capsocks;
    struct pollfd *pfds;
    size_t cappfds;
    double timer_at;              /* libcurl's requested timeout (monotonic ms), or -1 */
    CURL *pool[ANTH_POOL_MAX];
    int npool;
    uint64_t rng;
    size_t turn;                  /* where a poll cut short by its budget resumes (socks index) */
    /* What one unit of a budgeted poll's work has lately cost (ms, a moving average): starting
     * a transfer (its connect) and reading one ready socket. A unit past the first of its kind
     * runs only if the time left covers it, so a poll ends near its budget, not a unit past. */
    double cost_start, cost_read;
};

/* Wall-clock seconds since the epoch, with fractions: the clock of the API's RFC 3339 times
 * (rate-limit resets), which Lua's os.time() has only to the second. */
double anth_wall_seconds(void);
anth_engine *anth_engine_new(char *err, size_t errlen);
void anth_engine_free(anth_engine *e);
/* Bounded work: waits at most timeout_ms for socket activity or a timer, then moves every
 * transfer along. A poll that may wait (timeout_ms > 0, no budget) first puts new transfers on
 * libcurl and runs a libcurl timer already due (a new transfer's: it sends the request), and
 * what that finished or decoded ends the wait at once, as does what a send_now since the last
 * poll finished or decoded. Decoded events that were already waiting to be taken do not cut
 * the wait short: a caller that can take them passes 0.
 * budget_ms >= 0 bounds the work after the wait: a start or a socket read past the first of
 * its kind runs only while the time left covers its recent cost, and the ready sockets not yet
 * read wait for the next poll (libcurl's timers and finished attempts are always handled).
 * *work_start (if not NULL) gets the monotonic ms at which the work began, so the caller can
 * charge its own share of the same budget. Returns the number of transfers not yet done, or -1
 * on an engine failure (message in err). */
int anth_engine_poll(anth_engine *e, long timeout_ms, double budget_ms, double *work_start,
                     char *err, size_t errlen);
/* Milliseconds until the engine next needs a poll (0 = now, also while decoded events wait to
 * be taken or a send_now left news), -1 when nothing is pending. */
long anth_engine_timeout(anth_engine *e);
/* The sockets libcurl wants watched: calls fn(fd, want_read, want_write, ud) for each. */
void anth_engine_sockets(anth_engine *e, void (*fn)(int fd, int r, int w, void *ud), void *ud);
int anth_engine_inflight(const anth_engine *e);
/* For a caller about to block on a request it just made: the steps a waiting poll takes before
 * its wait (due transfers onto libcurl, a due timer action: the connect, or the request written
 * on a kept-alive connection), taken now, so the server works while the caller sets up its
 * wait. What they end or decode makes the next poll return without waiting. */
void anth_engine_send_now(anth_engine *e);

/* An easy handle for a new transfer: a pooled one (reset) or a new one; NULL when out of
 * memory. Give it back when the transfer ends: kept for reuse up to ANTH_POOL_MAX. */
CURL *anth_engine_take_easy(anth_engine *e);
void anth_engine_give_easy(anth_engine *e, CURL *easy);
/* Monotonic milliseconds. */
double anth_now_ms(void);
/* Blocks the calling thread for ms (nanosleep, resumed after a signal). */
void anth_sleep_ms(long ms);
/* A number in [0, 1) for backoff jitter (xorshift64*: independent between clients, not
 * cryptographic). */
double anth_engine_rand01(anth_engine *e);

#endif
