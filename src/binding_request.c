/*
 * binding_request.c: the Request userdata (one transfer, transfer.h), for anthropic.core. Its
 * headers() is a Headers userdata (binding_headers.c: a read-only copy of the reply's parsed
 * headers).
 *
 * A Request holds a pointer to its anth_xfer that the engine nulls (owner_slot) when the client
 * is closed, and a user value table that anchors the client and the request body (libcurl reads
 * CURLOPT_POSTFIELDS in place, without copying). Argument checks in client:request all happen
 * before anything is allocated in C, so a raise leaks nothing.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "binding.h"
#include "text_delta.h"
#include "transfer.h"

/* The event that may carry a text delta: the API's own on an SSE stream; on a Bedrock stream
 * the event a chunk carried, already unwrapped (transfer_io.c). Each framing has its one name:
 * a Bedrock server's `content_block_delta` message, or an SSE `chunk` event, is not one and
 * goes to the platform's reading as any other. */
#define DELTA_NAME "content_block_delta"
#define CHUNK_NAME "chunk"

typedef struct anth_lrequest {
    anth_xfer *x;
    /* With text_deltas: the one event name whose plain text deltas take_events hands over by
     * index (text_delta.h); NULL without. */
    const char *delta_name;
    size_t delta_name_len;
} anth_lrequest;

/* Reads an optional integer-valued field; raises naming it when it is not a finite number. */
static long opt_long_field(lua_State *L, int t, const char *name, long def, long min, long max)
{
    lua_Number v;
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "request: %s must be a number", name);
    v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (v != v || v < (lua_Number)min || v > (lua_Number)max)
        luaL_error(L, "request: %s out of range", name);
    return (long)v;
}

/* Leaves the value on the stack, which anchors the string for as long as C uses it: the
 * options table need not (a proxy's __index can make a fresh string on every read, and a
 * later read can collect the earlier one). */
static const char *opt_string_field(lua_State *L, int t, const char *name, size_t *len)
{
    const char *s = NULL;
    lua_getfield(L, t, name);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "request: %s must be a string", name);
        s = lua_tolstring(L, -1, len);
    }
    return s;
}

static int has_crlf_or_nul(const char *s, size_t n)
{
    return memchr(s, '\r', n) || memchr(s, '\n', n) || memchr(s, '\0', n);
}

/* A string field of a multipart part that goes into a header (name, filename, type): no CR,
 * LF or NUL. Left on the stack like opt_string_field's. */
static const char *part_field(lua_State *L, int t, const char *name, int i)
{
    size_t len;
    const char *s = opt_string_field(L, t, name, &len);
    if (s && has_crlf_or_nul(s, len))
        luaL_error(L, "request: multipart[%d].%s contains CR, LF or NUL", i, name);
    return s;
}

/* Reads multipart = { { name=, path= | data=, filename=, type= }, ... } into parts; every
 * string stays on the stack (a data string is also anchored by the Request, anchor_idx). */
static size_t read_parts(lua_State *L, anth_mime_part *parts, int anchor_idx)
{
    size_t n, i, len;
    int t;
    lua_getfield(L, 2, "multipart");
    if (lua_isnil(L, -1))
        return 0;
    luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 2, "multipart must be a list of parts");
    t = lua_gettop(L);
    n = anth_rawlen(L, t);
    if (n == 0 || n > ANTH_MIME_MAX_PARTS)
        luaL_error(L, "request: multipart must hold 1 to %d parts", ANTH_MIME_MAX_PARTS);
    luaL_checkstack(L, (int)n * 6 + 8, "request: too many parts");
    for (i = 0; i < n; i++) {
        int pi;
        lua_rawgeti(L, t, (int)i + 1);
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_error(L, "request: multipart[%d] must be a table", (int)i + 1);
        pi = lua_gettop(L);
        parts[i].name = part_field(L, pi, "name", (int)i + 1);
        parts[i].filename = part_field(L, pi, "filename", (int)i + 1);
        parts[i].type = part_field(L, pi, "type", (int)i + 1);
        parts[i].path = opt_string_field(L, pi, "path", &len);
        parts[i].data = opt_string_field(L, pi, "data", &parts[i].data_len);
        if (parts[i].data) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, anchor_idx, (int)i + 3);
        }
        if (parts[i].name == NULL || (parts[i].path == NULL) == (parts[i].data == NULL))
            luaL_error(L, "request: multipart[%d] needs a name and one of path, data", (int)i + 1);
    }
    return n;
}

/*
 * client:request{ method=, url=, headers={ "Name: value", ... }, body=, multipart= (instead
 * of body: { { name=, path= | data=, filename=, type= }, ... }, read as it is sent),
 * download_path= (a 2xx body is written to this file, replacing it only when complete),
 * stream= (false | true/"sse": SSE events | "lines": one event per JSONL line |
 * "eventstream": AWS event-stream messages, see anth_es_describe), timeout_ms=,
 * connect_timeout_ms=, idle_timeout_ms=, max_retries=, retry_cap_ms=, max_response_bytes=,
 * max_ok_bytes= (a buffered 2xx body's own cap: a file downloaded into a string),
 * insecure=, ca_file=, proxy=, send_now= (true from a caller that blocks on this request next:
 * it is put on libcurl and sent, or its connection opened, before this returns, so the server
 * works while the caller sets up its wait; otherwise the next poll does that), text_deltas=
 * (true: take_events hands a plain text delta over as index, text; see there) } -> Request,
 * already started.
 * Argument checks all happen before anything is allocated in C, so a raise leaks nothing.
 * Returns nil, message when a file cannot be used (a part's path unreadable, download_path's
 * directory not writable): the caller's mistake, which the Lua side reports as a UsageError.
 */
int anth_client_request(lua_State *L)
{
    char err[256];
    anth_engine *engine = anth_client_engine(L);
    anth_xfer_opts o;
    anth_lrequest *r;
    size_t i, nh, len;
    int body_idx, headers_idx, anchor_idx, send_now, text_deltas;
    const char *hv[128];
    anth_mime_part parts[ANTH_MIME_MAX_PARTS];

    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    memset(&o, 0, sizeof o);
    /* Every string C keeps a pointer to stays on the stack until the transfer exists. */
    o.method = opt_string_field(L, 2, "method", &len);
    o.url = opt_string_field(L, 2, "url", &len);
    if (o.method == NULL || o.url == NULL)
        return luaL_error(L, "request: method and url are required");
    if (has_crlf_or_nul(o.url, len))
        return luaL_error(L, "request: url contains CR, LF or NUL");
    o.body = opt_string_field(L, 2, "body", &o.body_len);
    body_idx = lua_gettop(L);             /* the body the request anchors, read once */
    o.has_body = o.body != NULL;
    o.ca_file = opt_string_field(L, 2, "ca_file", &len);
    o.proxy = opt_string_field(L, 2, "proxy", &len);
    o.download_path = opt_string_field(L, 2, "download_path", &len);
    if (o.download_path && (len == 0 || memchr(o.download_path, '\0', len)))
        return luaL_error(L, "request: download_path must be a non-empty path without NUL");
    lua_createtable(L, 4, 0);             /* the Request's anchors: client, body, data parts */
    anchor_idx = lua_gettop(L);
    memset(parts, 0, sizeof parts);
    o.parts = parts;
    o.nparts = read_parts(L, parts, anchor_idx);
    if (o.nparts > 0 && o.has_body)
        return luaL_error(L, "request: body and multipart cannot be combined");
    lua_getfield(L, 2, "stream");         /* nil/false, true or "sse", "lines" */
    if (lua_type(L, -1) == LUA_TSTRING) {
        static const char *const modes[] = { "buffer", "sse", "lines", "eventstream", NULL };
        o.stream = luaL_checkoption(L, -1, NULL, modes);
    } else {
        o.stream = lua_toboolean(L, -1) ? ANTH_BODY_SSE : ANTH_BODY_BUFFER;
    }
    lua_getfield(L, 2, "insecure");
    o.insecure = lua_toboolean(L, -1);
    lua_getfield(L, 2, "send_now");
    send_now = lua_toboolean(L, -1);
    lua_getfield(L, 2, "text_deltas");
    text_deltas = lua_toboolean(L, -1);
    lua_pop(L, 4);
    o.timeout_ms = opt_long_field(L, 2, "timeout_ms", 0, 0, 2147483647L);
    o.connect_timeout_ms = opt_long_field(L, 2, "connect_timeout_ms", 0, 0, 2147483647L);
    o.idle_timeout_ms = opt_long_field(L, 2, "idle_timeout_ms", 0, 0, 2147483647L);
    o.max_retries = (int)opt_long_field(L, 2, "max_retries", 0, 0, 1000);
    o.retry_cap_s = (double)opt_long_field(L, 2, "retry_cap_ms", 60000, 0, 2147483647L) / 1000.0;
    o.max_response_bytes = (size_t)opt_long_field(L, 2, "max_response_bytes", 0, 0, 2147483647L);
    o.max_ok_bytes = (size_t)opt_long_field(L, 2, "max_ok_bytes", 0, 0, 2147483647L);

    lua_getfield(L, 2, "headers");
    headers_idx = lua_gettop(L);
    nh = 0;
    if (!lua_isnil(L, -1)) {
        luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 2, "headers must be a list of strings");
        nh = anth_rawlen(L, -1);
        if (nh > sizeof hv / sizeof hv[0])
            return luaL_error(L, "request: too many headers");
        luaL_checkstack(L, (int)nh + 8, "request: too many headers");
        for (i = 0; i < nh; i++) {
            lua_rawgeti(L, headers_idx, (int)i + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "request: headers[%d] must be a string", (int)i + 1);
            hv[i] = lua_tolstring(L, -1, &len);
            if (has_crlf_or_nul(hv[i], len))
                return luaL_error(L, "request: headers[%d] contains CR, LF or NUL", (int)i + 1);
            /* left on the stack: the headers table may change before the slist is built */
        }
    }

    /* The Request starts closed and anchors the client and the body before the xfer exists. */
    r = lua_newuserdata(L, sizeof *r);
    r->x = NULL;
    r->delta_name = !text_deltas ? NULL
                    : o.stream == ANTH_BODY_EVENTSTREAM ? CHUNK_NAME : DELTA_NAME;
    r->delta_name_len = r->delta_name ? strlen(r->delta_name) : 0;
    luaL_getmetatable(L, ANTH_REQUEST_MT);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, anchor_idx);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, body_idx);           /* the string o.body points into, not a second read */
    lua_rawseti(L, -2, 2);
    anth_setuservalue(L, -2);

    /* From here to anth_xfer_start nothing can raise, so the slist cannot leak. */
    o.headers = NULL;
    for (i = 0; i < nh; i++) {
        struct curl_slist *s = curl_slist_append(o.headers, hv[i]);
        if (s == NULL) {
            curl_slist_free_all(o.headers);
            return luaL_error(L, "request: out of memory");
        }
        o.headers = s;
    }
    r->x = anth_xfer_start(engine, &o, &r->x, err, sizeof err);
    if (r->x == NULL && o.file_error) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    if (r->x == NULL)
        return luaL_error(L, "request: %s", err);
    if (send_now)
        anth_engine_send_now(engine);
    return 1;
}

/* ---- Request ----------------------------------------------------------------------------- */

static anth_lrequest *check_request(lua_State *L)
{
    anth_lrequest *r = luaL_checkudata(L, 1, ANTH_REQUEST_MT);
    if (r->x == NULL)
        luaL_error(L, "attempt to use a closed request (or a request of a closed client)");
    return r;
}

static int request_close(lua_State *L)
{
    anth_lrequest *r = luaL_checkudata(L, 1, ANTH_REQUEST_MT);
    if (r->x) {
        anth_xfer *x = r->x;
        r->x = NULL;
        anth_xfer_free(x);
    }
    return 0;
}

/* state() -> "waiting" (for its first start, which the next poll makes, or for a retry's
 * backoff: attempts() tells them apart), "running" or "done". */
static int request_state(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    static const char *const names[] = { "", "waiting", "running", "done" };
    lua_pushstring(L, names[anth_xfer_state(r->x)]);
    return 1;
}

static int request_is_done(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    lua_pushboolean(L, anth_xfer_state(r->x) == ANTH_X_DONE);
    return 1;
}

static int request_status(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    lua_pushinteger(L, anth_xfer_status(r->x));
    return 1;
}

static int request_attempts(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    lua_pushinteger(L, anth_xfer_attempts(r->x));
    return 1;
}

/* last_retry() -> retries, delay (s), reason: what the engine decided each time it scheduled
 * an attempt again (0 retries: none yet). For logs; the decision itself stays in C. */
static int request_last_retry(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    double delay;
    const char *reason;
    int n = anth_xfer_last_retry(r->x, &delay, &reason);
    lua_pushinteger(L, n);
    lua_pushnumber(L, delay);
    lua_pushstring(L, reason);
    return 3;
}

/* elapsed_ms() -> milliseconds from the start to the outcome (to now while running). */
static int request_elapsed_ms(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    lua_pushnumber(L, anth_xfer_elapsed_ms(r->x));
    return 1;
}

static int request_truncated(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    lua_pushboolean(L, anth_xfer_stream_truncated(r->x));
    return 1;
}

/* headers() -> the final reply's headers as a Headers userdata (nil before they arrived): a
 * read-only copy, so it outlives the request. Values are made into Lua strings only when
 * read, so a caller who never looks at the headers pays for one copy, not a table. */
static int request_headers(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    size_t len;
    const char *p;
    if (!anth_xfer_headers_done(r->x)) {
        lua_pushnil(L);
        return 1;
    }
    p = anth_xfer_headers(r->x, &len);
    anth_push_headers(L, p, len);
    return 1;
}

/* header(name) -> the first value of one response header, or nil */
static int request_header(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    const char *name = luaL_checkstring(L, 2);
    char value[1024];
    if (anth_xfer_headers_done(r->x) && anth_xfer_header(r->x, name, value, sizeof value))
        lua_pushstring(L, value);
    else
        lua_pushnil(L);
    return 1;
}

static int request_body(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    size_t len;
    const char *b = anth_xfer_body(r->x, &len);
    lua_pushlstring(L, b, len);
    return 1;
}

/* outcome() -> nil while running; else transport ("none", "connect", ...), message, curl code,
 * retryable (the engine's decision on the last attempt), retry_after (the server-given delay
 * in seconds the engine honours: finite and > 0, or nil, as for every 2xx reply) */
static int request_outcome(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    const anth_outcome *o;
    if (anth_xfer_state(r->x) != ANTH_X_DONE) {
        lua_pushnil(L);
        return 1;
    }
    o = anth_xfer_outcome(r->x);
    lua_pushstring(L, anth_transport_name(o->transport));
    lua_pushstring(L, o->message);
    lua_pushinteger(L, o->curl_code);
    lua_pushboolean(L, o->retryable);
    if (o->retry_after >= 0)
        lua_pushnumber(L, o->retry_after);
    else
        lua_pushnil(L);
    return 5;
}

/*
 * take_events(buf [, max]) -> n, more: moves up to max (default all) queued events into buf as
 * buf[2i-1] = event name, buf[2i] = data, and returns how many. Reusing the caller's table
 * keeps the hot path free of per-event tables; slots past 2n left from an earlier, larger batch
 * are cleared so the table holds no stale strings.
 * For a request made with text_deltas = true, a `content_block_delta` (on a Bedrock stream a
 * `chunk`, which carries its event unwrapped) whose data is the API's text-delta frame with
 * plain text (text_delta.h) comes as buf[2i-1] = its block index (an integer), buf[2i] = its
 * text: what cjson would decode the event into, without the event.
 */
static int request_take_events(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    anth_event ev;
    int n = 0, k;
    lua_Integer max;
    luaL_checktype(L, 2, LUA_TTABLE);
    max = luaL_optinteger(L, 3, 0);
    /* The batch stays the queue's while it is read: if a push below raises (out of memory),
     * its unread events are the next take's first, and the transfer frees it in the end. */
    anth_xfer_take_events(r->x, max > 0 ? (size_t)max : 0);
    while (anth_xfer_next_event(r->x, &ev)) {
        anth_text_delta d;
        if (r->delta_name && ev.name_len == r->delta_name_len &&
            memcmp(ev.name, r->delta_name, ev.name_len) == 0 &&
            anth_text_delta_match(ev.data, ev.data_len, &d) && d.plain) {
            lua_pushinteger(L, (lua_Integer)d.index);
            lua_rawseti(L, 2, 2 * n + 1);
            lua_pushlstring(L, ev.data + d.off + 1, d.len - 2);
        } else {
            lua_pushlstring(L, ev.name, ev.name_len);
            lua_rawseti(L, 2, 2 * n + 1);
            lua_pushlstring(L, ev.data, ev.data_len);
        }
        lua_rawseti(L, 2, 2 * n + 2);
        n++;
    }
    for (k = 2 * n + 1;; k++) {
        lua_rawgeti(L, 2, k);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, 2, k);
    }
    lua_pushinteger(L, n);
    lua_pushboolean(L, anth_xfer_has_events(r->x));
    return 2;
}

static int push_delay(lua_State *L, double d)
{
    if (d < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, d);
    return 1;
}

/* retry_unseen() -> delay, or nil: the caller saw nothing of the finished attempt; the engine
 * retries it if its outcome is retryable and attempts remain. */
static int request_retry_unseen(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    return push_delay(L, anth_xfer_retry_unseen(r->x));
}

/* retry_stream_error(error_type|nil) -> delay, or nil: an `event: error` arrived before any
 * content reached the caller; the engine retries it if the type is one a retry can help. */
static int request_retry_stream_error(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    const char *type = luaL_optstring(L, 2, NULL);
    return push_delay(L, anth_xfer_retry_stream_error(r->x, type));
}

/* progress() -> sent, send_total, received, receive_total: the request body's bytes sent and
 * its size, the reply body's bytes received and its announced size (nil when unknown), as
 * libcurl counts them for the current attempt. */
static int request_progress(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    curl_off_t v[4];
    int i;
    anth_xfer_progress(r->x, v);
    for (i = 0; i < 4; i++) {
        if (v[i] < 0)
            lua_pushnil(L);
        else
            lua_pushinteger(L, (lua_Integer)v[i]);
    }
    return 4;
}

static int request_cancel(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    anth_xfer_cancel(r->x);
    return 0;
}

static const luaL_Reg request_methods[] = {
    { "state", request_state },
    { "is_done", request_is_done },
    { "status", request_status },
    { "headers", request_headers },
    { "header", request_header },
    { "body", request_body },
    { "outcome", request_outcome },
    { "attempts", request_attempts },
    { "last_retry", request_last_retry },
    { "elapsed_ms", request_elapsed_ms },
    { "truncated", request_truncated },
    { "take_events", request_take_events },
    { "retry_unseen", request_retry_unseen },
    { "retry_stream_error", request_retry_stream_error },
    { "progress", request_progress },
    { "cancel", request_cancel },
    { "close", request_close },
    { NULL, NULL }
};

void anth_request_register(lua_State *L)
{
    anth_new_class(L, ANTH_REQUEST_MT, request_methods, request_close);
    anth_headers_register(L);
}

