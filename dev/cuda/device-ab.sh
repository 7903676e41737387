#!/bin/sh
# device-ab.sh: on the GPU machine, the same models' tg128 with a base
# build (.carry/base.tar.xz, made by `make dist` of the commit to compare
# against) and the current one (bench/device-run.sh build), in turn, in
# one call: figures from different calls differ by up to 10%.
#   sh dev/cuda/device-ab.sh build                 (only build the base, e.g. in
#                                                    the background of device-run.sh build)
#   sh dev/cuda/device-ab.sh "ENV=VALUE ..." ...   (one extra run of the
#                                                    current build per argument)
# Needs the current build in /tmp/m40-src (device-run.sh build) and the
# models in ${TMPDIR:-/tmp}/m40-bench (bench/gpu.sh writes them).
set -u
here=$(pwd)
carry=$here/.carry
OUT=${OUT:-/tmp/m40-out}
cur=$(echo /tmp/m40-src/m40-llm-*)
base=/tmp/m40-base
if ! test -x "$base/bench/m40-bench"; then
	rm -rf "$base" && mkdir -p "$base" && tar -C "$base" --strip-components=1 -xJf "$carry/base.tar.xz" || exit 1
	(cd "$base" && ./configure --with-cuda-arch=90 --disable-nls \
		ZLIB_CFLAGS=" " ZLIB_LIBS=" " LIBARCHIVE_CFLAGS=" " LIBARCHIVE_LIBS=" " \
		JANSSON_CFLAGS="-I$carry/deps/include" JANSSON_LIBS="$carry/deps/lib/libjansson.a" >build.log 2>&1 &&
		make -j"$(nproc)" bench/m40-bench >>build.log 2>&1) || { tail -20 "$base/build.log"; exit 1; }
fi
test "${1:-}" = build && exit 0
work=${TMPDIR:-/tmp}/m40-bench
tg() { # BUILD ENV: tg128 t/s of each model
	for f in "$work"/*.gguf; do
		r=$(env $2 "$1/bench/m40-bench" "$f" cuda tg 128 2>&1 | awk '/^tg128 / { print $2 }')
		printf ' %9s' "${r:-fail}"
	done
	echo
}
printf '%-28s' "tg128 t/s"
for f in "$work"/*.gguf; do printf ' %9s' "$(basename "$f" .gguf | cut -c1-9)"; done
echo
for round in 1 2; do
	printf '%-28s' "base"; tg "$base" ""
	printf '%-28s' "current"; tg "$cur" ""
	for v in "$@"; do
		printf '%-28s' "current $v"; tg "$cur" "$v"
	done
done
