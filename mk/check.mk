# mk/check.mk: the quality gates of issue 9 that go beyond "the specs pass": the Lua specs
# against anthropic.core built with ASan+UBSan, the specs under valgrind memcheck with an
# aggressive GC, cppcheck over every C file, and a 10,000-request soak that watches RSS.
# Included by the top Makefile (`-include mk/check.mk`); reuses mk/c.mk's C unit-test targets.
#
#   make sanitize    C unit tests under ASan+UBSan (c-test-asan), then the core specs against
#                    build/asan/anthropic/core.so (clang, -fsanitize=address,undefined) under
#                    $(CHECK_LUA), with clang's ASan runtime LD_PRELOADed into the interpreter
#   make valgrind    C unit tests under memcheck (c-test-valgrind), then the core specs under
#                    memcheck with the GC-stress helper (spec/support/gc_stress.lua)
#   make cppcheck    cppcheck over src/ and examples/host, then mk/c.mk's cppcheck-c
#   make soak        tools/soak.lua: 10,000 requests in one process, RSS sampled every 1,000
#
# Every target fails on any report: an ASan/UBSan/LSan report from a Lua process (the specs'
# interpreter, and the mock and CLI processes they start), a memcheck error or definite leak,
# a cppcheck finding, or RSS growth past SOAK_MAX_GROWTH_KB; and on any failing spec.
#
# Why the sanitizer runs this way: the Debian interpreters are not built with ASan, so the
# module is compiled with -fsanitize=... and the runtime is preloaded (it must be the first
# DSO; a sanitized .so dlopen()ed into an unsanitized process without it fails to load).
# Reports go to files (log_path) as well as ending the process, because a report from a
# subprocess or from LeakSanitizer at exit would not otherwise fail busted's run.

CHECK_LUA ?= lua5.4
CHECK_CLANG ?= clang
CHECK_CC ?= gcc
CHECK_PC = $(or $(LUA_PC_$(CHECK_LUA)),$(CHECK_LUA))
include mk/flags.mk
CHECK_SRC = $(CORE_SRC)
CHECK_HDR = $(CORE_HDR)
CHECK_CFLAGS = $(CORE_FLAGS) -Werror \
  $(shell pkg-config --cflags $(CHECK_PC)) $(shell pkg-config --cflags libcurl)
CHECK_LIBS = $(shell pkg-config --libs libcurl libcrypto zlib)
CHECK_BUSTED ?= $(shell command -v busted)
# Specs that drive the C paths: transfers, streams (SSE) and batch results (JSONL), retries,
# timers (the engine's sleep and bulk jobs drive the core's clock and sleep), callbacks and
# tasks, errors, TLS, limits, finalizers, hostile servers, params walks and the encoder's walk,
# the retry notes and timings the log reads (log_spec)
# (the property spec runs a 60-case sample under valgrind); the CLI's subprocesses load the
# sanitized module too. Left out: the mock's own specs and the pure-Lua accumulator (no C),
# hosts_spec (its C host links its own static build of the core).
CHECK_SPECS_ALL = spec/client_spec.lua spec/stream_spec.lua spec/retry_spec.lua \
  spec/nonblocking_spec.lua spec/tasks_spec.lua spec/engine_edge_spec.lua spec/count_tokens_spec.lua \
  spec/models_spec.lua spec/batches_spec.lua spec/access_spec.lua spec/fallback_spec.lua \
  spec/cli_spec.lua spec/bad_input_spec.lua spec/secrets_spec.lua spec/limits_spec.lua \
  spec/tls_spec.lua spec/finalizers_spec.lua spec/bedrock_spec.lua spec/vertex_spec.lua \
  spec/cli_platforms_spec.lua spec/hostile_spec.lua spec/params_spec.lua \
  spec/params_property_spec.lua spec/descriptors_spec.lua spec/files_spec.lua spec/timers_spec.lua \
  spec/bulk_spec.lua spec/queue_spec.lua spec/log_spec.lua \
  spec/content_spec.lua spec/plain_spec.lua spec/json_prepare_spec.lua spec/send_now_spec.lua
CHECK_SPECS ?= $(CHECK_SPECS_ALL)
CHECK_LPATH = $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/?.lua;;

# ---- sanitize ---------------------------------------------------------------------------
ASAN_BUILD ?= build/asan
ASAN_SO = $(ASAN_BUILD)/anthropic/core.so
ASAN_FLAGS ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
  -fno-sanitize-recover=undefined
ASAN_RT = $(shell $(CHECK_CLANG) -print-file-name=libclang_rt.asan-x86_64.so)
ASAN_REPORTS = $(CURDIR)/$(ASAN_BUILD)/reports
# detect_leaks: the interpreter frees its state at exit (and what it keeps until then is
# still reachable), so leaks are on; tools/lsan.supp is for allocations of libraries we do not
# own that are kept for the life of the process (empty so far).
# detect_odr_violation=0: the unsanitized interpreter and libraries are not instrumented.
# log_exe_name=1: report files are named san.<program>.<pid>. The preloaded runtime is
# inherited by every process the specs start (sh, mktemp, openssl, nginx, the mock, the CLI);
# only reports from a Lua interpreter count (those are the processes that load anthropic.core
# and run our Lua), the others (e.g. LeakSanitizer on mktemp) are listed and ignored.
# LSAN exitcode=0: a leak report must not change a helper's exit status (the specs check exit
# codes); leaks in a Lua process still fail the target through their report file.
# intercept_tls_get_addr=0: clang 14's runtime takes a dynamic TLS block that happens to start
# 16 bytes into a page for a pre-2.25 glibc one and reads a bogus range from the two words
# before it; LeakSanitizer's tracer then crashes at exit ("Tracer caught signal 11", the
# report file shows "DTLS ... at 0x...f1"), and the process's buffered stdout is lost. Where
# blocks land is down to allocation order, so any change could trip it (the bulk kill -9 rerun
# did). Dynamic TLS is then not a root for the leak scan; nothing of ours lives there.
ASAN_LOG = log_path=$(ASAN_REPORTS)/san:log_exe_name=1
ASAN_ENV = LD_PRELOAD=$(ASAN_RT) \
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_odr_violation=0:strict_string_checks=1:detect_stack_use_after_return=1:intercept_tls_get_addr=0:$(ASAN_LOG) \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0:exitcode=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$(ASAN_LOG)

.PHONY: sanitize sanitize-lua valgrind valgrind-lua cppcheck soak check-clean

$(ASAN_SO): $(CHECK_SRC) $(CHECK_HDR) mk/check.mk
	@mkdir -p $(dir $@)
	$(CHECK_CLANG) $(CHECK_CFLAGS) $(ASAN_FLAGS) -shared -o $@ $(CHECK_SRC) $(CHECK_LIBS)

sanitize: c-test-asan sanitize-lua

sanitize-lua: $(ASAN_SO)
	@test -f "$(ASAN_RT)" || { echo "sanitize: no ASan runtime at '$(ASAN_RT)' (install clang)"; exit 1; }
	@rm -rf $(ASAN_REPORTS); mkdir -p $(ASAN_REPORTS)
	@echo "sanitize: $(CHECK_LUA) + $(ASAN_SO), specs: $(notdir $(CHECK_SPECS))"
	@rc=0; env LUA_PATH='$(CHECK_LPATH)' LUA_CPATH='$(CURDIR)/$(ASAN_BUILD)/?.so;;' \
	  ANTHROPIC_TEST_LUA=$(CHECK_LUA) $(ASAN_ENV) \
	  $(CHECK_LUA) $(CHECK_BUSTED) --ignore-lua -o utfTerminal $(CHECK_SPECS) || rc=$$?; \
	bad=0; for f in $(ASAN_REPORTS)/san.*; do [ -e "$$f" ] || continue; \
	  case "$${f##*/}" in \
	    san.lua*) bad=1; echo "==== $$f"; head -100 "$$f";; \
	    *) echo "sanitize: ignored a report from a non-Lua helper process: $${f##*/}";; \
	  esac; done; \
	if [ $$bad -ne 0 ]; then echo "sanitize: FAILED: sanitizer reports above"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then echo "sanitize: FAILED: busted exit code $$rc"; exit 1; fi; \
	echo "sanitize: ok, no ASan/UBSan/LSan report from a Lua process"

# ---- valgrind ---------------------------------------------------------------------------
VG_BUILD ?= build/valgrind
VG_SO = $(VG_BUILD)/anthropic/core.so
VG_SUPP = tools/valgrind.supp
# Definite leaks and every invalid access fail the run; "possibly lost" is libcurl/OpenSSL
# keeping interior pointers into their own caches, which memcheck cannot tell from a leak.
# No --track-origins: it doubles the run time; add it through VG_EXTRA when chasing a report.
VG_EXTRA ?=
VG = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --num-callers=30 --suppressions=$(VG_SUPP) \
  --log-file=$(CURDIR)/$(VG_BUILD)/memcheck.%p.log $(VG_EXTRA)
# The report read is busted's own log, found by the pid the shell records before it execs
# valgrind (PIDs wrap, so the first log by name can be a forked child's), and any log with an
# error fails the run too.
# The valgrind run uses the GC-stress helper: a full collection after every test and a GC
# that never pauses, so finalizers run while transfers are in flight.
VG_SPECS ?= $(CHECK_SPECS)

$(VG_SO): $(CHECK_SRC) $(CHECK_HDR) mk/check.mk
	@mkdir -p $(dir $@)
	$(CHECK_CC) $(CHECK_CFLAGS) -O1 -g -shared -o $@ $(CHECK_SRC) $(CHECK_LIBS)

valgrind: c-test-valgrind valgrind-lua

valgrind-lua: $(VG_SO)
	@rm -f $(VG_BUILD)/memcheck.*.log
	@echo "valgrind: $(CHECK_LUA) + $(VG_SO), specs: $(notdir $(VG_SPECS))"
	@rc=0; env LUA_PATH='$(CHECK_LPATH)' LUA_CPATH='$(CURDIR)/$(VG_BUILD)/?.so;;' \
	  ANTHROPIC_TEST_LUA=$(CHECK_LUA) ANTHROPIC_GC_STRESS=1 \
	  sh -c 'echo $$$$ > $(VG_BUILD)/busted.pid; exec "$$@"' sh \
	  $(VG) $(CHECK_LUA) $(CHECK_BUSTED) --ignore-lua -o utfTerminal \
	  --helper=spec/support/gc_stress.lua $(VG_SPECS) || rc=$$?; \
	log=$(VG_BUILD)/memcheck.$$(cat $(VG_BUILD)/busted.pid).log; \
	grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" $$log; \
	bad=$$(grep -l "ERROR SUMMARY: [1-9]" $(VG_BUILD)/memcheck.*.log); \
	if [ $$rc -eq 99 ] || ! grep -q "ERROR SUMMARY: 0 errors" $$log || [ -n "$$bad" ]; then \
	  cat $$log $$bad; echo "valgrind: FAILED: memcheck errors above"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then echo "valgrind: FAILED: busted exit code $$rc"; exit 1; fi; \
	echo "valgrind: ok, 0 errors, nothing definitely lost"

# ---- cppcheck ---------------------------------------------------------------------------
# No -I for the Lua/curl headers: cppcheck then checks our code rather than chasing system
# headers (luaconf.h trips its preprocessor); missingIncludeSystem is expected.
CHECK_CPPCHECK_FILES = src $(wildcard examples/host/*.c)

cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(CHECK_CPPCHECK_FILES)
	@$(MAKE) --no-print-directory cppcheck-c
	@echo "cppcheck: ok"

# ---- soak -------------------------------------------------------------------------------
SOAK_REQUESTS ?= 10000
SOAK_MAX_GROWTH_KB ?= 1024
soak:
	@$(MAKE) --no-print-directory LUA=$(CHECK_LUA) all
	env LUA_PATH='$(CHECK_LPATH)' LUA_CPATH='$(CURDIR)/build/$(CHECK_LUA)/?.so;;' \
	  $(CHECK_LUA) tools/soak.lua --requests $(SOAK_REQUESTS) --max-growth-kb $(SOAK_MAX_GROWTH_KB)

check-clean:
	rm -rf $(ASAN_BUILD) $(VG_BUILD)
