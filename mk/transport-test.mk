# mk/transport-test.mk: the transfer engine's C test (spec/c/test_transport.c): src/engine.c,
# transfer.c and the plain-C pieces under them, linked with libcurl, libcrypto and zlib (no
# Lua), driven through real transfers against an anthropic-mock the test starts itself (TT_LUA
# runs it). Meant for `-include` from the top Makefile; works alone too:
# make -f mk/transport-test.mk transport-test
#
#   transport-test            gcc, -Werror
#   transport-test-clang      clang, -Werror
#   transport-test-asan       clang with ASan+UBSan (LeakSanitizer on)
#   transport-test-valgrind   memcheck over the gcc build (definite leaks and bad accesses fail)
#   transport-test-all        all four
#
# Only TT_* variables are defined (with ?=), and the including Makefile's default goal is kept.

TT_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)
TT_STANDALONE := $(if $(filter 1,$(words $(MAKEFILE_LIST))),1,)

TT_BUILD ?= build/transport-test
TT_LUA ?= lua5.4
TT_SRC = spec/c/test_transport.c src/engine.c src/transfer.c src/transfer_io.c \
  src/easy_options.c src/event_queue.c src/upload.c src/download.c \
  src/headers.c src/lines.c src/sse.c src/errors.c src/eventstream.c src/errors_aws.c \
  src/bedrock_chunk.c src/crypto.c
TT_DEPS = $(TT_SRC) spec/c/check.h $(wildcard src/*.h) mk/transport-test.mk
TT_WARN ?= -std=c99 -Wall -Wextra -Werror
TT_CURL_CFLAGS = $(shell pkg-config --cflags libcurl)
TT_CURL_LIBS = $(shell pkg-config --libs libcurl libcrypto zlib)
TT_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TT_VALGRIND ?= valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite -q
TT_ENV = ANTH_TEST_LUA=$(TT_LUA)

.PHONY: transport-test transport-test-clang transport-test-asan transport-test-valgrind \
	transport-test-all transport-test-clean

$(TT_BUILD)/gcc/test_transport: $(TT_DEPS)
	@mkdir -p $(dir $@)
	gcc $(TT_WARN) -O2 -g $(TT_CURL_CFLAGS) -o $@ $(TT_SRC) $(TT_CURL_LIBS)

$(TT_BUILD)/clang/test_transport: $(TT_DEPS)
	@mkdir -p $(dir $@)
	clang $(TT_WARN) -O2 -g $(TT_CURL_CFLAGS) -o $@ $(TT_SRC) $(TT_CURL_LIBS)

$(TT_BUILD)/asan/test_transport: $(TT_DEPS)
	@mkdir -p $(dir $@)
	clang $(TT_WARN) -O1 -g $(TT_SAN) $(TT_CURL_CFLAGS) -o $@ $(TT_SRC) $(TT_CURL_LIBS)

transport-test: $(TT_BUILD)/gcc/test_transport
	$(TT_ENV) $<

transport-test-clang: $(TT_BUILD)/clang/test_transport
	$(TT_ENV) $<

transport-test-asan: $(TT_BUILD)/asan/test_transport
	$(TT_ENV) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $<

transport-test-valgrind: $(TT_BUILD)/gcc/test_transport
	$(TT_ENV) $(TT_VALGRIND) $<

transport-test-all: transport-test transport-test-clang transport-test-asan transport-test-valgrind

transport-test-clean:
	rm -rf $(TT_BUILD)

.DEFAULT_GOAL := $(if $(TT_STANDALONE),transport-test,$(TT_SAVED_DEFAULT_GOAL))
