# lua-anthropic: build, test, demo.
#
#   make                 build anthropic.core for $(LUA) (default lua5.4) into build/$(LUA)/
#   make test            C unit tests, luacheck, and the busted specs against a local mock
#   make test-all        the specs under Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT
#   make demo            the demo: mock server, access check, fallback, wrong key
#   make bench           the benchmark harness (bench/REPORT.md)
#   make bench-hostile   the costs of issue 15 (scrubbing, on_text) in one process
#   make bench-queue     a rate-limited queue's time against the minimum its limit allows
#   make bench-files     peak RSS of a 200 MB upload and a 200 MB download to a path
#   make bench-bulk      what a 10,000-request bulk job costs here, with and without a state file
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
include mk/flags.mk
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CORE_FLAGS) $(CFLAGS) \
             $(shell pkg-config --cflags $(LUA_PC)) $(shell pkg-config --cflags libcurl)
LDFLAGS ?=
LIBS = $(shell pkg-config --libs libcurl libcrypto zlib)

BUILD = build/$(LUA)
CORE_SO = $(BUILD)/anthropic/core.so

export LUA_PATH := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

BUSTED ?= busted
BUSTED_FLAGS ?= -o utfTerminal
SPEC ?= spec

.PHONY: all test test-lua test-all lint demo bench bench-callbacks bench-hostile bench-files bench-bulk bench-queue clean check-deps rockspec rock-install dist prism check-test-deps self-contained love-test

LUAROCKS ?= luarocks
TREE ?= build/rocktree

all: $(CORE_SO)

# Linked beside the target and renamed over it: a process loading core.so while another make
# rebuilds it (two Luas' specs at once, each starting the Neovim host) sees the old file or the
# new one, never a half-written one.
$(CORE_SO): $(CORE_SRC) $(CORE_HDR) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@.$$$$.tmp $(CORE_SRC) $(LDFLAGS) $(LIBS) && mv -f $@.$$$$.tmp $@

check-deps:
	@sh tools/check-deps.sh $(LUA)

check-test-deps:
	@sh tools/check-deps.sh $(LUA) --test

# The specs start their own mock server (spec/support/mock.lua) unless ANTHROPIC_MOCK_URL is set.
test-lua: $(CORE_SO)
	ANTHROPIC_TEST_LUA=$(LUA) $(BUSTED) --lua=$(LUA) $(BUSTED_FLAGS) $(SPEC)

# The schema check (spec/schema_spec.lua) runs requests through prism, a test-only npm package
# that needs Node.js >= 18.20: installed when this machine has it, else skipped with one line
# saying what to install (.ci/run sets ANTHROPIC_REQUIRE_PRISM=1, so CI never skips it).
prism:
	@sh tools/prism/ensure

test: check-test-deps $(CORE_SO) prism self-contained c-test lint test-lua

test-all: check-test-deps prism self-contained c-test lint
	@set -e; for l in $(LUAS); do \
	  echo "== $$l"; $(MAKE) --no-print-directory LUA=$$l test-lua; \
	done

# No tracked file may reach outside the repository (tools/check-self-contained.sh).
self-contained:
	@sh tools/check-self-contained.sh

lint:
	luacheck lua bin spec examples tools bench

# The LÖVE game (examples/love/) under Xvfb against the mock: LÖVE runs LuaJIT (CI: .ci/run).
love-test:
	@$(MAKE) --no-print-directory -s LUA=luajit all
	@sh tools/with-mock.sh sh examples/love/test.sh

demo: check-deps $(CORE_SO)
	@$(LUA) examples/demo.lua

bench: $(CORE_SO)
	bash bench/run

# What the typed stream callbacks cost, with and without snapshots (bench/callbacks.lua).
bench-callbacks: $(CORE_SO)

# What a 200 MB upload and a 200 MB download to a path raise peak RSS by (bench/files_rss.lua).
bench-files: $(CORE_SO)
	$(LUA) bench/files_rss.lua

bench-bulk: $(CORE_SO)
	$(LUA) bench/bulk.lua

# A rate-limited queue against the minimum time its limit allows (bench/queue.lua).
bench-queue: $(CORE_SO)
	$(LUA) bench/queue.lua

rockspec:
	$(LUA) tools/gen-rockspec.lua

# The two rocks (tools/gen-rockspec.lua): anthropic (client, core, CLI) and anthropic-mock.
ROCKSPECS = rockspec/anthropic-mock-scm-1.rockspec rockspec/anthropic-scm-1.rockspec
# Dependencies come from Debian's packages here (lua-cjson, lua-socket) and no rock server is
# reachable, so LuaRocks is told not to resolve them; with a network, leave that out.
ROCK_DEPS_MODE ?= --deps-mode=none
ROCK = $(LUAROCKS) --lua-version=$(LUA_VERSION_$(LUA)) --tree=$(TREE)

# Installs both rocks into $(TREE) for $(LUA) with plain `luarocks make` (no include or
# library paths given: the rockspec and mk/rock.mk find libcurl on multiarch Debian/Ubuntu).
# LuaJIT uses the Lua 5.1 build, as Debian's own C modules do: LuaJIT loads 5.1 C modules.
rock-install:
	@set -e; for r in $(ROCKSPECS); do $(ROCK) make $(ROCK_DEPS_MODE) $$r; done

# Source rocks of HEAD, build/dist/<name>-scm-1.src.rock: the rockspec beside the tree as
# LuaRocks unpacks a git source (directory lua-anthropic/), for `luarocks install FILE`.
DIST = build/dist
dist:
	@mkdir -p $(DIST)
	@set -e; for r in $(ROCKSPECS); do n=$$(basename $$r .rockspec); \
	  git archive --format=zip --add-file=$$r --prefix=lua-anthropic/ -o $(DIST)/$$n.src.rock HEAD; \
	  echo "$(DIST)/$$n.src.rock"; done

LUA_VERSION_lua5.1 = 5.1
LUA_VERSION_lua5.2 = 5.2
LUA_VERSION_lua5.3 = 5.3
LUA_VERSION_lua5.4 = 5.4
LUA_VERSION_luajit = 5.1

clean:
	rm -rf build

-include mk/c.mk mk/check.mk mk/host.mk mk/transport-test.mk
