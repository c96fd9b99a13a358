# mk/host.mk: the C host example (examples/host/): a program that embeds Lua the way a game or
# an editor does, links the Lua library statically and has lua-anthropic's C core compiled in
# (registered in package.preload, no core.so involved). One source for Lua 5.1-5.4 and LuaJIT:
# HOST_LUA picks the Lua (default $(LUA), else lua5.4). Included by the Makefile; works on its
# own too: make -f mk/host.mk host-test HOST_LUA=luajit
#
#   host-build      build/host/<lua>/anthropic-host with $(HOST_CC) (default $(CC))
#   host-test       start a mock, run the host with $(HOST_STREAMS) streams, check its report
#   host-test-all   host-test for every Lua in HOST_LUAS
#   host-warnings   compile with gcc and with clang, -Wall -Wextra -Werror (CI: both must pass)
#   host-clean
#
# Static Lua and C modules: the host links liblua*.a, yet at run time it loads lua-cjson's
# cjson.so from package.cpath. That module calls the Lua API (lua_pushstring, ...) and expects
# to find those symbols in the process, so the executable must export them: -Wl,-E
# (--export-dynamic). Without it, require "cjson" fails with "undefined symbol: lua_...".
# The host needs at run time only libcurl and lua-cjson; its Lua modules come from lua/
# (passed with --lua-dir).

include mk/flags.mk
HOST_LUA ?= $(or $(LUA),lua5.4)
HOST_LUAS ?= lua5.1 lua5.2 lua5.3 lua5.4 luajit
HOST_CC ?= $(CC)
HOST_LUA_PC ?= $(HOST_LUA)
HOST_DIR ?= build/host/$(HOST_LUA)
HOST_BIN ?= $(HOST_DIR)/anthropic-host
HOST_STREAMS ?= 10
HOST_SRC = examples/host/host.c $(CORE_SRC)
HOST_HDR = $(CORE_HDR)
HOST_WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HOST_OPT ?= -O2 -g
HOST_CFLAGS = -std=c99 $(HOST_WARN) $(HOST_OPT) $(shell pkg-config --cflags $(HOST_LUA_PC) libcurl)
# The Lua library by its pkg-config name (lua5.4, luajit-5.1, ...), taken from the static archive.
HOST_LUA_LIB = $(patsubst -l%,%,$(firstword $(shell pkg-config --libs-only-l $(HOST_LUA_PC))))
HOST_LIBS = -Wl,-Bstatic -l$(HOST_LUA_LIB) -Wl,-Bdynamic -Wl,-E \
            $(shell pkg-config --libs libcurl) -lm -ldl

.PHONY: host-build host-test host-test-all host-warnings host-clean

host-build: $(HOST_BIN)

$(HOST_BIN): $(HOST_SRC) $(HOST_HDR) mk/host.mk
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(HOST_SRC) $(HOST_LIBS)

host-test: $(HOST_BIN)
	sh examples/host/test.sh $(HOST_BIN) $(HOST_STREAMS)

host-test-all:
	@set -e; for l in $(HOST_LUAS); do \
	  echo "== host-test $$l"; $(MAKE) --no-print-directory -f mk/host.mk HOST_LUA=$$l host-test; \
	done

host-warnings:
	@mkdir -p $(HOST_DIR)
	gcc $(HOST_CFLAGS) -o $(HOST_DIR)/anthropic-host-gcc $(HOST_SRC) $(HOST_LIBS)
	clang $(HOST_CFLAGS) -o $(HOST_DIR)/anthropic-host-clang $(HOST_SRC) $(HOST_LIBS)

host-clean:
	rm -rf build/host
