## tests/gguf.mk: the GGUF reader, writer and type table; corrupt files; the fuzz target.
GGUF_TESTS = \
	tests/gguf-types \
	tests/gguf-roundtrip \
	tests/gguf-corrupt \
	tests/gguf-shared
check_PROGRAMS += $(GGUF_TESTS)
TESTS += $(GGUF_TESTS) tests/gguf-inspect.sh
tests_gguf_types_LDADD = $(M40_TEST_LIBS)
tests_gguf_roundtrip_LDADD = $(M40_TEST_LIBS)
tests_gguf_corrupt_LDADD = $(M40_TEST_LIBS)
tests_gguf_shared_LDADD = $(M40_TEST_LIBS)
EXTRA_DIST += tests/gguf-inspect.sh tests/fuzz/README

# libFuzzer target (configure CC=clang --enable-fuzzing; see tests/fuzz/README).
# The reader's sources are compiled into the target so that they carry the
# fuzzer's coverage instrumentation; mkseeds writes the seed corpus.
if ENABLE_FUZZING
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
noinst_PROGRAMS += tests/fuzz/fuzz-gguf tests/fuzz/mkseeds
tests_fuzz_fuzz_gguf_SOURCES = tests/fuzz/fuzz-gguf.c \
	src/core/error.c src/core/types.c src/core/gguf-read.c src/core/gguf-write.c
tests_fuzz_fuzz_gguf_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_gguf_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_mkseeds_LDADD = $(M40_TEST_LIBS)
endif
