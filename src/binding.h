/*
 * binding.h: what the parts of the anthropic.core binding share: binding.c (the module, the
 * Client userdata, the kind table and the failure typing as Lua values), binding_request.c
 * (the Request userdata) and binding_headers.c (the read-only Headers userdata).
 */
#ifndef ANTH_BINDING_H
#define ANTH_BINDING_H

#include "compat.h"

#define ANTH_CLIENT_MT "anthropic.Client"
#define ANTH_REQUEST_MT "anthropic.Request"
#define ANTH_HEADERS_MT "anthropic.Headers"

/* The engine of the open Client at stack index 1; raises for a closed one (binding.c). */
struct anth_engine *anth_client_engine(lua_State *L);
/* client:request{...} -> Request (binding_request.c). */
int anth_client_request(lua_State *L);
/* Registers the Request and Headers metatables. */
void anth_request_register(lua_State *L);
/* Pushes a Headers userdata holding a copy of a packed header list (headers.h). */
void anth_push_headers(lua_State *L, const char *packed, size_t len);
/* Registers the Headers metatable (binding_headers.c). */
void anth_headers_register(lua_State *L);
/* A metatable `name` with methods as __index, gc as __gc and __close, and __name. */
void anth_new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc);

#endif
