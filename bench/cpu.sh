#!/bin/sh
# cpu.sh: CPU backend speed on a TinyLlama-shaped Q4_K_M model (random weights written by
# ../shared/bench/mksynth.py): pp64 and tg32 tokens/s with 2 threads, beside llama.cpp's figures
# on this machine type (122 and 45 t/s).  Run from the build directory:  sh $srcdir/bench/cpu.sh
# Environment: M40_SHARED (default ../shared beside the sources), THREADS (2), SHAPE (tinyllama-1.1b),
# TYPE (q4_k_m), TMPDIR (where the 670 MB model is written once and kept).
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${M40_SHARED:=$srcdir/../shared}"
: "${THREADS:=2}"
: "${SHAPE:=tinyllama-1.1b}"
: "${TYPE:=q4_k_m}"
bench=./bench/engine-bench
[ -x "$bench" ] || { echo "cpu.sh: build first (make bench/engine-bench) and run from the build directory" >&2; exit 1; }
model=${TMPDIR:-/tmp}/m40-bench-$SHAPE-$TYPE.gguf
if [ ! -s "$model" ]; then
	python3 -c 'import numpy' 2>/dev/null || { echo "cpu.sh: needs numpy (pip install numpy)" >&2; exit 1; }
	echo "writing $model ..." >&2
	python3 "$M40_SHARED/bench/mksynth.py" "$SHAPE" "$TYPE" "$model.tmp" >&2
	mv "$model.tmp" "$model"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "CPU: $cpu ($(nproc) cores), model: $SHAPE $TYPE ($(du -m "$model" | cut -f1) MB)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
out=$("$bench" "$model" -b cpu -t "$THREADS" -p 64 -n 32 -r 3)
# Wall-clock rates, and the same work per CPU second times the threads:
# what an idle machine would give (the two agree when nothing else runs).
pp=$(echo "$out" | sed -n 's/.*sequences: pp64 \([0-9.]*\) t\/s.*/\1/p')
tg=$(echo "$out" | sed -n 's/.*, tg32 \([0-9.]*\) t\/s (best.*/\1/p')
cpp=$(echo "$out" | sed -n 's/.*by CPU time: pp64 \([0-9.]*\) t\/s.*/\1/p')
ctg=$(echo "$out" | sed -n 's/.*by CPU time: .*tg32 \([0-9.]*\) t\/s$/\1/p')
echo "| test | m40-llm t/s (wall) | m40-llm t/s (CPU time / $THREADS) | llama.cpp t/s (2 threads) |"
echo "|------|--------------------|-------------------------------|---------------------------|"
echo "| pp64 | $pp | $cpp | 122 |"
echo "| tg32 | $tg | $ctg | 45 |"
