# lua-anthropic: build, test, demo.
#
#   make                 build anthropic.core for $(LUA) (default lua5.4) into build/$(LUA)/
#   make test            C unit tests, luacheck, and the busted specs against a local mock
#   make test-all        the specs under Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT
#   make demo            the demo: mock server, access check, fallback, wrong key
#   make bench           the benchmark harness (bench/REPORT.md)
#
# Everything runs in place: LUA_PATH/LUA_CPATH point at lua/ and build/$(LUA)/.

LUA ?= lua5.4
# pkg-config name of the Lua headers for $(LUA)
LUA_PC_lua5.1 = lua5.1
LUA_PC_lua5.2 = lua5.2
LUA_PC_lua5.3 = lua5.3
LUA_PC_lua5.4 = lua5.4
LUA_PC_luajit = luajit
LUA_PC ?= $(LUA_PC_$(LUA))
LUAS = lua5.1 lua5.2 lua5.3 lua5.4 luajit

CC ?= cc
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wcast-align
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c99 -fPIC -fvisibility=hidden $(WARN) $(CFLAGS) \
             $(shell pkg-config --cflags $(LUA_PC)) $(shell pkg-config --cflags libcurl)
LDFLAGS ?=
LIBS = $(shell pkg-config --libs libcurl)

BUILD = build/$(LUA)
CORE_SRC = src/binding.c src/transport.c src/sse.c src/errors.c src/utf8.c src/redact.c src/compat.c
CORE_HDR = $(wildcard src/*.h)
CORE_SO = $(BUILD)/anthropic/core.so

export LUA_PATH := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

BUSTED ?= busted
BUSTED_FLAGS ?= -o utfTerminal
SPEC ?= spec

.PHONY: all test test-lua test-all lint demo bench clean check-deps rockspec rock-install

# Debian keeps curl/curl.h in a multiarch directory that LuaRocks does not search.
CURL_INCDIR ?= $(firstword $(patsubst -I%,%,$(shell pkg-config --cflags-only-I libcurl)) /usr/include)
CURL_LIBDIR ?= $(firstword $(patsubst -L%,%,$(shell pkg-config --libs-only-L libcurl)) \
                 /usr/lib/$(shell $(CC) -print-multiarch))
LUAROCKS ?= luarocks
TREE ?= build/rocktree

all: $(CORE_SO)

$(CORE_SO): $(CORE_SRC) $(CORE_HDR) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(CORE_SRC) $(LDFLAGS) $(LIBS)

check-deps:
	@sh tools/check-deps.sh $(LUA)

# The specs start their own mock server (spec/support/mock.lua) unless ANTHROPIC_MOCK_URL is set.
test-lua: $(CORE_SO)
	ANTHROPIC_TEST_LUA=$(LUA) $(BUSTED) --lua=$(LUA) $(BUSTED_FLAGS) $(SPEC)

# The schema check (spec/schema_spec.lua) runs requests through prism, a test-only npm package.
PRISM = tools/prism/node_modules/.bin/prism
$(PRISM): tools/prism/package.json tools/prism/package-lock.json
	@command -v npm >/dev/null || { echo "the schema spec needs Node.js >= 18.20 and npm" >&2; exit 1; }
	sh tools/prism/install

test: check-deps $(CORE_SO) $(PRISM) c-test lint test-lua

test-all: check-deps $(PRISM) c-test lint
	@set -e; for l in $(LUAS); do \
	  echo "== $$l"; $(MAKE) --no-print-directory LUA=$$l test-lua; \
	done

lint:
	luacheck lua bin spec examples tools bench

demo: check-deps $(CORE_SO)
	@$(LUA) examples/demo.lua

bench: $(CORE_SO)
	bash bench/run

rockspec:
	$(LUA) tools/gen-rockspec.lua

# Installs the rock into $(TREE) for $(LUA) (dependencies come from Debian packages here).
rock-install:
	$(LUAROCKS) --lua-version=$(LUA_VERSION_$(LUA)) --tree=$(TREE) make --deps-mode=none \
	  rockspec/anthropic-scm-1.rockspec CURL_INCDIR=$(CURL_INCDIR) CURL_LIBDIR=$(CURL_LIBDIR) \
	  LUA_INCDIR=$(patsubst -I%,%,$(firstword $(shell pkg-config --cflags-only-I $(LUA_PC))))
	@# LuaRocks builds in the checkout: drop its objects, and the anthropic/core.so that Lua's
	@# default ./?.so search would otherwise find before the build for another Lua.
	rm -rf anthropic src/*.o

LUA_VERSION_lua5.1 = 5.1
LUA_VERSION_lua5.2 = 5.2
LUA_VERSION_lua5.3 = 5.3
LUA_VERSION_lua5.4 = 5.4
LUA_VERSION_luajit = 5.1

clean:
	rm -rf build

-include mk/c.mk mk/check.mk mk/host.mk mk/transport-test.mk
