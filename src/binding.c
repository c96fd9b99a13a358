/*
 * binding.c: luaopen_anthropic_core, the only exported symbol. Turns the engine (transport.c)
 * and the failure typing (errors.c) into Lua values.
 *
 * Userdata follow the Lua 5.4 liolib pattern: created in a valid "closed" state, then opened;
 * one idempotent release behind close, __gc and __close; every method goes through one checker
 * that raises "attempt to use a closed client".
 *
 * No function here calls Lua from inside libcurl: poll() returns to Lua, and Lua (engine.lua)
 * then drains events and runs user callbacks under pcall. So lua_error can only ever be raised
 * from these entry points, with no libcurl frame on the C stack.
 *
 * A Request holds a pointer to its anth_xfer that the engine nulls (owner_slot) when the client
 * is closed, and a user value table that anchors the client and the request body (libcurl reads
 * CURLOPT_POSTFIELDS in place, without copying).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "compat.h"
#include "errors.h"
#include "redact.h"
#include "transport.h"
#include "utf8.h"

#define CLIENT_MT "anthropic.Client"
#define REQUEST_MT "anthropic.Request"
#define ANTH_CORE_VERSION "0.1.0"

#if defined(__GNUC__)
#define ANTH_EXPORT __attribute__((visibility("default")))
#else
#define ANTH_EXPORT
#endif

typedef struct anth_lclient {
    anth_engine *engine;
} anth_lclient;

typedef struct anth_lrequest {
    anth_xfer *x;
    int client_closed;
} anth_lrequest;

static const char *const transport_names[] = {
    "none", "connect", "timeout_connect", "timeout_total", "timeout_idle",
    "too_large", "aborted", "other", NULL
};
static const anth_transport transport_values[] = {
    ANTH_T_NONE, ANTH_T_CONNECT, ANTH_T_TIMEOUT_CONNECT, ANTH_T_TIMEOUT_TOTAL,
    ANTH_T_TIMEOUT_IDLE, ANTH_T_TOO_LARGE, ANTH_T_ABORTED, ANTH_T_OTHER
};

static const char *transport_name(anth_transport t)
{
    size_t i;
    for (i = 0; transport_names[i]; i++)
        if (transport_values[i] == t)
            return transport_names[i];
    return "other";
}

/* ---- Client ------------------------------------------------------------------------------ */

static anth_lclient *check_client(lua_State *L)
{
    anth_lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
    if (c->engine == NULL)
        luaL_error(L, "attempt to use a closed client");
    return c;
}

static int client_new(lua_State *L)
{
    char err[256];
    anth_lclient *c = lua_newuserdata(L, sizeof *c);
    c->engine = NULL;                     /* closed until the engine exists */
    luaL_getmetatable(L, CLIENT_MT);
    lua_setmetatable(L, -2);
    c->engine = anth_engine_new(err, sizeof err);
    if (c->engine == NULL)
        return luaL_error(L, "cannot create client: %s", err);
    return 1;
}

static int client_close(lua_State *L)
{
    anth_lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
    if (c->engine) {
        anth_engine *e = c->engine;
        c->engine = NULL;
        anth_engine_free(e);              /* nulls every request's pointer */
    }
    return 0;
}

static int client_is_closed(lua_State *L)
{
    anth_lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
    lua_pushboolean(L, c->engine == NULL);
    return 1;
}

static int client_poll(lua_State *L)
{
    char err[256];
    anth_lclient *c = check_client(L);
    lua_Number ms = luaL_optnumber(L, 2, 0);
    int n;
    if (ms != ms || ms < 0)
        return luaL_argerror(L, 2, "timeout_ms must be a number >= 0");
    if (ms > 86400000.0)
        ms = 86400000.0;
    n = anth_engine_poll(c->engine, (long)ms, err, sizeof err);
    if (n < 0)
        return luaL_error(L, "poll failed: %s", err);
    lua_pushinteger(L, n);
    return 1;
}

static int client_inflight(lua_State *L)
{
    anth_lclient *c = check_client(L);
    lua_pushinteger(L, anth_engine_inflight(c->engine));
    return 1;
}

static int client_timeout(lua_State *L)
{
    anth_lclient *c = check_client(L);
    lua_pushinteger(L, anth_engine_timeout(c->engine));
    return 1;
}

static void push_socket(int fd, int r, int w, void *ud)
{
    lua_State *L = ud;
    lua_pushstring(L, r && w ? "rw" : r ? "r" : w ? "w" : "");
    lua_rawseti(L, -2, fd);
}

static int client_sockets(lua_State *L)
{
    anth_lclient *c = check_client(L);
    lua_newtable(L);
    anth_engine_sockets(c->engine, push_socket, L);
    return 1;
}

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

/*
 * client:request{ method=, url=, headers={ "Name: value", ... }, body=,
 * stream= (false | true/"sse": SSE events | "lines": one event per JSONL line), timeout_ms=,
 * connect_timeout_ms=, idle_timeout_ms=, max_retries=, retry_cap_ms=, max_response_bytes=,
 * insecure=, ca_file=, proxy= } -> Request, already started.
 * Argument checks all happen before anything is allocated in C, so a raise leaks nothing.
 */
static int client_request(lua_State *L)
{
    char err[256];
    anth_lclient *c = check_client(L);
    anth_xfer_opts o;
    anth_lrequest *r;
    size_t i, nh, len;
    int body_idx, headers_idx;
    const char *hv[128];

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
    lua_getfield(L, 2, "stream");         /* nil/false, true or "sse", "lines" */
    if (lua_type(L, -1) == LUA_TSTRING) {
        static const char *const modes[] = { "buffer", "sse", "lines", NULL };
        o.stream = luaL_checkoption(L, -1, NULL, modes);
    } else {
        o.stream = lua_toboolean(L, -1) ? ANTH_BODY_SSE : ANTH_BODY_BUFFER;
    }
    lua_getfield(L, 2, "insecure");
    o.insecure = lua_toboolean(L, -1);
    lua_pop(L, 2);
    o.timeout_ms = opt_long_field(L, 2, "timeout_ms", 0, 0, 2147483647L);
    o.connect_timeout_ms = opt_long_field(L, 2, "connect_timeout_ms", 0, 0, 2147483647L);
    o.idle_timeout_ms = opt_long_field(L, 2, "idle_timeout_ms", 0, 0, 2147483647L);
    o.max_retries = (int)opt_long_field(L, 2, "max_retries", 0, 0, 1000);
    o.retry_cap_s = (double)opt_long_field(L, 2, "retry_cap_ms", 60000, 0, 2147483647L) / 1000.0;
    o.max_response_bytes = (size_t)opt_long_field(L, 2, "max_response_bytes", 0, 0, 2147483647L);

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
    r->client_closed = 0;
    luaL_getmetatable(L, REQUEST_MT);
    lua_setmetatable(L, -2);
    lua_createtable(L, 2, 0);
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
    r->x = anth_xfer_start(c->engine, &o, &r->x, err, sizeof err);
    if (r->x == NULL)
        return luaL_error(L, "request: %s", err);
    return 1;
}

/* ---- Request ----------------------------------------------------------------------------- */

static anth_lrequest *check_request(lua_State *L)
{
    anth_lrequest *r = luaL_checkudata(L, 1, REQUEST_MT);
    if (r->x == NULL)
        luaL_error(L, "attempt to use a closed request (or a request of a closed client)");
    return r;
}

static int request_close(lua_State *L)
{
    anth_lrequest *r = luaL_checkudata(L, 1, REQUEST_MT);
    if (r->x) {
        anth_xfer *x = r->x;
        r->x = NULL;
        anth_xfer_free(x);
    }
    return 0;
}

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

static int request_truncated(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    lua_pushboolean(L, anth_xfer_stream_truncated(r->x));
    return 1;
}

/* Pushes raw "Name: value" lines as { lowercased-name = value }, repeats joined by ", ". */
static void push_headers_table(lua_State *L, const char *p, size_t len)
{
    const char *end = p + len;
    lua_newtable(L);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end, *colon = memchr(p, ':', (size_t)(le - p));
        if (colon && colon > p && !(le - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            /* The whole name, however long: a fixed buffer would cut it, and merge two
             * names that share their first bytes. */
            luaL_Buffer b;
            size_t nl = (size_t)(colon - p), k;
            const char *v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
                le--;
            luaL_buffinit(L, &b);
            for (k = 0; k < nl; k++)
                luaL_addchar(&b, (char)((p[k] >= 'A' && p[k] <= 'Z') ? p[k] + 32 : p[k]));
            luaL_pushresult(&b);          /* headers, name */
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);            /* headers, name, value so far */
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(le - v));
            } else {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(le - v));
                lua_concat(L, 3);
            }
            lua_rawset(L, -3);
        }
        p = eol ? eol + 1 : end;
    }
}

/* headers([raw]) -> the final response's headers as a table (nil before they arrived), or with
 * raw = true the header block as one string: parsing is left for when someone reads it. */
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
    if (lua_toboolean(L, 2))
        lua_pushlstring(L, p, len);
    else
        push_headers_table(L, p, len);
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

/* parse_headers(raw) -> table, for a header block kept from headers(true) */
static int core_parse_headers(lua_State *L)
{
    size_t len;
    const char *p = luaL_checklstring(L, 1, &len);
    push_headers_table(L, p, len);
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

/* outcome() -> nil while running; else transport ("none", "connect", ...), message, curl code */
static int request_outcome(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    const anth_outcome *o;
    if (anth_xfer_state(r->x) != ANTH_X_DONE) {
        lua_pushnil(L);
        return 1;
    }
    o = anth_xfer_outcome(r->x);
    lua_pushstring(L, transport_name(o->transport));
    lua_pushstring(L, o->message);
    lua_pushinteger(L, o->curl_code);
    return 3;
}

/*
 * take_events(buf [, max]) -> n, more: moves up to max (default all) queued events into buf as
 * buf[2i-1] = event name,
 * buf[2i] = data, and returns how many. Reusing the caller's table keeps the hot path free of
 * per-event tables; slots past 2n left from an earlier, larger batch are cleared so the table
 * holds no stale strings.
 */
static int request_take_events(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    anth_event *ev, *next;
    int n = 0, k;
    lua_Integer max;
    luaL_checktype(L, 2, LUA_TTABLE);
    max = luaL_optinteger(L, 3, 0);
    ev = anth_xfer_take_events(r->x, max > 0 ? (size_t)max : 0);
    for (; ev; ev = next) {
        next = ev->next;
        lua_pushlstring(L, ev->name, ev->name_len);
        lua_rawseti(L, 2, 2 * n + 1);
        lua_pushlstring(L, ev->data, ev->data_len);
        lua_rawseti(L, 2, 2 * n + 2);
        n++;
        free(ev);
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

static int request_retry(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    double d = anth_xfer_retry(r->x);
    if (d < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, d);
    return 1;
}

static int request_cancel(lua_State *L)
{
    anth_lrequest *r = check_request(L);
    anth_xfer_cancel(r->x);
    return 0;
}

/* ---- module functions -------------------------------------------------------------------- */

static anth_transport check_transport(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return ANTH_T_NONE;
    return transport_values[luaL_checkoption(L, idx, NULL, transport_names)];
}

/* classify(transport|nil, status|nil, error_type|nil) -> class name, default retryable */
static int core_classify(lua_State *L)
{
    anth_transport t = check_transport(L, 1);
    long status = (long)luaL_optinteger(L, 2, 0);
    const char *type = luaL_optstring(L, 3, NULL);
    anth_kind k = anth_classify(t, status, type);
    lua_pushstring(L, anth_kind_name(k));
    lua_pushboolean(L, anth_kind_retryable(k));
    return 2;
}

/* should_retry(status|nil, x_should_retry|nil, transport|nil) -> boolean */
static int core_should_retry(lua_State *L)
{
    long status = (long)luaL_optinteger(L, 1, 0);
    const char *hint = luaL_optstring(L, 2, NULL);
    anth_transport t = check_transport(L, 3);
    lua_pushboolean(L, anth_should_retry(status, hint, t));
    return 1;
}

/* utf8_invalid(s) -> nil when s is valid UTF-8, else the 1-based offset of the first bad byte */
static int core_utf8_invalid(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    size_t bad = anth_utf8_check(s, len);
    if (bad == len)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)bad + 1);
    return 1;
}

/* redact(text, secret...) -> text with every run of ANTH_REDACT_MIN_RUN or more characters of
 * any secret replaced by ANTH_REDACT_MARK (the same string when there is none). When memory
 * runs out, nothing of the text can be vouched for, so only the mark is returned. */
static int core_redact(lua_State *L)
{
    size_t n, len, size;
    int i, top = lua_gettop(L), found = 0;
    const char *text = luaL_checklstring(L, 1, &n);
    unsigned char *covered;
    char *out;
    for (i = 2; i <= top; i++)
        luaL_checklstring(L, i, &len);
    for (i = 2; i <= top && !found; i++) {
        const char *s = lua_tolstring(L, i, &len);
        found = anth_redact_mark(text, n, s, len, NULL);
    }
    if (found == 0) {
        lua_settop(L, 1);
        return 1;
    }
    covered = found < 0 ? NULL : lua_newuserdata(L, n);   /* GC-owned: survives a raise */
    if (covered)
        memset(covered, 0, n);
    for (i = 2; covered && i <= top; i++) {
        const char *s = lua_tolstring(L, i, &len);
        if (anth_redact_mark(text, n, s, len, covered) < 0)
            covered = NULL;
    }
    if (covered == NULL) {
        lua_pushliteral(L, ANTH_REDACT_MARK);
        return 1;
    }
    size = anth_redact_size(n, covered);
    out = lua_newuserdata(L, size ? size : 1);
    lua_pushlstring(L, out, anth_redact_apply(text, n, covered, out));
    return 1;
}

static const luaL_Reg client_methods[] = {
    { "request", client_request },
    { "poll", client_poll },
    { "inflight", client_inflight },
    { "timeout", client_timeout },
    { "sockets", client_sockets },
    { "close", client_close },
    { "is_closed", client_is_closed },
    { NULL, NULL }
};

static const luaL_Reg request_methods[] = {
    { "state", request_state },
    { "is_done", request_is_done },
    { "status", request_status },
    { "headers", request_headers },
    { "header", request_header },
    { "body", request_body },
    { "outcome", request_outcome },
    { "attempts", request_attempts },
    { "truncated", request_truncated },
    { "take_events", request_take_events },
    { "retry", request_retry },
    { "cancel", request_cancel },
    { "close", request_close },
    { NULL, NULL }
};

static const luaL_Reg core_functions[] = {
    { "client", client_new },
    { "classify", core_classify },
    { "should_retry", core_should_retry },
    { "utf8_invalid", core_utf8_invalid },
    { "redact", core_redact },
    { "parse_headers", core_parse_headers },
    { NULL, NULL }
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__close");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");        /* 5.1/5.2 don't set it; type errors read it */
    lua_pop(L, 1);
}

ANTH_EXPORT int luaopen_anthropic_core(lua_State *L);

ANTH_EXPORT int luaopen_anthropic_core(lua_State *L)
{
    static int curl_ready = 0;
    if (!curl_ready) {
        /* libcurl >= 7.84 built "threadsafe" makes this safe; it is idempotent per process. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return luaL_error(L, "curl_global_init failed");
        curl_ready = 1;
    }
    new_class(L, CLIENT_MT, client_methods, client_close);
    new_class(L, REQUEST_MT, request_methods, request_close);
    luaL_newlib(L, core_functions);
    lua_pushliteral(L, ANTH_CORE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
    lua_setfield(L, -2, "curl_version");
    return 1;
}
