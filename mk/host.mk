# mk/host.mk: the C host example (examples/host/): a program that embeds Lua 5.4 and has
# lua-anthropic's C core compiled in (registered with luaL_requiref, no core.so involved).
# Included by the Makefile; works on its own too: make -f mk/host.mk host-test
#
#   host-build      build/host/anthropic-host with $(HOST_CC) (default $(CC))
#   host-test       start a mock, run the host with $(HOST_STREAMS) streams, check its report
#   host-warnings   compile with gcc and with clang, -Wall -Wextra -Werror (CI: both must pass)
#   host-clean
#
# The host needs only Lua 5.4 headers/library, libcurl and lua-cjson at run time; its Lua
# modules come from lua/ (passed with --lua-dir).

HOST_CC ?= $(CC)
HOST_LUA_PC ?= lua5.4
HOST_DIR ?= build/host
HOST_BIN ?= $(HOST_DIR)/anthropic-host
HOST_STREAMS ?= 10
HOST_SRC = examples/host/host.c src/binding.c src/transport.c src/sse.c src/errors.c src/utf8.c src/redact.c \
           src/compat.c
HOST_HDR = $(wildcard src/*.h)
HOST_WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HOST_OPT ?= -O2 -g
HOST_CFLAGS = -std=c99 $(HOST_WARN) $(HOST_OPT) $(shell pkg-config --cflags $(HOST_LUA_PC) libcurl)
HOST_LIBS = $(shell pkg-config --libs $(HOST_LUA_PC) libcurl) -lm

.PHONY: host-build host-test host-warnings host-clean

host-build: $(HOST_BIN)

$(HOST_BIN): $(HOST_SRC) $(HOST_HDR) mk/host.mk
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(HOST_SRC) $(HOST_LIBS)

host-test: $(HOST_BIN)
	sh examples/host/test.sh $(HOST_BIN) $(HOST_STREAMS)

host-warnings:
	@mkdir -p $(HOST_DIR)
	gcc $(HOST_CFLAGS) -o $(HOST_DIR)/anthropic-host-gcc $(HOST_SRC) $(HOST_LIBS)
	clang $(HOST_CFLAGS) -o $(HOST_DIR)/anthropic-host-clang $(HOST_SRC) $(HOST_LIBS)

host-clean:
	rm -rf $(HOST_DIR)
