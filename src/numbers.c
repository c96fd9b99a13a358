/*
 * numbers.c: core.fix_integers(v) -> v, the integers of a decoded JSON value restored in place.
 *
 * lua-cjson hands every JSON number to Lua as a float, so on 5.3 and 5.4 a token count of 3
 * arrives as 3.0 (math.type "float", "%d" refuses it, tostring shows "3.0"). anthropic.json
 * turns each float that has an exact integer value back into that integer, as math.tointeger
 * does; this is that walk in C, because it runs over every reply, batch result and stream event
 * that is not a text delta, and as Lua it was a tenth of a request's VM instructions
 * (bench/PROFILES.md). A plain table walk (lua_next, raw): no JSON is parsed here.
 *
 * On 5.1 and LuaJIT every number is a double and there is nothing to restore: v is returned
 * as it is.
 */
#include "numbers.h"

#include "compat.h"

/* cjson refuses to decode deeper than 1000 levels; nothing decoded goes past this. */
#define FIX_MAX_DEPTH 1000

#if LUA_VERSION_NUM >= 503
/* The table at the top of the stack, and the tables inside it. */
static void fix_table(lua_State *L, int depth)
{
    if (depth > FIX_MAX_DEPTH)
        return;
    luaL_checkstack(L, 4, "fix_integers: nested too deeply");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        int t = lua_type(L, -1);
        if (t == LUA_TTABLE) {
            fix_table(L, depth + 1);
        } else if (t == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            int exact = 0;
            lua_Integer i = lua_tointegerx(L, -1, &exact);
            if (exact) {
                /* Assigning an existing field during a traversal is allowed (lua_next). */
                lua_pushvalue(L, -2);
                lua_pushinteger(L, i);
                lua_rawset(L, -5);
            }
        }
        lua_pop(L, 1);
    }
}
#endif

int anth_core_fix_integers(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
#if LUA_VERSION_NUM >= 503
    if (lua_type(L, 1) == LUA_TTABLE)
        fix_table(L, 1);
#endif
    return 1;
}
