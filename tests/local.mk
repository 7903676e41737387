## tests/local.mk: the test suite (make check).  Each area has its own fragment.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
# Programs from the build tree, the shared test data beside the checkout
# (override with M40_SHARED=DIR; tests skip with 77 where it is absent),
# and message catalogs compiled into the build tree.
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	: "$${M40_SHARED:=$(abs_top_srcdir)/../shared}"; export M40_SHARED; \
	PATH='$(abs_top_builddir)/src:$(abs_top_builddir)/tests'":$$PATH"; export PATH; \
	M40_LOCALEDIR='$(abs_top_builddir)/tests/locale'; export M40_LOCALEDIR; \
	unset M40_MODEL M40_BACKEND;


M40_TEST_LIBS = src/core/libm40core.la

EXTRA_DIST += tests/init.sh tests/check.h
include tests/gguf.mk
include tests/inspect.mk
include tests/tokenizer.mk
include tests/quant.mk
include tests/generate.mk
include tests/cuda.mk
include tests/docs.mk
