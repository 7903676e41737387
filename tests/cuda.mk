## tests/cuda.mk: the CUDA backend (issue 5).  Every test exits 77 where the
## backend is not built in or no GPU is present.
# cuda-ops: each kernel against the CPU backend; linked statically (libtool's
# -static) because it calls the m40i_ backends, which the shared library
# does not export.  `tests/cuda-ops bench` times the matrix-vector kernels.
check_PROGRAMS += tests/cuda-ops tests/cuda-models
tests_cuda_ops_SOURCES = tests/cuda-ops.c
tests_cuda_ops_LDADD = $(M40_TEST_LIBS) -lm
tests_cuda_ops_LDFLAGS = -static
tests_cuda_models_SOURCES = tests/cuda-models.c tests/engine-common.h
tests_cuda_models_LDADD = $(M40_TEST_LIBS) -lm
TESTS += tests/cuda-ops tests/cuda-models tests/cuda-engine.sh
EXTRA_DIST += tests/cuda-engine.sh tests/cuda-ptx.sh
