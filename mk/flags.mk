# mk/flags.mk: the one definition of what anthropic.core is built from and with which flags,
# shared by the development build (Makefile), the LuaRocks build (mk/rock.mk), the checks
# (mk/check.mk) and the C host (mk/host.mk). Change a flag here and every build follows.
#
#   CORE_SRC    every C file in src/ (one concept each; a new file is part of the core)
#   CORE_FLAGS  C standard, PIC, hidden symbols (only luaopen_anthropic_core is marked for
#               export, in binding.c) and the warnings every build compiles with
#   CORE_LIBS   what the core links against, without -L (each build says where to look)

CORE_SRC := $(sort $(wildcard src/*.c))
CORE_HDR := $(wildcard src/*.h)
CORE_WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
             -Wcast-align
CORE_FLAGS := -std=c99 -fPIC -fvisibility=hidden $(CORE_WARN)
CORE_LIBS := -lcurl
