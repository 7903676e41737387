## tests/generate.mk

# Sampler and m40-generate CLI (H7).
check_PROGRAMS += tests/sampler-test
tests_sampler_test_SOURCES = tests/sampler-test.c
tests_sampler_test_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/sampler-test
TESTS += tests/generate-cli.sh tests/generate-pipe.sh
EXTRA_DIST += tests/generate-cli.sh tests/generate-pipe.sh

# Engine and CPU backend (H5): logits against references, batching, limits.
EXTRA_DIST += tests/engine-common.h
check_PROGRAMS += tests/engine-stories
tests_engine_stories_SOURCES = tests/engine-stories.c tests/engine-common.h
tests_engine_stories_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/engine-stories
check_PROGRAMS += tests/engine-models
tests_engine_models_SOURCES = tests/engine-models.c tests/engine-common.h
tests_engine_models_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/engine-models
check_PROGRAMS += tests/engine-demo
tests_engine_demo_SOURCES = tests/engine-demo.c tests/engine-common.h
tests_engine_demo_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/engine-demo
check_PROGRAMS += tests/ref-forward
tests_ref_forward_SOURCES = tests/ref-forward.c tests/engine-common.h
tests_ref_forward_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/ref-forward
check_PROGRAMS += tests/engine-batch
tests_engine_batch_SOURCES = tests/engine-batch.c tests/engine-common.h
tests_engine_batch_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/engine-batch
check_PROGRAMS += tests/engine-backend
tests_engine_backend_SOURCES = tests/engine-backend.c tests/engine-common.h
tests_engine_backend_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/engine-backend
