/*
 * binding.c: luaopen_anthropic_core, the only exported symbol. Turns the engine (engine.c)
 * and the failure typing (errors.c) into Lua values: the Client userdata, the kind table the
 * Lua error classes are built from, and the classification of a failure. The Request and
 * Headers userdata are in binding_request.c.
 *
 * Userdata follow the Lua 5.4 liolib pattern: created in a valid "closed" state, then opened;
 * one idempotent release behind close, __gc and __close; every method goes through one checker
 * that raises "attempt to use a closed client".
 *
 * No function here calls Lua from inside libcurl: poll() returns to Lua, and Lua (engine.lua)
 * then drains events and runs user callbacks under pcall. So lua_error can only ever be raised
 * from these entry points, with no libcurl frame on the C stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#ifdef _WIN32
#include <io.h>
#define anth_isatty _isatty
#else
#include <unistd.h>
#define anth_isatty isatty
#endif

#include "binding.h"
#include "engine.h"
#include "errors.h"
#include "json_prepare.h"
#include "numbers.h"
#include "plain.h"
#include "platform.h"
#include "redact.h"
#include "text_delta.h"
#include "utf8.h"

#define ANTH_CORE_VERSION "0.1.0"

#if defined(__GNUC__)
#define ANTH_EXPORT __attribute__((visibility("default")))
#else
#define ANTH_EXPORT
#endif

typedef struct anth_lclient {
    anth_engine *engine;
} anth_lclient;

/* ---- Client ------------------------------------------------------------------------------ */

static anth_lclient *check_client(lua_State *L)
{
    anth_lclient *c = luaL_checkudata(L, 1, ANTH_CLIENT_MT);
    if (c->engine == NULL)
        luaL_error(L, "attempt to use a closed client");
    return c;
}

static int client_new(lua_State *L)
{
    char err[256];
    anth_lclient *c = lua_newuserdata(L, sizeof *c);
    c->engine = NULL;                     /* closed until the engine exists */
    luaL_getmetatable(L, ANTH_CLIENT_MT);
    lua_setmetatable(L, -2);
    c->engine = anth_engine_new(err, sizeof err);
    if (c->engine == NULL)
        return luaL_error(L, "cannot create client: %s", err);
    return 1;
}

static int client_close(lua_State *L)
{
    anth_lclient *c = luaL_checkudata(L, 1, ANTH_CLIENT_MT);
    if (c->engine) {
        anth_engine *e = c->engine;
        c->engine = NULL;
        anth_engine_free(e);              /* nulls every request's pointer */
    }
    return 0;
}

static int client_is_closed(lua_State *L)
{
    anth_lclient *c = luaL_checkudata(L, 1, ANTH_CLIENT_MT);
    lua_pushboolean(L, c->engine == NULL);
    return 1;
}

/* poll([timeout_ms [, budget_ms]]) -> inflight, work_start_ms: budget_ms bounds the work done
 * after the wait (see anth_engine_poll); work_start_ms is when that work began (core.now_ms's
 * clock), from which engine.lua charges its own part of the same budget. */
static int client_poll(lua_State *L)
{
    char err[256];
    anth_lclient *c = check_client(L);
    lua_Number ms = luaL_optnumber(L, 2, 0);
    lua_Number budget = luaL_optnumber(L, 3, -1);
    double work_start = 0;
    int n;
    if (ms != ms || ms < 0)
        return luaL_argerror(L, 2, "timeout_ms must be a number >= 0");
    if (budget != budget)
        return luaL_argerror(L, 3, "budget_ms must be a number");
    if (ms > 86400000.0)
        ms = 86400000.0;
    n = anth_engine_poll(c->engine, (long)ms, budget, &work_start, err, sizeof err);
    if (n < 0)
        return luaL_error(L, "poll failed: %s", err);
    lua_pushinteger(L, n);
    lua_pushnumber(L, work_start);
    return 2;
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

struct anth_engine *anth_client_engine(lua_State *L)
{
    return check_client(L)->engine;
}

/* ---- module functions -------------------------------------------------------------------- */

static anth_transport check_transport(lua_State *L, int idx)
{
    int found;
    anth_transport t;
    if (lua_isnoneornil(L, idx))
        return ANTH_T_NONE;
    t = anth_transport_by_name(luaL_checkstring(L, idx), &found);
    if (!found)
        luaL_argerror(L, idx, lua_pushfstring(L, "unknown transport '%s'", lua_tostring(L, idx)));
    return t;
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

/* stream_error(error_type|nil) -> "StreamError", whether a retry before any content helps */
static int core_stream_error(lua_State *L)
{
    const char *type = luaL_optstring(L, 1, NULL);
    lua_pushstring(L, anth_kind_name(ANTH_KIND_STREAM_ERROR));
    lua_pushboolean(L, anth_stream_error_retryable(type));
    return 2;
}

/* kinds() -> { { name=, parent=, status=, type=, retryable= }, ... }: the kind table, every
 * class of the error tree except OK, in table order (a parent may come after its children). */
static int core_kinds(lua_State *L)
{
    int k, n = 0;
    lua_createtable(L, ANTH_KIND__COUNT, 0);
    for (k = 0; k < ANTH_KIND__COUNT; k++) {
        const char *type = anth_kind_error_type((anth_kind)k);
        if (k == ANTH_KIND_OK)
            continue;
        lua_createtable(L, 0, 5);
        lua_pushstring(L, anth_kind_name((anth_kind)k));
        lua_setfield(L, -2, "name");
        lua_pushstring(L, anth_kind_parent((anth_kind)k));
        lua_setfield(L, -2, "parent");
        if (anth_kind_status((anth_kind)k) != 0) {
            lua_pushinteger(L, anth_kind_status((anth_kind)k));
            lua_setfield(L, -2, "status");
        }
        if (type) {
            lua_pushstring(L, type);
            lua_setfield(L, -2, "type");
        }
        lua_pushboolean(L, anth_kind_retryable((anth_kind)k));
        lua_setfield(L, -2, "retryable");
        lua_rawseti(L, -2, ++n);
    }
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
    { "request", anth_client_request },
    { "poll", client_poll },
    { "inflight", client_inflight },
    { "timeout", client_timeout },
    { "sockets", client_sockets },
    { "close", client_close },
    { "is_closed", client_is_closed },
    { NULL, NULL }
};

/* core.isatty(fd) -> true when the descriptor is a terminal. For the CLI, which streams and
 * colours only on a terminal; plain Lua has no way to ask. */
static int core_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    luaL_argcheck(L, fd >= 0 && fd <= 1024 * 1024, 1, "not a file descriptor");
    lua_pushboolean(L, anth_isatty((int)fd) == 1);
    return 1;
}

/* core.now_ms() -> the engine's monotonic clock in ms (fractions kept). Lua has only os.time's
 * seconds and os.clock's CPU time; timers (engine.sleep) need wall time that never jumps. */
static int core_now_ms(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)anth_now_ms());
    return 1;
}

/* core.wall_seconds() -> wall-clock seconds since the epoch, with fractions: what RFC 3339
 * times from the server (rate-limit resets) are compared with (os.time has whole seconds). */
static int core_wall_seconds(lua_State *L)
{
    lua_pushnumber(L, anth_wall_seconds());
    return 1;
}

/* core.sleep_ms(ms) blocks the thread for ms (at most a day). Only for a blocking caller with
 * nothing in flight: whoever has transfers polls the engine instead. */
static int core_sleep_ms(lua_State *L)
{
    lua_Number ms = luaL_checknumber(L, 1);
    luaL_argcheck(L, ms == ms && ms >= 0, 1, "ms must be a number >= 0");
    if (ms > 86400000.0)
        ms = 86400000.0;
    anth_sleep_ms((long)ms);
    return 0;
}

/* core.text_delta(data) -> index, text | index, nil, string | nil: data read as the API's
 * text-delta frame (text_delta.h). Plain text comes as it is; a string with escapes comes
 * third, quotes included, for cjson to decode; any other data gives nil. */
static int core_text_delta(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    anth_text_delta d;
    if (!anth_text_delta_match(s, n, &d)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)d.index);
    if (d.plain) {
        lua_pushlstring(L, s + d.off + 1, d.len - 2);
        return 2;
    }
    lua_pushnil(L);
    lua_pushlstring(L, s + d.off, d.len);
    return 3;
}

static const luaL_Reg core_functions[] = {
    { "client", client_new },
    { "classify", core_classify },
    { "stream_error", core_stream_error },
    { "kinds", core_kinds },
    { "utf8_invalid", core_utf8_invalid },
    { "fix_integers", anth_core_fix_integers },
    { "plain_copy", anth_core_plain_copy },
    { "json_preparer", anth_core_json_preparer },
    { "isatty", core_isatty },
    { "redact", core_redact },
    { "text_delta", core_text_delta },
    { "now_ms", core_now_ms },
    { "sleep_ms", core_sleep_ms },
    { "wall_seconds", core_wall_seconds },
    { NULL, NULL }
};

void anth_new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc)
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

/* core.curl: what the libcurl in this process can do, for health checks and bug reports
 * (anthropic.health). Read at load time; libcurl cannot change under a running process. */
static void push_curl_info(lua_State *L)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    static const struct { const char *name; int bit; } features[] = {
        { "http2", CURL_VERSION_HTTP2 }, { "ssl", CURL_VERSION_SSL }, { "libz", CURL_VERSION_LIBZ },
        { "ipv6", CURL_VERSION_IPV6 }, { "asynchdns", CURL_VERSION_ASYNCHDNS },
#ifdef CURL_VERSION_HTTP3
        { "http3", CURL_VERSION_HTTP3 },
#endif
#ifdef CURL_VERSION_THREADSAFE
        { "threadsafe", CURL_VERSION_THREADSAFE },
#endif
    };
    size_t i;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, v->version);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, v->ssl_version != NULL ? v->ssl_version : "");
    lua_setfield(L, -2, "ssl_version");
    lua_pushstring(L, v->libz_version != NULL ? v->libz_version : "");
    lua_setfield(L, -2, "libz_version");
    lua_createtable(L, 0, (int)(sizeof features / sizeof features[0]));
    for (i = 0; i < sizeof features / sizeof features[0]; i++) {
        lua_pushboolean(L, (v->features & features[i].bit) != 0);
        lua_setfield(L, -2, features[i].name);
    }
    lua_setfield(L, -2, "features");
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
    anth_new_class(L, ANTH_CLIENT_MT, client_methods, client_close);
    anth_request_register(L);
    luaL_newlib(L, core_functions);
    anth_platform_open(L);
    lua_pushliteral(L, ANTH_CORE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
    lua_setfield(L, -2, "curl_version");
    push_curl_info(L);
    lua_setfield(L, -2, "curl");
    lua_pushinteger(L, LUA_VERSION_NUM);    /* the Lua ABI these headers built the module for */
    lua_setfield(L, -2, "lua_abi");
    return 1;
}
