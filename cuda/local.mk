## cuda/local.mk: the CUDA backend, a libtool convenience library built with nvcc.
# libtool has no CUDA tag: build-aux/cudalt.sh makes the .lo by hand.
SUFFIXES = .cu
# -ftz=false after the user's flags: the matrix-vector kernels turn weights
# into denormal floats (FA, FD2 in matvec.cu), which flushing would zero.
NVCC_ALL_FLAGS = $(NVCCFLAGS) $(CUDA_ARCH_FLAGS) -O3 -std=c++14 -ftz=false \
	-Xcompiler -Wall,-Wextra,-Wno-unused-parameter \
	-I$(top_srcdir)/include -I$(top_srcdir)/src/core -I$(top_builddir) \
	-DLOCALEDIR='"$(localedir)"'

CUDA_SOURCES = \
	cuda/backend-cuda.cu \
	cuda/matvec.cu \
	cuda/batch-matmul.cu \
	cuda/gemm.cu \
	cuda/dequant.cu \
	cuda/ops.cu \
	cuda/attention.cu

EXTRA_DIST += build-aux/cudalt.sh $(CUDA_SOURCES) cuda/m40-cuda.h cuda/m40-quant.cuh cuda/m40-rope.cuh
if HAVE_CUDA
noinst_LTLIBRARIES += cuda/libm40cuda.la
cuda_libm40cuda_la_SOURCES = $(CUDA_SOURCES)
cuda_libm40cuda_la_LIBTOOLFLAGS = --tag=CC
endif

.cu.lo:
	$(AM_V_GEN)PATH="$(NVCC_BINDIR):$$PATH" $(SHELL) $(top_srcdir)/build-aux/cudalt.sh $@ \
		$(NVCC) $(NVCC_ALL_FLAGS) -c $<
