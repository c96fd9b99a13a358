/*
 * json_prepare.h: core.json_preparer, the walk json.encode makes before cjson prints a table
 * (see json_prepare.c). Calls no libcurl; runs only from Lua.
 */
#ifndef ANTH_JSON_PREPARE_H
#define ANTH_JSON_PREPARE_H

#include <lua.h>

/* json_preparer(array_mt, object_mt, null, array_keys, opaque_keys, empty_array, number_prefix,
 * reserved) -> preparer: json.lua's constants, fixed once. preparer(t, numbers) -> prepared,
 * changed, nnumbers, or nil, message, keys: keys lists the keys from t down to the refused
 * value (keys[1] is t's). */
int anth_core_json_preparer(lua_State *L);

#endif
