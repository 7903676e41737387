## tests/inspect.mk: the model description (model.c) and m40-inspect.
INSPECT_PROGS = tests/inspect-model
check_PROGRAMS += $(INSPECT_PROGS)
tests_inspect_model_LDADD = $(M40_TEST_LIBS)
INSPECT_TESTS = tests/inspect-model tests/inspect-cli.sh tests/inspect-shared.sh
TESTS += $(INSPECT_TESTS)
EXTRA_DIST += tests/inspect-cli.sh tests/inspect-shared.sh
