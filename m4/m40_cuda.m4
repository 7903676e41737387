dnl m40_cuda.m4: find nvcc, check it can build for every requested architecture,
dnl and find cudart and cuBLAS.  Defines HAVE_CUDA (AC_DEFINE and AM_CONDITIONAL)
dnl and substitutes NVCC, NVCCFLAGS, NVCC_BINDIR, CUDA_ARCH_FLAGS, CUDA_LIBS.
AC_DEFUN([M40_CHECK_CUDA], [
AC_ARG_WITH([cuda],
  [AS_HELP_STRING([--with-cuda@<:@=DIR@:>@], [build the CUDA backend (default: if nvcc is found); DIR holds bin/nvcc])],
  [], [with_cuda=check])
AC_ARG_WITH([cuda-arch],
  [AS_HELP_STRING([--with-cuda-arch=LIST], [GPU architectures to build for, comma-separated (default: 52, the Tesla M40)])],
  [], [with_cuda_arch=52])
AC_ARG_VAR([NVCC], [CUDA compiler])
AC_ARG_VAR([NVCCFLAGS], [flags for the CUDA compiler])

have_cuda=no
m40_cuda_summary="no"
CUDA_ARCH_FLAGS=""
CUDA_LIBS=""
NVCC_BINDIR=""
AS_IF([test "x$with_cuda" != xno], [
  m40_cuda_path="$PATH"
  AS_IF([test "x$with_cuda" != xyes && test "x$with_cuda" != xcheck],
        [m40_cuda_path="$with_cuda/bin$PATH_SEPARATOR$PATH"])
  AS_IF([test -z "$NVCC"], [AC_PATH_PROG([NVCC], [nvcc], [], [$m40_cuda_path])])
  AS_IF([test -z "$NVCC"], [
    AS_IF([test "x$with_cuda" != xcheck],
      [AC_MSG_ERROR([nvcc not found; install Debian's nvidia-cuda-toolkit, set NVCC, or use --without-cuda])])
  ], [
    dnl nvcc runs ptxas and friends from PATH: put its own directory first so
    dnl that a second toolkit (CUDA 13 in /usr/local) cannot shadow them.
    NVCC_BINDIR=`AS_DIRNAME(["$NVCC"])`
    m40_nvcc_version=`"$NVCC" --version 2>/dev/null | sed -n 's/.*release \([[0-9.]]*\).*/\1/p'`
    AC_MSG_NOTICE([nvcc $NVCC is CUDA $m40_nvcc_version])
    m40_cuda_prefix=`AS_DIRNAME(["$NVCC_BINDIR"])`

    cat > conftest.cu <<_M40EOF
__global__ void k(float *x) { x[[threadIdx.x]] += __shfl_xor_sync(0xffffffffu, x[[threadIdx.x]], 1); }
int main(void) { k<<<1, 32>>>(0); return 0; }
_M40EOF
    m40_try_nvcc() {
      PATH="$NVCC_BINDIR$PATH_SEPARATOR$PATH" "$NVCC" $NVCCFLAGS $[1] -c conftest.cu -o conftest.o >conftest.nvlog 2>&1
    }
    m40_first_arch=`echo "$with_cuda_arch" | sed 's/,.*//'`
    m40_probe="-gencode arch=compute_$m40_first_arch,code=sm_$m40_first_arch"
    dnl Debian's CUDA 11.8 needs an older host compiler than Debian 12's gcc,
    dnl and headers of another CUDA in /usr/local/include (CUDA 13 beside
    dnl Debian's 11.8) shadow this nvcc's own: then search the C++ and system
    dnl headers explicitly and skip /usr/local/include.
    m40_gxx_ver=`ls /usr/include/c++ 2>/dev/null | sort -n | tail -n 1`
    m40_triplet=`$CC -dumpmachine 2>/dev/null`
    m40_iso="-Xcompiler -nostdlibinc -Xcompiler -isystem,/usr/include/c++/$m40_gxx_ver -Xcompiler -isystem,/usr/include/$m40_triplet/c++/$m40_gxx_ver -Xcompiler -idirafter,/usr/include/$m40_triplet -Xcompiler -idirafter,/usr/include"
    m40_hosts="none"
    AS_IF([echo "$NVCCFLAGS" | grep -q -- -ccbin], [], [m40_hosts="none clang-14 clang-13 g++-11"])
    m40_nvcc_ok=no
    for m40_cc in $m40_hosts; do
      m40_ccflag=""
      AS_IF([test "x$m40_cc" != xnone], [
        AS_IF([command -v $m40_cc >/dev/null 2>&1], [m40_ccflag="-ccbin $m40_cc"], [continue])
      ])
      for m40_inc in "" "$m40_iso"; do
        AC_MSG_CHECKING([whether $NVCC works with @<:@$m40_ccflag@:>@ @<:@${m40_inc:+/usr/local/include skipped}@:>@])
        AS_IF([m40_try_nvcc "$m40_ccflag $m40_inc $m40_probe"], [
          AC_MSG_RESULT([yes])
          NVCCFLAGS="$NVCCFLAGS $m40_ccflag $m40_inc"
          m40_nvcc_ok=yes
          break
        ], [AC_MSG_RESULT([no])])
      done
      test $m40_nvcc_ok = yes && break
    done
    for m40_arch in `echo "$with_cuda_arch" | tr ',' ' '`; do
      AC_MSG_CHECKING([whether $NVCC can build for sm_$m40_arch])
      m40_flag="-gencode arch=compute_$m40_arch,code=sm_$m40_arch"
      AS_IF([m40_try_nvcc "$m40_flag"], [
        AC_MSG_RESULT([yes])
        dnl Machine code for the card, plus PTX so newer cards can JIT it.
        CUDA_ARCH_FLAGS="$CUDA_ARCH_FLAGS -gencode arch=compute_$m40_arch,code=@<:@sm_$m40_arch,compute_$m40_arch@:>@"
      ], [
        AC_MSG_RESULT([no])
        sed 's/^/| /' conftest.nvlog >&AS_MESSAGE_LOG_FD
        AC_MSG_ERROR([$NVCC (CUDA $m40_nvcc_version) cannot build for sm_$m40_arch.
  CUDA 13 and later dropped Maxwell (sm_52, the Tesla M40).  For an M40 install
  Debian's nvidia-cuda-toolkit (CUDA 11.8, component non-free) and clang-14, then
      ./configure NVCC=/usr/bin/nvcc
  For a newer card keep this nvcc and name its architecture, e.g.
      ./configure --with-cuda-arch=90
  or build without the GPU backend: --without-cuda.  Details in config.log.])
      ])
    done
    rm -f conftest.cu conftest.o conftest.nvlog

    dnl cudart and cuBLAS beside this toolkit, or in the system's paths (Debian).
    m40_save_LIBS="$LIBS"; m40_save_LDFLAGS="$LDFLAGS"
    CUDA_LDFLAGS=""
    for m40_d in "$m40_cuda_prefix/lib64" "$m40_cuda_prefix/lib" "$m40_cuda_prefix/targets/x86_64-linux/lib"; do
      AS_IF([test -f "$m40_d/libcudart.so" && test "x$m40_d" != x/usr/lib], [CUDA_LDFLAGS="-L$m40_d -Wl,-rpath,$m40_d"; break])
    done
    LDFLAGS="$LDFLAGS $CUDA_LDFLAGS"
    AC_CHECK_LIB([cudart], [cudaGetDeviceCount], [], [AC_MSG_ERROR([libcudart not found for $NVCC])])
    AC_CHECK_LIB([cublas], [cublasCreate_v2], [], [AC_MSG_ERROR([libcublas not found for $NVCC])])
    LIBS="$m40_save_LIBS"; LDFLAGS="$m40_save_LDFLAGS"
    CUDA_LIBS="$CUDA_LDFLAGS -lcublas -lcudart -lstdc++"
    have_cuda=yes
    m40_cuda_summary="yes (CUDA $m40_nvcc_version, arch $with_cuda_arch, $NVCC)"
  ])
])
AS_IF([test "x$have_cuda" = xyes], [AC_DEFINE([HAVE_CUDA], [1], [Define if the CUDA backend is built.])])
AM_CONDITIONAL([HAVE_CUDA], [test "x$have_cuda" = xyes])
AC_SUBST([NVCC_BINDIR])
AC_SUBST([CUDA_ARCH_FLAGS])
AC_SUBST([CUDA_LIBS])
])
