/*
 * host.c: a C program that embeds Lua 5.4 the way a game engine or an editor does, with
 * lua-anthropic's C core compiled into the binary (no core.so on disk is needed or loaded).
 *
 * Two loops. Frames (the default, a game): every 16 ms it calls the Lua scene's tick(), which
 * does one client:poll(0) and returns how many operations are still in flight, then sleeps to
 * the next frame boundary. Events (--loop events, an editor or server): it sleeps in poll(2) on
 * exactly the sockets client:sockets() names, at most client:timeout() ms, and ticks when
 * woken. It records how long each tick took (the time the library cost the host) and prints:
 *
 *   host: ok streams=10 loop=frames frames=49 wakeups=0 longest_frame_ms=1.9 ...
 *
 * Invariants: Lua is only entered through lua_pcall, so a Lua error (ours or the library's) is
 * reported and turned into exit status 2 instead of aborting; exit status 1 means a stream
 * failed or came back with the wrong text; 0 means every stream completed correctly.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

/* One host source for Lua 5.1-5.4 and LuaJIT: 5.1 (and so LuaJIT) names no LUA_OK. */
#ifndef LUA_OK
#define LUA_OK 0
#endif

/* From src/binding.c, compiled into this program (the .so exports only this symbol too). */
int luaopen_anthropic_core(lua_State *L);

#define ANTH_HOST_FRAME_NS 16000000L

typedef struct anth_host_opts {
    const char *url;
    const char *lua_dir;
    const char *script;
    long streams;
    long event_delay_ms;
    double max_seconds;
    int events;                   /* --loop events: poll(2) on client:sockets() */
} anth_host_opts;

static double anth_host_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Wall time is what a frame budget is about; CPU time tells the library's own cost apart
 * from time the OS gave to other processes (a loaded CI machine preempts any frame). */
static double anth_host_now_ms(void) { return anth_host_clock_ms(CLOCK_MONOTONIC); }
static double anth_host_cpu_ms(void) { return anth_host_clock_ms(CLOCK_THREAD_CPUTIME_ID); }

static int anth_host_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted values (nearest rank), so p99 of 100 samples is the 99th. */
static double anth_host_quantile(const double *v, size_t n, double q)
{
    size_t k;
    if (n == 0)
        return 0.0;
    k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

static void anth_host_usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --url URL [--streams N] [--event-delay-ms MS] [--lua-dir DIR]\n"
            "          [--script FILE] [--max-seconds S] [--loop frames|events]\n"
            "Runs N streams against URL (a mock: bin/anthropic-mock) from a 16 ms frame loop,\n"
            "or (--loop events) from a poll(2) loop on client:sockets() and client:timeout().\n",
            argv0);
}

static int anth_host_parse(int argc, char **argv, anth_host_opts *o)
{
    int i;
    o->url = NULL;
    o->lua_dir = "lua";
    o->script = "examples/host/scene.lua";
    o->streams = 10;
    o->event_delay_ms = 20;
    o->max_seconds = 30.0;
    o->events = 0;
    for (i = 1; i < argc; i += 2) {     /* every option takes one value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return -1;
        if (strcmp(a, "--url") == 0)
            o->url = v;
        else if (strcmp(a, "--lua-dir") == 0)
            o->lua_dir = v;
        else if (strcmp(a, "--script") == 0)
            o->script = v;
        else if (strcmp(a, "--streams") == 0)
            o->streams = strtol(v, NULL, 10);
        else if (strcmp(a, "--event-delay-ms") == 0)
            o->event_delay_ms = strtol(v, NULL, 10);
        else if (strcmp(a, "--max-seconds") == 0)
            o->max_seconds = strtod(v, NULL);
        else if (strcmp(a, "--loop") == 0 && (strcmp(v, "frames") == 0 || strcmp(v, "events") == 0))
            o->events = strcmp(v, "events") == 0;
        else
            return -1;
    }
    if (o->url == NULL || o->streams < 1 || o->streams > 1000 || o->event_delay_ms < 0 ||
        o->max_seconds <= 0)
        return -1;
    return 0;
}

/* package.path gets DIR/?.lua and DIR/?/init.lua in front, so the host finds the library's
 * Lua modules without LUA_PATH; package.cpath is left alone (lua-cjson comes from there). */
static int anth_host_set_path(lua_State *L, const char *lua_dir)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_dir, lua_dir);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    return 0;
}

/* Calls scene[name] with the values already pushed (nargs) and keeps nres results.
 * The scene table sits at index 1. Returns 0, or -1 after printing the Lua error. */
static int anth_host_call(lua_State *L, const char *name, int nargs, int nres)
{
    lua_getfield(L, 1, name);
    lua_insert(L, -(nargs + 1));
    if (lua_pcall(L, nargs, nres, 0) != LUA_OK) {
        fprintf(stderr, "host: scene.%s failed: %s\n", name, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static void anth_host_sleep_until(double at_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(at_ms / 1000.0);
    ts.tv_nsec = (long)((at_ms - (double)ts.tv_sec * 1000.0) * 1e6);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* What a run measured. A "frame" is one call of scene.tick() (one client:poll(0)): in frames
 * mode one per 16 ms frame, in events mode one per poll(2) wake-up. */
typedef struct anth_host_stats {
    double *work;                 /* wall ms of every tick */
    size_t n, cap;
    double longest, longest_cpu, longest_interval, prev;
} anth_host_stats;

/* One scene.tick(): records its cost; *inflight gets the operations still in flight. */
static int anth_host_tick(lua_State *L, anth_host_stats *s, long *inflight)
{
    double t0 = anth_host_now_ms(), c0 = anth_host_cpu_ms(), t1, cpu;
    if (anth_host_call(L, "tick", 0, 1) != 0)
        return -1;
    *inflight = (long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    t1 = anth_host_now_ms();
    cpu = anth_host_cpu_ms() - c0;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        double *w = realloc(s->work, ncap * sizeof *w);
        if (w == NULL) {
            fprintf(stderr, "host: out of memory\n");
            return -1;
        }
        s->work = w;
        s->cap = ncap;
    }
    s->work[s->n++] = t1 - t0;
    if (t1 - t0 > s->longest)
        s->longest = t1 - t0;
    if (cpu > s->longest_cpu)
        s->longest_cpu = cpu;
    if (s->prev >= 0 && t0 - s->prev > s->longest_interval)
        s->longest_interval = t0 - s->prev;
    s->prev = t0;
    return 0;
}

/* Frames mode: a game's loop. One tick per 16 ms frame, whatever the network does. */
static int anth_host_frames(lua_State *L, const anth_host_opts *o, anth_host_stats *s)
{
    double start = anth_host_now_ms(), next = start;
    long inflight = 1;
    while (inflight > 0) {
        if (anth_host_tick(L, s, &inflight) != 0)
            return 2;
        if (anth_host_now_ms() - start > o->max_seconds * 1000.0) {
            fprintf(stderr, "host: %ld operations still in flight after %.0f s\n", inflight,
                    o->max_seconds);
            return 1;
        }
        /* Fixed 16 ms cadence; a late frame starts the next one at once instead of
         * trying to catch up with a burst. */
        next += (double)ANTH_HOST_FRAME_NS / 1e6;
        if (next < anth_host_now_ms())
            next = anth_host_now_ms();
        if (inflight > 0)
            anth_host_sleep_until(next);
    }
    return 0;
}

/* scene.watch() -> { [fd] = "r" | "w" | "rw" }, timeout_ms: what client:sockets() and
 * client:timeout() say, turned into a pollfd array. Returns the timeout, or -2 on error. */
static long anth_host_watch(lua_State *L, struct pollfd **pfds, size_t *cap, nfds_t *n)
{
    long timeout;
    *n = 0;
    if (anth_host_call(L, "watch", 0, 2) != 0)
        return -2;
    timeout = (long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        const char *mode = lua_tostring(L, -1);
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            struct pollfd *p = realloc(*pfds, ncap * sizeof *p);
            if (p == NULL) {
                lua_pop(L, 3);
                fprintf(stderr, "host: out of memory\n");
                return -2;
            }
            *pfds = p;
            *cap = ncap;
        }
        (*pfds)[*n].fd = (int)lua_tointeger(L, -2);
        (*pfds)[*n].events = (short)((mode && strchr(mode, 'r') ? POLLIN : 0) |
                                     (mode && strchr(mode, 'w') ? POLLOUT : 0));
        (*pfds)[*n].revents = 0;
        (*n)++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return timeout;
}

/* Events mode: an event loop (what an editor or a server has). The host sleeps in poll(2) on
 * exactly the sockets the client named, at most until client:timeout(), and ticks only when
 * woken. No polling on a timer: the number of wake-ups follows the network. */
static int anth_host_events(lua_State *L, const anth_host_opts *o, anth_host_stats *s,
                            unsigned long *wakeups)
{
    double start = anth_host_now_ms();
    struct pollfd *pfds = NULL;
    size_t cap = 0;
    nfds_t n;
    long inflight = 1;
    int rc = 0;
    /* Requests were started by scene.start(): a first tick lets libcurl begin (timeout 0). */
    if (anth_host_tick(L, s, &inflight) != 0)
        return 2;
    while (inflight > 0) {
        long timeout = anth_host_watch(L, &pfds, &cap, &n);
        if (timeout == -2) {
            rc = 2;
            break;
        }
        /* -1 with work in flight would be a client bug; wake once a second rather than hang. */
        if (poll(n ? pfds : NULL, n, timeout < 0 ? 1000 : (int)timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "host: poll: %s\n", strerror(errno));
            rc = 2;
            break;
        }
        (*wakeups)++;
        if (anth_host_tick(L, s, &inflight) != 0) {
            rc = 2;
            break;
        }
        if (anth_host_now_ms() - start > o->max_seconds * 1000.0) {
            fprintf(stderr, "host: %ld operations still in flight after %.0f s\n", inflight,
                    o->max_seconds);
            rc = 1;
            break;
        }
    }
    free(pfds);
    return rc;
}

static int anth_host_run(lua_State *L, const anth_host_opts *o)
{
    anth_host_stats s;
    unsigned long wakeups = 0;
    int rc, ok;
    const char *summary;

    memset(&s, 0, sizeof s);
    s.prev = -1.0;
    /* The scene runs under the library's own require: anthropic.core must already be the
     * statically linked one, or this is not the build we claim to test. */
    if (luaL_loadfile(L, o->script) != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        return 2;
    }
    if (lua_pcall(L, 0, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        fprintf(stderr, "host: %s did not return a table: %s\n", o->script,
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        return 2;
    }
    lua_pushstring(L, o->url);
    lua_pushinteger(L, (lua_Integer)o->streams);
    lua_pushinteger(L, (lua_Integer)o->event_delay_ms);
    if (anth_host_call(L, "start", 3, 0) != 0)
        return 2;

    rc = o->events ? anth_host_events(L, o, &s, &wakeups) : anth_host_frames(L, o, &s);
    if (rc == 2 || anth_host_call(L, "finish", 0, 2) != 0) {
        free(s.work);
        return 2;
    }
    ok = lua_toboolean(L, -2) && rc == 0;
    summary = lua_tostring(L, -1);
    qsort(s.work, s.n, sizeof *s.work, anth_host_cmp_double);
    printf("host: %s streams=%ld loop=%s frames=%lu wakeups=%lu longest_frame_ms=%.3f "
           "longest_frame_cpu_ms=%.3f p50_frame_ms=%.3f p99_frame_ms=%.3f longest_interval_ms=%.3f "
           "lua=%s %s\n",
           ok ? "ok" : "FAILED", o->streams, o->events ? "events" : "frames", (unsigned long)s.n,
           wakeups, s.longest, s.longest_cpu, anth_host_quantile(s.work, s.n, 0.50),
           anth_host_quantile(s.work, s.n, 0.99), s.longest_interval,
           LUA_VERSION + 4 /* "Lua 5.x" */, summary ? summary : "");
    lua_pop(L, 2);
    free(s.work);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    anth_host_opts o;
    lua_State *L;
    int rc;

    if (anth_host_parse(argc, argv, &o) != 0) {
        anth_host_usage(argv[0]);
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "host: cannot create a Lua state\n");
        return 2;
    }
    luaL_openlibs(L);
    /* The static link: package.preload["anthropic.core"] is the function compiled in, and
     * require tries preload before package.cpath, so no core.so is ever searched for. preload
     * is the one mechanism every Lua from 5.1 to 5.4 and LuaJIT shares. */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_anthropic_core);
    lua_setfield(L, -2, "anthropic.core");
    lua_pop(L, 2);
    anth_host_set_path(L, o.lua_dir);
    rc = anth_host_run(L, &o);
    lua_close(L);
    return rc;
}
