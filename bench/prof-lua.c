/* bench/prof-lua.c: a minimal stand-alone Lua interpreter for profiling runs only.
 *
 *   prof-lua SCRIPT [ARGS...]     runs SCRIPT with the global `arg` set as lua.c sets it.
 * Debian's lua5.4 and luajit binaries are stripped and keep the VM in a stripped shared
 * library, so callgrind can name none of the interpreter's functions (luaV_execute, luaH_get,
 * lj_*...). Linked statically against liblua5.4.a / libluajit-5.1.a, which keep their symbol
 * tables, and with -Wl,-E so that C modules (cjson, socket, anthropic.core) bind to this copy
 * of the Lua API, the same runs profile with names. Not used for timing.
 * Build: cc -O2 -g prof-lua.c $(pkg-config --cflags lua5.4) -Wl,-E liblua5.4.a -lm -ldl
 */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>

static int anth_traceback(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: prof-lua SCRIPT [ARGS...]\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_createtable(L, argc, 0);
    for (int i = 0; i < argc; i++) { /* arg[0] = script, arg[-1] = this program */
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, anth_traceback);
    int rc = luaL_loadfile(L, argv[1]);
    if (rc == 0) {
        for (int i = 2; i < argc; i++)
            lua_pushstring(L, argv[i]);
        rc = lua_pcall(L, argc - 2, 0, -(argc - 2) - 2);
    }
    if (rc != 0)
        fprintf(stderr, "prof-lua: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return rc == 0 ? 0 : 1;
}
