/*
 * compat.h: the one place where Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1 differ for us.
 *
 * Everything else in src/ is written against the 5.4 API names used below; this header maps
 * them onto older versions, gated on LUA_VERSION_NUM. LuaJIT reports 501 but already ships
 * luaL_setfuncs and luaL_testudata, so those shims are defined only where missing.
 */
#ifndef ANTH_COMPAT_H
#define ANTH_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
/* 5.1 and LuaJIT: user values are function environments and must be tables. */
#define anth_setuservalue(L, idx) lua_setfenv((L), (idx))
#define anth_getuservalue(L, idx) lua_getfenv((L), (idx))
#define anth_rawlen(L, idx) lua_objlen((L), (idx))
#define anth_pushglobaltable(L) lua_pushvalue((L), LUA_GLOBALSINDEX)
#ifndef LUAJIT_VERSION
/* Plain 5.1 lacks these; LuaJIT 2.1 has them. */
#define luaL_setfuncs anth_setfuncs
void anth_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#define luaL_testudata anth_testudata
void *anth_testudata(lua_State *L, int idx, const char *tname);
#define ANTH_COMPAT_NEEDS_SHIMS 1
#endif
#ifndef luaL_newlib
#define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs((L), (l), 0))
#endif
#else
#define anth_setuservalue(L, idx) lua_setuservalue((L), (idx))
#define anth_getuservalue(L, idx) ((void)lua_getuservalue((L), (idx)))
#define anth_rawlen(L, idx) lua_rawlen((L), (idx))
#define anth_pushglobaltable(L) lua_pushglobaltable(L)
#endif

#if LUA_VERSION_NUM >= 503
#define anth_isinteger(L, idx) lua_isinteger((L), (idx))
#else
#define anth_isinteger(L, idx) 0
#endif

#endif
