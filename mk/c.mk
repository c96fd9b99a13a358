# mk/c.mk: build, test, sanitize, fuzz and lint the plain-C core pieces (src/sse.c,
# src/lines.c, src/headers.c, src/errors.c, src/eventstream.c, src/errors_aws.c, src/sigv4.c,
# src/crypto.c, src/redact.c, src/download.c, src/event_queue.c, src/bedrock_chunk.c, src/text_delta.c), which have no Lua dependency and call no curl function (errors.c reads the
# CURLcode names from curl/curl.h; eventstream.c uses zlib's crc32, sigv4.c and crypto.c
# OpenSSL's libcrypto). Included by the top Makefile; until
# then: make -f mk/c.mk c-test
#
# Targets (all phony): c-test c-test-clang c-test-asan c-test-valgrind c-bench fuzz
#   fuzz-corpus fuzz-regress cppcheck-c c-clean
# Only C_*, FUZZ_* and CPPCHECK_* variables are defined, all with ?=, and this file does not
# change the including Makefile's default goal. Paths are relative to the project root
# (the directory make runs in).

C_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)
C_MK_STANDALONE := $(if $(filter 1,$(words $(MAKEFILE_LIST))),1,)

C_CORE_SRC := src/sse.c src/lines.c src/headers.c src/errors.c src/eventstream.c src/errors_aws.c \
  src/sigv4.c src/crypto.c src/redact.c src/download.c src/event_queue.c src/bedrock_chunk.c \
  src/text_delta.c
C_CORE_HDR := src/sse.h src/lines.h src/buf.h src/headers.h src/errors.h src/eventstream.h \
  src/errors_aws.h src/sigv4.h src/crypto.h src/redact.h src/download.h src/event_queue.h \
  src/bedrock_chunk.h src/text_delta.h
C_ZLIB ?= $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
C_LIBCRYPTO ?= $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
# The specs' test service-account key (spec/c/test_crypto.c's RS256 rows).
C_PLATFORM_FIXTURES ?= spec/fixtures/platforms
C_CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
C_BUILD ?= build/c
C_WARN ?= -std=c99 -Wall -Wextra -Werror
C_OPT ?= -O2 -g
C_CLANG ?= clang
C_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
C_VALGRIND ?= valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all -q
# The recorded conformance transcripts, copied into the repository (see their SOURCE.txt).
C_SSE_DIR ?= spec/fixtures/conformance/sse
FUZZ_CC ?= clang
FUZZ_FLAGS ?= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -O1 -g
FUZZ_SECONDS ?= 20
FUZZ_MAX_LEN ?= 1024
FUZZ_BUILD ?= build/fuzz
CPPCHECK ?= cppcheck
CPPCHECK_FLAGS ?= --enable=warning,style,performance,portability --error-exitcode=1 \
	--std=c99 --inline-suppr --quiet --suppress=missingIncludeSystem

C_TEST_DEPS := spec/c/check.h $(C_CORE_HDR)

.PHONY: c-test c-test-clang c-test-asan c-test-valgrind c-bench fuzz fuzz-corpus \
	fuzz-regress cppcheck-c c-clean

# $(1) = build dir, $(2) = compiler, $(3) = flags
define C_TEST_RULES
$(1)/test_sse: spec/c/test_sse.c src/sse.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_sse.c src/sse.c
$(1)/test_errors: spec/c/test_errors.c src/errors.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) $(C_CURL_CFLAGS) -o $$@ spec/c/test_errors.c src/errors.c
$(1)/test_lines: spec/c/test_lines.c src/lines.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_lines.c src/lines.c
$(1)/test_headers: spec/c/test_headers.c src/headers.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_headers.c src/headers.c
$(1)/test_eventstream: spec/c/test_eventstream.c src/eventstream.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_eventstream.c src/eventstream.c $(C_ZLIB)
$(1)/test_errors_aws: spec/c/test_errors_aws.c src/errors_aws.c src/errors.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) $(C_CURL_CFLAGS) -o $$@ spec/c/test_errors_aws.c src/errors_aws.c src/errors.c
$(1)/test_crypto: spec/c/test_crypto.c src/sigv4.c src/crypto.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_crypto.c src/sigv4.c src/crypto.c $(C_LIBCRYPTO)
$(1)/test_download: spec/c/test_download.c src/download.c src/download.h spec/c/check.h
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_download.c src/download.c
$(1)/test_event_queue: spec/c/test_event_queue.c src/event_queue.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_event_queue.c src/event_queue.c
$(1)/test_bedrock_chunk: spec/c/test_bedrock_chunk.c src/bedrock_chunk.c src/crypto.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_bedrock_chunk.c src/bedrock_chunk.c src/crypto.c $(C_LIBCRYPTO)
$(1)/test_text_delta: spec/c/test_text_delta.c src/text_delta.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_text_delta.c src/text_delta.c
$(1)/test_redact: spec/c/test_redact.c spec/c/redact_oracle.h src/redact.c $(C_TEST_DEPS)
	@mkdir -p $(1)
	$(2) $(3) -o $$@ spec/c/test_redact.c src/redact.c
endef

C_TESTS := test_sse test_errors test_lines test_headers test_eventstream test_errors_aws test_crypto test_redact \
  test_download test_event_queue test_bedrock_chunk test_text_delta

$(eval $(call C_TEST_RULES,$(C_BUILD),$(CC),$(C_WARN) $(C_OPT)))
$(eval $(call C_TEST_RULES,$(C_BUILD)-clang,$(C_CLANG),$(C_WARN) $(C_OPT)))
$(eval $(call C_TEST_RULES,$(C_BUILD)-asan,$(C_CLANG),$(C_WARN) -O1 -g $(C_SAN)))

c-test: $(addprefix $(C_BUILD)/,$(C_TESTS))
	$(C_BUILD)/test_sse $(C_SSE_DIR)
	$(C_BUILD)/test_errors
	$(C_BUILD)/test_lines
	$(C_BUILD)/test_headers
	$(C_BUILD)/test_eventstream
	$(C_BUILD)/test_errors_aws
	$(C_BUILD)/test_crypto $(C_PLATFORM_FIXTURES)
	$(C_BUILD)/test_redact
	$(C_BUILD)/test_download
	$(C_BUILD)/test_event_queue
	$(C_BUILD)/test_bedrock_chunk
	$(C_BUILD)/test_text_delta

c-test-clang: $(addprefix $(C_BUILD)-clang/,$(C_TESTS))
	$(C_BUILD)-clang/test_sse $(C_SSE_DIR)
	$(C_BUILD)-clang/test_errors
	$(C_BUILD)-clang/test_lines
	$(C_BUILD)-clang/test_headers
	$(C_BUILD)-clang/test_eventstream
	$(C_BUILD)-clang/test_errors_aws
	$(C_BUILD)-clang/test_crypto $(C_PLATFORM_FIXTURES)
	$(C_BUILD)-clang/test_redact
	$(C_BUILD)-clang/test_download
	$(C_BUILD)-clang/test_event_queue
	$(C_BUILD)-clang/test_bedrock_chunk
	$(C_BUILD)-clang/test_text_delta

c-test-asan: $(addprefix $(C_BUILD)-asan/,$(C_TESTS))
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_sse $(C_SSE_DIR)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_errors
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_lines
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_headers
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_eventstream
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_errors_aws
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_crypto $(C_PLATFORM_FIXTURES)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_redact
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_download
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_event_queue
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_bedrock_chunk
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD)-asan/test_text_delta

c-test-valgrind: $(addprefix $(C_BUILD)/,$(C_TESTS))
	$(C_VALGRIND) $(C_BUILD)/test_sse $(C_SSE_DIR)
	$(C_VALGRIND) $(C_BUILD)/test_errors
	$(C_VALGRIND) $(C_BUILD)/test_lines
	$(C_VALGRIND) $(C_BUILD)/test_headers
	$(C_VALGRIND) $(C_BUILD)/test_eventstream
	$(C_VALGRIND) $(C_BUILD)/test_errors_aws
	$(C_VALGRIND) $(C_BUILD)/test_crypto $(C_PLATFORM_FIXTURES)
	$(C_VALGRIND) $(C_BUILD)/test_redact
	$(C_VALGRIND) $(C_BUILD)/test_download
	$(C_VALGRIND) $(C_BUILD)/test_event_queue
	$(C_VALGRIND) $(C_BUILD)/test_bedrock_chunk
	$(C_VALGRIND) $(C_BUILD)/test_text_delta

$(C_BUILD)/bench_sse: spec/c/bench_sse.c src/sse.c src/sse.h
	@mkdir -p $(C_BUILD)
	$(CC) $(C_WARN) -O2 -o $@ spec/c/bench_sse.c src/sse.c

$(C_BUILD)/bench_eventstream: spec/c/bench_eventstream.c src/eventstream.c src/eventstream.h
	@mkdir -p $(C_BUILD)
	$(CC) $(C_WARN) -O2 -o $@ spec/c/bench_eventstream.c src/eventstream.c $(C_ZLIB)

c-bench: $(C_BUILD)/bench_sse $(C_BUILD)/bench_eventstream
	$(C_BUILD)/bench_sse
	$(C_BUILD)/bench_eventstream

# ---- fuzzing --------------------------------------------------------------------------
$(FUZZ_BUILD)/fuzz_sse: fuzz/fuzz_sse.c src/sse.c src/sse.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_sse.c src/sse.c

$(FUZZ_BUILD)/fuzz_errors: fuzz/fuzz_errors.c src/errors.c src/errors.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) $(C_CURL_CFLAGS) -o $@ fuzz/fuzz_errors.c src/errors.c

$(FUZZ_BUILD)/fuzz_lines: fuzz/fuzz_lines.c src/lines.c src/lines.h src/buf.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_lines.c src/lines.c

$(FUZZ_BUILD)/fuzz_headers: fuzz/fuzz_headers.c src/headers.c src/headers.h src/buf.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_headers.c src/headers.c

$(FUZZ_BUILD)/fuzz_eventstream: fuzz/fuzz_eventstream.c src/eventstream.c src/eventstream.h src/buf.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_eventstream.c src/eventstream.c $(C_ZLIB)
$(FUZZ_BUILD)/fuzz_bedrock_chunk: fuzz/fuzz_bedrock_chunk.c fuzz/as_is_and_behind.h src/bedrock_chunk.c src/bedrock_chunk.h \
  src/crypto.c src/crypto.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_bedrock_chunk.c src/bedrock_chunk.c src/crypto.c \
	  $(C_LIBCRYPTO)
$(FUZZ_BUILD)/fuzz_text_delta: fuzz/fuzz_text_delta.c fuzz/as_is_and_behind.h src/text_delta.c src/text_delta.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_text_delta.c src/text_delta.c
$(FUZZ_BUILD)/fuzz_redact: fuzz/fuzz_redact.c spec/c/redact_oracle.h src/redact.c src/redact.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(C_WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_redact.c src/redact.c

# Seed corpus, generated (not committed): every conformance transcript behind the two
# config bytes fuzz_sse reads (default max / small max + eof mode), plus header seeds for
# fuzz_errors: 21 bytes of numbers, then "ms\nretry-after\nerror.type\nx-should-retry".
fuzz-corpus:
	@mkdir -p $(FUZZ_BUILD)/corpus/sse $(FUZZ_BUILD)/corpus/errors
	@set -e; n=0; for f in $$(find $(C_SSE_DIR) -type f \( -name '*.sse' -o -name '*.txt' \) \
	    ! -name SOURCE.txt | sort); do n=$$((n+1)); \
	  { printf '\000\001'; cat "$$f"; } > $(FUZZ_BUILD)/corpus/sse/seed-$$n-default; \
	  { printf '\120\002'; cat "$$f"; } > $(FUZZ_BUILD)/corpus/sse/seed-$$n-small-eof; \
	  { printf '\000\003'; sed 's/$$/\r/' "$$f"; } > $(FUZZ_BUILD)/corpus/sse/seed-$$n-crlf; \
	done; \
	test $$n -gt 0 || { echo "no transcripts under $(C_SSE_DIR)"; exit 1; }; \
	echo "fuzz-corpus: $$n transcripts -> $(FUZZ_BUILD)/corpus/sse"
	@set -e; d=$(FUZZ_BUILD)/corpus/errors; \
	hdr='\001\365\000\000\000\000\000\000\000\056\275\250\241\000\000\000\000\056\275\250\241'; \
	printf "$$hdr200\n20\noverloaded_error\nfalse" > $$d/ms; \
	printf "$$hdr\nSun, 06 Nov 1994 08:49:57 GMT\napi_error\ntrue" > $$d/imf; \
	printf "$$hdr\nSunday, 06-Nov-94 08:49:57 GMT\nrate_limit_error\n" > $$d/rfc850; \
	printf "$$hdr\nSun Nov  6 08:49:57 1994\n\n" > $$d/asctime; \
	printf "$$hdr\n12345678901234567890123456789012345\nnot_found_error\nTRUE" > $$d/digits; \
	printf "$$hdr 1.5 \n-10\npermission_error\n" > $$d/decimal

# Inputs that once failed (or are worth pinning) rerun before every timed session.
fuzz-regress: $(FUZZ_BUILD)/fuzz_sse $(FUZZ_BUILD)/fuzz_errors $(FUZZ_BUILD)/fuzz_lines \
	$(FUZZ_BUILD)/fuzz_headers $(FUZZ_BUILD)/fuzz_eventstream $(FUZZ_BUILD)/fuzz_redact \
	$(FUZZ_BUILD)/fuzz_bedrock_chunk $(FUZZ_BUILD)/fuzz_text_delta
	$(FUZZ_BUILD)/fuzz_sse fuzz/regress/sse/*
	$(FUZZ_BUILD)/fuzz_errors fuzz/regress/errors/*
	$(FUZZ_BUILD)/fuzz_lines fuzz/regress/lines/*
	$(FUZZ_BUILD)/fuzz_headers fuzz/regress/headers/*
	$(FUZZ_BUILD)/fuzz_eventstream fuzz/regress/eventstream/*
	$(FUZZ_BUILD)/fuzz_redact fuzz/regress/redact/*
	$(FUZZ_BUILD)/fuzz_bedrock_chunk fuzz/regress/bedrock_chunk/*
	$(FUZZ_BUILD)/fuzz_text_delta fuzz/regress/text_delta/*

fuzz: fuzz-regress fuzz-corpus
	@mkdir -p $(FUZZ_BUILD)/artifacts
	$(FUZZ_BUILD)/fuzz_sse -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	  -dict=fuzz/sse.dict -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/sse fuzz/regress/sse
	$(FUZZ_BUILD)/fuzz_errors -max_total_time=$(FUZZ_SECONDS) -max_len=512 \
	  -dict=fuzz/errors.dict -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/errors fuzz/regress/errors
	@mkdir -p $(FUZZ_BUILD)/corpus/lines $(FUZZ_BUILD)/corpus/headers $(FUZZ_BUILD)/corpus/redact
	$(FUZZ_BUILD)/fuzz_lines -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/lines fuzz/regress/lines
	$(FUZZ_BUILD)/fuzz_headers -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/headers fuzz/regress/headers
	@# New units go to the first (build) directory; the committed seeds are only read.
	@mkdir -p $(FUZZ_BUILD)/corpus/eventstream
	$(FUZZ_BUILD)/fuzz_eventstream -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/eventstream fuzz/regress/eventstream
	$(FUZZ_BUILD)/fuzz_redact -max_total_time=$(FUZZ_SECONDS) -max_len=512 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/redact fuzz/regress/redact
	@mkdir -p $(FUZZ_BUILD)/corpus/bedrock_chunk
	$(FUZZ_BUILD)/fuzz_bedrock_chunk -max_total_time=$(FUZZ_SECONDS) -max_len=512 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/bedrock_chunk \
	  fuzz/regress/bedrock_chunk
	@mkdir -p $(FUZZ_BUILD)/corpus/text_delta
	$(FUZZ_BUILD)/fuzz_text_delta -max_total_time=$(FUZZ_SECONDS) -max_len=512 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus/text_delta \
	  fuzz/regress/text_delta

cppcheck-c:
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(C_CORE_SRC) spec/c/test_sse.c spec/c/test_errors.c \
	  spec/c/test_lines.c spec/c/test_headers.c spec/c/bench_sse.c fuzz/fuzz_sse.c \
	  fuzz/fuzz_errors.c fuzz/fuzz_lines.c fuzz/fuzz_headers.c spec/c/test_eventstream.c \
	  spec/c/test_crypto.c spec/c/test_errors_aws.c spec/c/bench_eventstream.c fuzz/fuzz_eventstream.c \
	  spec/c/test_redact.c fuzz/fuzz_redact.c spec/c/test_event_queue.c spec/c/test_bedrock_chunk.c \
	  fuzz/fuzz_bedrock_chunk.c spec/c/test_text_delta.c fuzz/fuzz_text_delta.c

c-clean:
	rm -rf $(C_BUILD) $(C_BUILD)-clang $(C_BUILD)-asan $(FUZZ_BUILD)

# Included: leave the default goal to the including Makefile. Alone: default to c-test.
.DEFAULT_GOAL := $(if $(C_MK_STANDALONE),c-test,$(C_SAVED_DEFAULT_GOAL))
