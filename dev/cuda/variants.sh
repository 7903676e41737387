#!/bin/sh
# variants.sh: on the GPU machine, after `bench/device-run.sh build`,
# build variants of the current tree that differ only in NVCCFLAGS (macros
# a kernel file reads), check each with tests/cuda-ops, and time them in
# turn against the plain build in one call.
#   sh dev/cuda/variants.sh "NAME:FLAGS" ...      e.g. "sl2:-DM40_BMM_SL=2"
# Environment: VAR_TEST (cuda-ops environment for the check, default
# M40_CUDA_MV_BATCH=0), VAR_BATCH (m40-bench batch sizes, default 8,16,32).
set -u
OUT=${OUT:-/tmp/m40-out}
cur=$(echo /tmp/m40-src/m40-llm-*)
carry=$(pwd)/.carry
f=${TMPDIR:-/tmp}/m40-bench/llama2-7b-q4_k_m.gguf
mkdir -p "$(dirname "$f")"
test -s "$f" || python3 "$carry/shared/bench/mksynth.py" llama2-7b q4_k_m "$f" \
	--donor "$carry/shared/models/llama-2-tiny-random.gguf" >/dev/null 2>&1 &
names=base
for v in "$@"; do
	n=${v%%:*} fl=${v#*:}
	rm -rf "/tmp/var-$n" && cp -a "$cur" "/tmp/var-$n" &&
		(cd "/tmp/var-$n" && touch cuda/batch-matmul.cu cuda/matvec.cu && make -j8 NVCCFLAGS="$fl" tests/cuda-ops bench/m40-bench \
			>build.log 2>&1 || tail -5 build.log) &
	names="$names $n"
done
wait
dir() { if [ "$1" = base ]; then echo "$cur"; else echo "/tmp/var-$1"; fi; }
for n in $names; do
	printf '%-6s ' "$n"
	env ${VAR_TEST:-M40_CUDA_MV_BATCH=0} "$(dir $n)/tests/cuda-ops" 2>&1 | grep "checks failed"
done
# in turn, the plain build again last (the spread between its two runs is the noise)
for n in $names base; do
	echo "== $n: matrix products (us a pass, every batch through batch-matmul.cu)"
	M40_CUDA_MV_BATCH=0 "$(dir $n)/tests/cuda-ops" bench 2>&1 |
		awk '$2 == 1 || $2 == 8 || $2 == 16 || $2 == 32 { printf "%s/%s %s  ", $1, $2, $4 } END { print "" }'
	"$(dir $n)/bench/m40-bench" "$f" cuda batched ${VAR_BATCH:-8,16,32} 2>&1 | grep '^batched' | tr '\n' ' '
	echo
done
