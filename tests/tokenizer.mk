## tests/tokenizer.mk: tokenizers against llama.cpp's suites, edge cases, m40-tokenize.
check_PROGRAMS += tests/tokenize-suite
tests_tokenize_suite_SOURCES = tests/tokenize-suite.c
tests_tokenize_suite_LDADD = $(M40_TEST_LIBS)
TESTS += tests/tokenize-suite

# The JSON vectors; the pre-tokenizer is compiled in to check its splits.
check_PROGRAMS += tests/tokenize-json
tests_tokenize_json_SOURCES = tests/tokenize-json.c \
	src/core/tokenize-pre.c src/core/unicode.c src/core/unicode-data.c
tests_tokenize_json_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_tokenize_json_LDADD = $(M40_TEST_LIBS) $(JANSSON_LIBS)
TESTS += tests/tokenize-json

check_PROGRAMS += tests/tokenize-edge
tests_tokenize_edge_SOURCES = tests/tokenize-edge.c
tests_tokenize_edge_LDADD = $(M40_TEST_LIBS)
TESTS += tests/tokenize-edge

TESTS += tests/tokenize-cli.sh
EXTRA_DIST += tests/tokenize-cli.sh

# The pre-tokenizers against their regexes (compiled in; always runs).
check_PROGRAMS += tests/tokenize-pre
tests_tokenize_pre_SOURCES = tests/tokenize-pre.c \
	src/core/tokenize-pre.c src/core/unicode.c src/core/unicode-data.c
TESTS += tests/tokenize-pre

# libFuzzer target for the tokenizers (configure CC=clang --enable-fuzzing;
# see tests/fuzz/README).  The sources are compiled in for coverage.
if ENABLE_FUZZING
TOKENIZE_FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
noinst_PROGRAMS += tests/fuzz/fuzz-tokenize
tests_fuzz_fuzz_tokenize_SOURCES = tests/fuzz/fuzz-tokenize.c \
	src/core/error.c src/core/types.c src/core/gguf-read.c src/core/gguf-write.c \
	src/core/vocab.c src/core/unicode.c src/core/unicode-data.c src/core/tokenize.c \
	src/core/tokenize-pre.c src/core/tokenize-spm.c src/core/tokenize-bpe.c src/core/detokenize.c
tests_fuzz_fuzz_tokenize_CFLAGS = $(AM_CFLAGS) $(TOKENIZE_FUZZ_FLAGS)
tests_fuzz_fuzz_tokenize_LDFLAGS = $(TOKENIZE_FUZZ_FLAGS)
endif
