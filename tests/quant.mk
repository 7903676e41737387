## tests/quant.mk: tensor formats: dequantization against an independent
## oracle (the gguf Python package on llama.cpp's blocks), dot products,
## quantizers and FP16/BF16 rounding, block layouts.
# Linked statically (libtool's -static): quant-dot calls the internal m40i_
# kernels, which the shared library does not export.
QUANT_PROGS = tests/quant-dot tests/quant-round tests/quant-layout
check_PROGRAMS += $(QUANT_PROGS) tests/quant-oracle-helper
TESTS += $(QUANT_PROGS) tests/quant-oracle.sh
EXTRA_DIST += tests/quant-oracle.sh tests/quant-oracle.py
tests_quant_dot_LDADD = $(M40_TEST_LIBS)
tests_quant_dot_LDFLAGS = -static
tests_quant_round_LDADD = $(M40_TEST_LIBS)
tests_quant_round_LDFLAGS = -static
tests_quant_layout_LDADD = $(M40_TEST_LIBS)
tests_quant_layout_LDFLAGS = -static
tests_quant_oracle_helper_LDADD = $(M40_TEST_LIBS)
tests_quant_oracle_helper_LDFLAGS = -static
