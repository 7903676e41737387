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
