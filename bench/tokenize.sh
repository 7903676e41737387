#!/bin/sh
# bench/tokenize.sh: tokenizer speed on war-and-peace.txt (3.2 MB), load time excluded.
# Usage: bench/tokenize.sh [BUILDDIR]   (run from the source tree; BUILDDIR defaults to .)
# Compares with llama.cpp on the same 2-core machine type: 0.8 MB/s (llama-spm),
# 4.3 MB/s (llama-bpe); the goal is at least twice that, and under 0.2 s to load
# a 128k vocabulary.
set -eu
builddir=${1:-.}
shared=${M40_SHARED:-$(dirname "$0")/../../shared}
bench=$builddir/bench/tokenize-bench
text=$shared/bench/war-and-peace.txt
[ -x "$bench" ] || { echo "no $bench: run 'make bench/tokenize-bench' in $builddir" >&2; exit 1; }
[ -f "$text" ] || { echo "no $text (set M40_SHARED)" >&2; exit 1; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "text: $text ($(wc -c <"$text") bytes)"
printf '%-32s %13s  %s\n' vocabulary speed 'llama.cpp'
for v in llama-spm:0.8 llama-bpe:4.3 phi-3:- gpt-2:- deepseek-llm:- deepseek-coder:-; do
	name=${v%%:*} ref=${v#*:}
	line=$("$bench" "$shared/reference/tokenizer/ggml-vocab-$name.gguf" "$text" 3)
	echo "$line  (llama.cpp: $ref MB/s)"
done
