# mk/rock.mk: how LuaRocks builds anthropic.core (rockspec build.type = "make"). It compiles
# exactly what the development build compiles, with the same standard, warnings and hidden
# symbols (mk/flags.mk), so the rock's core.so exports only luaopen_anthropic_core.
#
# LuaRocks passes: CC, CFLAGS (its own, e.g. -O2 -fPIC), LIBFLAG (-shared), LUA_INCDIR,
# CURL_INCDIR and CURL_LIBDIR (from external_dependencies, overridable on the command line:
# luarocks make ... CURL_DIR=/opt/curl), and INST_LIBDIR for the install step.
#
#   rock-core           build build/rock/anthropic/core.so
#   rock-install-core   copy it into $(INST_LIBDIR)/anthropic/ and remove build/rock, so the
#                       checkout keeps nothing a later build or interpreter could pick up

include mk/flags.mk

CC ?= cc
CFLAGS ?= -O2 -fPIC
LIBFLAG ?= -shared
ROCK_BUILD = build/rock

.PHONY: rock-core rock-install-core

# Debian and Ubuntu keep curl/curl.h in a multiarch directory (/usr/include/<triplet>/) that
# the compiler searches by itself but LuaRocks' header check does not; so the rockspec checks
# for the library only and this step checks that the header compiles, with the one hint a
# user needs when it does not.
rock-core:
	@printf '#include <curl/curl.h>\n' | $(CC) -E -I$(CURL_INCDIR) -x c - >/dev/null 2>&1 || { \
	  echo "anthropic: curl/curl.h not found: install libcurl's headers (Debian/Ubuntu:" \
	       "apt-get install libcurl4-openssl-dev; Fedora: libcurl-devel; macOS: brew install curl)," \
	       "or point LuaRocks at them: luarocks make ... CURL_DIR=<prefix>" >&2; exit 1; }
	rm -rf $(ROCK_BUILD)
	mkdir -p $(ROCK_BUILD)/anthropic
	$(CC) $(CORE_FLAGS) $(CFLAGS) -I$(LUA_INCDIR) -I$(CURL_INCDIR) $(LIBFLAG) \
	  -o $(ROCK_BUILD)/anthropic/core.so $(CORE_SRC) -L$(CURL_LIBDIR) $(CORE_LIBS)

rock-install-core:
	mkdir -p $(INST_LIBDIR)/anthropic
	cp $(ROCK_BUILD)/anthropic/core.so $(INST_LIBDIR)/anthropic/core.so
	rm -rf $(ROCK_BUILD)
	rmdir build 2>/dev/null || true
