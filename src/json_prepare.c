/*
 * json_prepare.c: core.json_preparer, the walk json.encode makes of a table before cjson prints
 * it. json.lua keeps the same walk in Lua (`prepare`) for LuaJIT and for a process without the
 * core; spec/json_prepare_spec.lua holds the two to the same text and the same refusals.
 *
 * One raw pass per table (lua_next, lua_rawget: no metamethod of the caller runs):
 *   - refuses what JSON cannot hold, saying why: a key that is neither a string nor a positive
 *     integer, a table that mixes list items and named fields, a list with holes, a number that
 *     is not finite, a function, thread or userdata (cjson.null aside), a string or key that
 *     starts like the encoder's own sentinels, nesting deeper than MAX_DEPTH;
 *   - replaces what cjson would print wrongly: an empty table that is a list (json.array, or one
 *     under a key the API defines as a list, outside user data) by the empty-array sentinel, and
 *     a number cjson's "%.14g" would print inexactly by a number sentinel, whose exact text goes
 *     into the caller's `numbers` list (json.lua puts it back after encoding);
 *   - copies a table only where one of its values had to be replaced: the caller's tables are
 *     never written.
 * In C because every request's body takes this walk: on Lua 5.4 it was a fifth of a create's
 * VM instructions (bench/PROFILES.md). Only Lua values are read and built here.
 */
#include "json_prepare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "compat.h"

/* json.lua's limit: cjson refuses to encode deeper than 1000 levels anyway. */
#define MAX_DEPTH 900

/* The preparer's upvalues, fixed by json.lua when it loads. */
enum {
    UP_ARRAY_MT = 1,  /* json.array's mark: an empty table with it is a list */
    UP_OBJECT_MT,     /* json.object's mark: an empty table with it is an object */
    UP_NULL,          /* cjson.null, the one userdata JSON can hold */
    UP_ARRAY_KEYS,    /* key -> true: the API defines the value under it as a list */
    UP_OPAQUE_KEYS,   /* key -> true: user data below it, no list guessing */
    UP_EMPTY_ARRAY,   /* the string sent in place of an empty list */
    UP_NUMBER_PREFIX, /* a number sentinel is this .. i .. "\0" */
    UP_RESERVED,      /* caller strings and keys may not start with this */
    UP_COUNT = UP_RESERVED
};

/* The stack slots of a preparer call: its arguments, and the refused value's keys. */
enum { ARG_VALUE = 1, ARG_NUMBERS = 2, KEYS = 3 };

typedef struct {
    const char *why;   /* why the walk stopped (a format when tname is set), */
    const char *tname; /* the type name it names */
    int nnumbers;      /* number sentinels made so far */
    const char *reserved;
    size_t reserved_len;
} prep_state;

static int refuse(prep_state *s, const char *why, const char *tname)
{
    s->why = why;
    s->tname = tname;
    return -1;
}

/* Records key (a stack index) as keys[at]: the refused value's path is built from KEYS. */
static void record_key(lua_State *L, int at, int key)
{
    if (lua_isnil(L, KEYS)) {
        lua_newtable(L);
        lua_replace(L, KEYS);
    }
    lua_pushvalue(L, key);
    lua_rawseti(L, KEYS, at);
}

static int is_reserved(lua_State *L, const prep_state *s, int idx)
{
    size_t len;
    const char *p = lua_tolstring(L, idx, &len);
    return len >= s->reserved_len && memcmp(p, s->reserved, s->reserved_len) == 0;
}

/* lookup[key] is truthy; key is a stack index, or 0 for the top value, which has none. */
static int key_in(lua_State *L, int lookup, int key)
{
    int found;
    if (key == 0 || lua_type(L, key) != LUA_TSTRING)
        return 0;
    lua_pushvalue(L, key);
    lua_rawget(L, lookup);
    found = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return found;
}

/* cjson prints numbers with "%.14g": exact for every integer below 10^14 in magnitude (checked
 * without formatting) and for the numbers whose 14-digit form reads back equal, which Lua's
 * tonumber reads with strtod, as here. */
static int exact_in_cjson(lua_State *L, int idx)
{
    char text[64];
    lua_Number x;
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        double back;
        if (i > -100000000000000LL && i < 100000000000000LL)
            return 1;
        snprintf(text, sizeof text, "%.14g", (double)i);
        back = strtod(text, NULL);
        /* Lua compares the float read back with the integer exactly, as mathematical values */
        return back == floor(back) && back >= -9223372036854775808.0 && back < 9223372036854775808.0
               && (lua_Integer)back == i;
    }
#endif
    x = lua_tonumber(L, idx);
    if (x == floor(x) && x > -1e14 && x < 1e14)
        return 1;
    snprintf(text, sizeof text, "%.14g", (double)x);
    return strtod(text, NULL) == x;
}

/* Pushes the sentinel for the number at idx and appends its exact text to numbers. */
static void push_number_sentinel(lua_State *L, prep_state *s, int idx)
{
    char text[64];
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx))
        snprintf(text, sizeof text, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
    else
#endif
        snprintf(text, sizeof text, "%.17g", (double)lua_tonumber(L, idx));
    s->nnumbers++;
    lua_pushstring(L, text);
    lua_rawseti(L, ARG_NUMBERS, s->nnumbers);
    lua_pushvalue(L, lua_upvalueindex(UP_NUMBER_PREFIX));
    lua_pushfstring(L, "%d", s->nnumbers);
    lua_pushlstring(L, "", 1);
    lua_concat(L, 3);
}

/* Makes slot `copy` a copy of the table v (the first time a value of v must be replaced). Not
 * presized: built key by key in lua_next's order, as json.lua's copy is, it has the same layout,
 * so cjson prints its keys in the same order whichever walk made it. */
static void ensure_copy(lua_State *L, int v, int copy)
{
    if (!lua_isnil(L, copy))
        return;
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, v) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_replace(L, copy);
}

/* An empty table at v: the empty-array sentinel if it is a list, else itself. The mark is
 * what getmetatable() shows, as json.lua reads it (a __metatable field stands in). */
static int prepare_empty(lua_State *L, int v, int key, int guess)
{
    int list;
    if (lua_getmetatable(L, v)) {
        lua_pushliteral(L, "__metatable");
        lua_rawget(L, -2);
        if (lua_isnil(L, -1))
            lua_pop(L, 1);
        else
            lua_replace(L, -2);
    } else {
        lua_pushnil(L);
    }
    list = lua_rawequal(L, -1, lua_upvalueindex(UP_ARRAY_MT))
           || (!lua_rawequal(L, -1, lua_upvalueindex(UP_OBJECT_MT)) && guess
               && key_in(L, lua_upvalueindex(UP_ARRAY_KEYS), key));
    lua_settop(L, v);
    if (!list)
        return 0;
    lua_pushvalue(L, lua_upvalueindex(UP_EMPTY_ARRAY));
    lua_replace(L, v);
    return 1;
}

/* Prepares the table at the top of the stack (slot v), named by the key at stack index `key`
 * (0 for the top value). Returns 1 and leaves its replacement in slot v, or 0 and leaves v; on
 * a refusal returns -1 with s->why set and keys[depth+1] onward written (by the levels below).
 * The caller resets the stack either way. */
static int prepare(lua_State *L, prep_state *s, int depth, int key, int guess)
{
    int v = lua_gettop(L), copy = v + 1, d1 = depth + 1, child_guess;
    int nkeys = 0, has_string = 0;
    lua_Number n = 0;
    if (depth > MAX_DEPTH)
        return refuse(s, "nested too deeply", NULL);
    luaL_checkstack(L, 10, "json.encode: nested too deeply");
    lua_pushnil(L);
    if (lua_next(L, v) == 0)
        return prepare_empty(L, v, key, guess);
    lua_settop(L, v);
    child_guess = guess && !key_in(L, lua_upvalueindex(UP_OPAQUE_KEYS), key);
    lua_pushnil(L); /* copy: made when a value must be replaced */
    lua_pushnil(L);
    while (lua_next(L, v) != 0) {
        int k = copy + 1, item = copy + 2, t;
        nkeys++;
        switch (lua_type(L, k)) {
        case LUA_TSTRING:
            has_string = 1;
            if (is_reserved(L, s, k))
                return refuse(s, "key is reserved by anthropic.json", NULL);
            break;
        case LUA_TNUMBER: {
            lua_Number kn = lua_tonumber(L, k);
            if (kn != floor(kn) || kn < 1)
                return refuse(s, "table has a non-positive or fractional key", NULL);
            if (kn > n)
                n = kn;
            break;
        }
        default:
            return refuse(s, "table key of type %s cannot be encoded", luaL_typename(L, k));
        }
        t = lua_type(L, item);
        if (t == LUA_TTABLE) {
            int r;
            lua_pushvalue(L, item);
            r = prepare(L, s, d1, k, child_guess);
            if (r < 0) {
                record_key(L, d1, k);
                return -1;
            }
            if (r == 1) {
                ensure_copy(L, v, copy);
                lua_pushvalue(L, k);
                lua_pushvalue(L, item + 1);
                lua_rawset(L, copy);
            }
        } else if (t == LUA_TNUMBER) {
            lua_Number x = lua_tonumber(L, item);
            if (!anth_isinteger(L, item) && (x != x || x == HUGE_VAL || x == -HUGE_VAL)) {
                record_key(L, d1, k);
                return refuse(s, "number must be finite", NULL);
            }
            if (!exact_in_cjson(L, item)) {
                ensure_copy(L, v, copy);
                lua_pushvalue(L, k);
                push_number_sentinel(L, s, item);
                lua_rawset(L, copy);
            }
        } else if (t == LUA_TSTRING) {
            if (is_reserved(L, s, item)) {
                record_key(L, d1, k);
                return refuse(s, "string is reserved by anthropic.json", NULL);
            }
        } else if (t != LUA_TBOOLEAN && !lua_rawequal(L, item, lua_upvalueindex(UP_NULL))) {
            record_key(L, d1, k);
            return refuse(s, "cannot encode a %s as JSON", lua_typename(L, t));
        }
        lua_settop(L, k);
    }
    if (has_string && n > 0)
        return refuse(s, "table mixes list items and named fields", NULL);
    if (n > 0 && n != (lua_Number)nkeys)
        return refuse(s, "list has holes (a nil in the middle?)", NULL);
    if (lua_isnil(L, copy)) {
        lua_settop(L, v);
        return 0;
    }
    lua_replace(L, v);
    lua_settop(L, v);
    return 1;
}

/* preparer(value, numbers) -> prepared, changed, nnumbers | nil, why, keys */
static int json_prepare(lua_State *L)
{
    prep_state s = { NULL, NULL, 0, NULL, 0 };
    int r;
    luaL_checktype(L, ARG_VALUE, LUA_TTABLE);
    luaL_checktype(L, ARG_NUMBERS, LUA_TTABLE);
    lua_settop(L, ARG_NUMBERS);
    lua_pushnil(L); /* KEYS */
    s.reserved = lua_tolstring(L, lua_upvalueindex(UP_RESERVED), &s.reserved_len);
    lua_pushvalue(L, ARG_VALUE);
    r = prepare(L, &s, 0, 0, 1);
    if (r >= 0) {
        lua_settop(L, KEYS + 1);
        lua_pushboolean(L, r);
        lua_pushinteger(L, s.nnumbers);
        return 3;
    }
    lua_pushnil(L);
    if (s.tname != NULL)
        lua_pushfstring(L, s.why, s.tname);
    else
        lua_pushstring(L, s.why);
    if (lua_isnil(L, KEYS))
        lua_newtable(L); /* the top table itself was refused */
    else
        lua_pushvalue(L, KEYS);
    return 3;
}

int anth_core_json_preparer(lua_State *L)
{
    int i;
    luaL_checktype(L, UP_ARRAY_MT, LUA_TTABLE);
    luaL_checktype(L, UP_OBJECT_MT, LUA_TTABLE);
    luaL_checktype(L, UP_ARRAY_KEYS, LUA_TTABLE);
    luaL_checktype(L, UP_OPAQUE_KEYS, LUA_TTABLE);
    for (i = UP_EMPTY_ARRAY; i <= UP_RESERVED; i++)
        luaL_checktype(L, i, LUA_TSTRING);
    luaL_argcheck(L, anth_rawlen(L, UP_RESERVED) > 0, UP_RESERVED, "must not be empty");
    lua_settop(L, UP_COUNT);
    lua_pushcclosure(L, json_prepare, UP_COUNT);
    return 1;
}
