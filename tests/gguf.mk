## tests/gguf.mk: the GGUF reader, writer and type table; corrupt files; the fuzz target.
GGUF_TESTS = tests/gguf-types tests/gguf-roundtrip
check_PROGRAMS += $(GGUF_TESTS)
TESTS += $(GGUF_TESTS)
tests_gguf_types_LDADD = $(M40_TEST_LIBS)
tests_gguf_roundtrip_LDADD = $(M40_TEST_LIBS)
