/*
 * numbers.h: core.fix_integers, the restoring of integers in a value lua-cjson decoded (see
 * numbers.c). Calls no libcurl; runs only from Lua.
 */
#ifndef ANTH_NUMBERS_H
#define ANTH_NUMBERS_H

#include <lua.h>

/* fix_integers(v) -> v: every float in the tables of v that has an exact integer value becomes
 * that integer (5.3+; on 5.1 and LuaJIT, v unchanged). Non-table v is returned as it is. */
int anth_core_fix_integers(lua_State *L);

#endif
