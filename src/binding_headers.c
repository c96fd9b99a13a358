/*
 * binding_headers.c: the Headers userdata of anthropic.core: a read-only copy of a reply's
 * parsed header list (headers.h), which outlives its request. Values become Lua strings only
 * when read, so a caller who never looks at the headers pays for one copy, not a table.
 *
 *   h[name] -> the value (any case; repeats joined with ", "), nil when absent
 *   h() -> a new plain table { lowercased name = value }      h[k] = v raises (read-only)
 */
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#include "binding.h"
#include "headers.h"

/* A Headers userdata: a copy of the reply's parsed header list (headers.h), read-only. */
typedef struct anth_lheaders {
    size_t len;
    char packed[1];
} anth_lheaders;

/* Pushes every value of `name` (any case; nil when none), repeats joined with ", " as one
 * field line would carry them. */
static void push_joined(lua_State *L, const anth_lheaders *h, const char *name, size_t nlen)
{
    size_t pos = 0, k;
    int n = 0;
    anth_header e;
    luaL_checkstack(L, 24, "too many header values");
    while (anth_headers_next(h->packed, h->len, &pos, &e)) {
        if (e.name_len != nlen)
            continue;
        for (k = 0; k < nlen; k++) {
            char c = name[k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            if (e.name[k] != c)
                break;
        }
        if (k < nlen)
            continue;
        if (n > 0)
            lua_pushliteral(L, ", ");
        lua_pushlstring(L, e.value, e.value_len);
        n += n > 0 ? 2 : 1;
        if (n > 15) {                     /* keep the stack small for a header repeated often */
            lua_concat(L, n);
            n = 1;
        }
    }
    if (n == 0)
        lua_pushnil(L);
    else
        lua_concat(L, n);
}

/* h[name] -> the value (repeats joined), nil when absent or when name is not a string */
static int headers_index(lua_State *L)
{
    anth_lheaders *h = luaL_checkudata(L, 1, ANTH_HEADERS_MT);
    size_t nlen;
    const char *name;
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }
    name = lua_tolstring(L, 2, &nlen);
    push_joined(L, h, name, nlen);
    return 1;
}

static int headers_newindex(lua_State *L)
{
    return luaL_error(L, "response headers are read-only");
}

/* headers_table(h) -> a new plain table { lowercased name = value, repeats joined } */
static int core_headers_table(lua_State *L)
{
    anth_lheaders *h = luaL_checkudata(L, 1, ANTH_HEADERS_MT);
    size_t pos = 0;
    anth_header e;
    lua_newtable(L);
    while (anth_headers_next(h->packed, h->len, &pos, &e)) {
        lua_pushlstring(L, e.name, e.name_len);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (!lua_isnil(L, -1)) {
            lua_pop(L, 2);                /* already joined in full on its first sighting */
            continue;
        }
        lua_pop(L, 1);
        push_joined(L, h, e.name, e.name_len);
        lua_rawset(L, -3);
    }
    return 1;
}

void anth_push_headers(lua_State *L, const char *packed, size_t len)
{
    anth_lheaders *h = lua_newuserdata(L, offsetof(anth_lheaders, packed) + len + 1);
    h->len = len;
    memcpy(h->packed, packed, len);
    luaL_getmetatable(L, ANTH_HEADERS_MT);
    lua_setmetatable(L, -2);
}

void anth_headers_register(lua_State *L)
{
    luaL_newmetatable(L, ANTH_HEADERS_MT);
    lua_pushcfunction(L, headers_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, headers_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, core_headers_table);
    lua_setfield(L, -2, "__call");        /* h() -> a plain table copy */
    lua_pushstring(L, ANTH_HEADERS_MT);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}
