/*
 * plain.h: core.plain_copy, the raw walk behind anthropic.json.plain (see plain.c). Calls no
 * libcurl; runs only from Lua.
 */
#ifndef ANTH_PLAIN_H
#define ANTH_PLAIN_H

#include <lua.h>

/* plain_copy(t, array_mt, object_mt, sent_raw) -> copy, or nil, message, keys: a copy of the
 * table t made by one raw walk (see plain.c for the rules). On a table it refuses, message
 * says why and keys lists the keys from t down to that table (keys[1] is t's). */
int anth_core_plain_copy(lua_State *L);

#endif
