## tests/tokenizer.mk: tokenizers against llama.cpp's suites, edge cases, m40-tokenize.
check_PROGRAMS += tests/tokenize-suite
tests_tokenize_suite_SOURCES = tests/tokenize-suite.c
tests_tokenize_suite_LDADD = $(M40_TEST_LIBS)
TESTS += tests/tokenize-suite
