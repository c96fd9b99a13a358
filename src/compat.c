/*
 * compat.c: shims for plain Lua 5.1 (see compat.h). Compiled to nothing elsewhere.
 */
#include "compat.h"

#ifdef ANTH_COMPAT_NEEDS_SHIMS
#include <string.h>

void anth_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

void *anth_testudata(lua_State *L, int idx, const char *tname)
{
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2))
        p = NULL;
    lua_pop(L, 2);
    return p;
}
#else
typedef int anth_compat_empty_unit; /* ISO C forbids an empty translation unit */
#endif
