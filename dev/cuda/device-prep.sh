#!/bin/sh
# device-prep.sh: fill .carry/ for bench/device-run.sh, from a build tree
# configured here with Debian's CUDA 11.8 (for the compute_52 PTX binary).
#   sh dev/cuda/device-prep.sh BUILDDIR
# Then, with the device tool: carry [".carry"], command
#   sh bench/device-run.sh [PHASES]
set -eu
build=${1:?usage: device-prep.sh BUILDDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
shared=${M40_SHARED:-$top/../shared}
c=$top/.carry
mkdir -p "$c/deps/include" "$c/deps/lib" "$c/shared/reference" "$c/shared/bench"
(cd "$build" && make dist >/dev/null && cp m40-llm-*.tar.xz "$c/m40-llm.tar.xz")
(cd "$build" && make src/core/libm40core.la >/dev/null && sh "$top/tests/cuda-ptx.sh" "$c/cuda-ops-ptx52")
cp /usr/include/jansson.h /usr/include/jansson_config.h "$c/deps/include/"
cp /usr/lib/x86_64-linux-gnu/libjansson.a "$c/deps/lib/"
cp "$shared/README.md" "$c/shared/"
cp -r "$shared/models" "$c/shared/"
cp -r "$shared/reference/generate" "$shared/reference/stories260K" "$c/shared/reference/"
cp "$shared/bench/mksynth.py" "$c/shared/bench/"
du -sh "$c"
