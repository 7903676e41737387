#!/bin/sh
# cuda-ptx.sh: build tests/cuda-ops as compute_52 PTX only (no SASS), with a
# static cudart and without cuBLAS (gemm.cu's own FP32 kernel takes the
# prompt path), so a newer GPU's driver JIT-compiles the exact Maxwell code.
# Run from a build tree configured with Debian's CUDA 11.8:
#   sh $top_srcdir/tests/cuda-ptx.sh [OUT]     (default OUT: tests/cuda-ops-ptx52)
# then run OUT on any GPU: it is the kernel test of tests/cuda-ops.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
out=${1:-tests/cuda-ops-ptx52}
nvcc=$(sed -n 's/^NVCC = //p' Makefile)
nvccflags=$(sed -n 's/^NVCCFLAGS = //p' Makefile)
bindir=$(sed -n 's/^NVCC_BINDIR = //p' Makefile)
cc=$(sed -n 's/^CC = //p' Makefile)
obj=$(mktemp -d "${TMPDIR:-/tmp}/m40ptx.XXXXXX")
trap 'rm -rf "$obj"' EXIT
inc="-I$top_srcdir/include -I$top_srcdir/src/core -I."
cudafiles="backend-cuda matvec batch-matmul gemm dequant ops attention"
for f in $cudafiles; do
	PATH="$bindir:$PATH" $nvcc $nvccflags -gencode arch=compute_52,code=compute_52 -O3 -std=c++14 -ftz=false \
		-DM40_NO_CUBLAS $inc -c "$top_srcdir/cuda/$f.cu" -o "$obj/$f.o"
done
# the C side of the library, without its CUDA objects
lib=src/core/.libs/libm40core.a
test -f "$lib" || { echo "cuda-ptx.sh: build src/core/libm40core.la first" >&2; exit 1; }
mkdir "$obj/core" && (cd "$obj/core" && ar x "$OLDPWD/$lib")
for f in $cudafiles; do rm -f "$obj/core/$f.o"; done
libs=$(sed -n 's/^LIBS = //p' Makefile)
cudalib=$(sed -n 's/^CUDA_LIBS = //p' Makefile | sed 's/-lcublas//; s/-lcudart//')
mkdir "$obj/t" && $cc -O2 $inc -c "$top_srcdir/tests/cuda-ops.c" -o "$obj/t/cuda-ops.o"
# link with the C compiler: cudart's static library, nothing of the GPU's driver but libcuda
cudadir=$(dirname "$(find /usr/lib /usr/local/cuda*/lib64 -name libcudart_static.a 2>/dev/null | head -n 1)")
$cc -o "$out" "$obj/t/cuda-ops.o" "$obj"/*.o "$obj/core/"*.o -L"$cudadir" -lcudart_static \
	$(echo "$cudalib" | sed 's/-lcublas//') $libs -lstdc++ -lm -lpthread -ldl -lrt
echo "cuda-ptx.sh: wrote $out (compute_52 PTX only)"
