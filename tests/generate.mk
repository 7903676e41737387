## tests/generate.mk

# Sampler and m40-generate CLI (H7).
check_PROGRAMS += tests/sampler-test
tests_sampler_test_SOURCES = tests/sampler-test.c
tests_sampler_test_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/sampler-test
