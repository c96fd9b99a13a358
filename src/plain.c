/*
 * plain.c: core.plain_copy, the walk that anthropic.json.plain makes of every request's params
 * before they are validated and encoded, so that both see exactly the same data.
 *
 * Rules (json.lua keeps the same walk in Lua for when the core is not loaded; the spec holds
 * the two to the same answers):
 *   - one raw walk (lua_next, lua_rawget): no __index, __pairs or __len of the caller runs;
 *   - every table value is copied; keys, and values that are not tables, are kept as they are;
 *   - the json.array / json.object marks (array_mt, object_mt) are kept on the copy, every
 *     other metatable is dropped, unless it makes the table show something else than it holds
 *     (__pairs, __ipairs, __len, or an __index that is not a table) and is not one of the
 *     library's own (sent_raw[mt]): that table is refused;
 *   - a table met again while it is being copied is a cycle, refused; one met again after
 *     (shared) gets the same copy, so the copy is shared the same way;
 *   - a table more than MAX_DEPTH levels down is refused.
 * In C because it runs on every request: on Lua 5.4 the Lua walk was a tenth of a create's
 * instructions, and this one takes half its time (bench/PROFILES.md). LuaJIT keeps the Lua
 * walk, which it runs faster than these C API calls. Only Lua tables are built here; no JSON
 * is read or written.
 */
#include "plain.h"

#include <lauxlib.h>

#include "compat.h"

/* json.lua's limit: cjson refuses to encode deeper than 1000 levels anyway. */
#define MAX_DEPTH 900

/* The stack slots of anth_core_plain_copy's arguments and scratch tables. */
enum { ARG_ARRAY_MT = 2, ARG_OBJECT_MT = 3, ARG_SENT_RAW = 4, WALKED = 5, KEYS = 6 };

typedef struct {
    const char *why;   /* why a table was refused, */
    const char *event; /* or the metamethod that makes it a proxy */
} walk_state;

static const char *const PROXY_EVENTS[] = { "__pairs", "__ipairs", "__len" };

/* The metamethod that makes a table with metatable mt (at the top) a proxy, or NULL. */
static const char *proxy_event(lua_State *L)
{
    int mt = lua_gettop(L), i;
    const char *found = NULL;
    lua_pushvalue(L, mt);
    lua_rawget(L, ARG_SENT_RAW);
    if (lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_pop(L, 1);
    for (i = 0; i < 3 && found == NULL; i++) {
        lua_pushstring(L, PROXY_EVENTS[i]);
        lua_rawget(L, mt);
        if (!lua_isnil(L, -1))
            found = PROXY_EVENTS[i];
        lua_pop(L, 1);
    }
    if (found == NULL) {
        lua_pushliteral(L, "__index");
        lua_rawget(L, mt);
        if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TTABLE)
            found = "__index";
        lua_pop(L, 1);
    }
    return found;
}

/* Leaves the value at the top of the stack in slot v + 1, the stack ending there. */
static void keep_top_at(lua_State *L, int v)
{
    if (lua_gettop(L) != v + 1)
        lua_replace(L, v + 1);
    lua_settop(L, v + 1);
}

/* Copies the table at the top of the stack. On success pushes its copy and returns 0; on a
 * refusal pushes nothing, sets w->why, writes the keys from here down into KEYS (keys[depth+1]
 * onward, by the levels below) and returns -1. */
static int copy_table(lua_State *L, walk_state *w, int depth)
{
    int v = lua_gettop(L), mt = 0, copy;
    int narr, count = 0;
    if (depth > MAX_DEPTH) {
        w->why = "nested too deeply";
        return -1;
    }
    luaL_checkstack(L, 8, "plain_copy: nested too deeply");
    if (lua_getmetatable(L, v)) {
        if (lua_rawequal(L, -1, ARG_ARRAY_MT) || lua_rawequal(L, -1, ARG_OBJECT_MT)) {
            mt = lua_gettop(L); /* a mark, kept for the copy */
        } else {
            w->event = proxy_event(L);
            lua_pop(L, 1);
            if (w->event != NULL)
                return -1;
        }
    }
    lua_pushvalue(L, v);
    lua_rawget(L, WALKED);
    if (lua_type(L, -1) == LUA_TTABLE) { /* shared: the copy made already */
        keep_top_at(L, v);
        return 0;
    }
    if (lua_toboolean(L, -1)) {
        lua_settop(L, v);
        w->why = "table contains itself (a cycle)";
        return -1;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, v);
    lua_pushboolean(L, 1);
    lua_rawset(L, WALKED);

    /* Sized once: growing a table key by key rehashes it several times. */
    lua_pushnil(L);
    while (lua_next(L, v) != 0) {
        lua_pop(L, 1);
        count++;
    }
    narr = (int)anth_rawlen(L, v);
    if (narr > count)
        narr = count;
    lua_createtable(L, narr, count - narr);
    copy = lua_gettop(L);

    lua_pushnil(L);
    while (lua_next(L, v) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            if (copy_table(L, w, depth + 1) != 0) {
                /* key, item: the key names this level of the refused table's path */
                if (lua_isnil(L, KEYS)) {
                    lua_newtable(L);
                    lua_replace(L, KEYS);
                }
                lua_pushvalue(L, -2);
                lua_rawseti(L, KEYS, depth + 1);
                lua_settop(L, v);
                return -1;
            }
            lua_replace(L, -2); /* key, copy of item */
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, copy);
    }
    if (mt) {
        lua_pushvalue(L, mt);
        lua_setmetatable(L, copy);
    }
    lua_pushvalue(L, v);
    lua_pushvalue(L, copy);
    lua_rawset(L, WALKED);
    keep_top_at(L, v);
    return 0;
}

int anth_core_plain_copy(lua_State *L)
{
    walk_state w = { NULL, NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, ARG_SENT_RAW, LUA_TTABLE);
    lua_settop(L, ARG_SENT_RAW);
    lua_createtable(L, 0, 8); /* WALKED: t -> true while copied, then its copy */
    lua_pushnil(L);           /* KEYS, made on a refusal */
    lua_pushvalue(L, 1);
    if (copy_table(L, &w, 0) == 0)
        return 1;
    lua_pushnil(L);
    if (w.event != NULL)
        lua_pushfstring(L, "is a proxy table (its metatable has %s), so what it shows is not what "
                           "it holds: pass a plain table", w.event);
    else
        lua_pushstring(L, w.why);
    if (lua_isnil(L, KEYS))
        lua_newtable(L); /* the top table itself was refused */
    else
        lua_pushvalue(L, KEYS);
    return 3;
}
