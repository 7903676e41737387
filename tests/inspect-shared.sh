#!/bin/sh
# inspect-shared.sh: m40-inspect on the real GGUF files in ../shared against the facts in
# ../shared/README.md (skips where the shared data is absent).
. "$top_srcdir/tests/init.sh"
need_shared
M="$M40_SHARED/models"

has() {
	if grep -F -e "$2" "$1" >/dev/null; then echo "ok: $2"; else
		echo "missing in $(basename "$1"): $2"; fail=1; fi
}
same() {
	if [ "$1" = "$2" ]; then echo "ok: $3 = $2"; else echo "FAIL: $3 is '$2', expected '$1'"; fail=1; fi
}
# types FILE: the tensor types of a summary, in order, space-separated.
types() { awk '{ for (i = 3; i <= NF; i++) if ($i ~ /^tensors?,$/) printf "%s ", $(i - 2) }' "$1"; }

# stories260K: trained llama, 5 layers, dim 64, 8 heads / 4 KV heads (head dim 8), FFN 172,
# SentencePiece vocab of 512, all F32, no rope.freq_base key (default 10000).
m40-inspect "$M/stories260K.gguf" >"$tmp/out" || fail_ "m40-inspect stories260K.gguf failed"
cat "$tmp/out"
has "$tmp/out" "architecture:     llama"
has "$tmp/out" "runs here:        yes"
has "$tmp/out" "layers:           5"
has "$tmp/out" "embedding:        64"
has "$tmp/out" "attention heads:  8 (KV heads 4, head dimension 8)"
has "$tmp/out" "feed-forward:     172"
has "$tmp/out" "vocabulary:       512"
has "$tmp/out" "RoPE:             base 10000, 8 dimensions, normal (pairs)"
has "$tmp/out" "tokenizer:        llama (SentencePiece), 512 tokens"
has "$tmp/out" "BOS 1 '<s>'"
same "f32 " "$(types "$tmp/out")" "stories260K tensor types"
m40-inspect --json "$M/stories260K.gguf" >"$tmp/json" || fail_ "--json stories260K failed"
has "$tmp/json" '"n_layer": 5,'
has "$tmp/json" '"n_head_kv": 4,'
has "$tmp/json" '"rope_base": 10000.0,'
has "$tmp/json" '"tied_embeddings": false,'
same 48 "$(m40-inspect --tensors "$M/stories260K.gguf" | grep -c '^[0-9].* f32 ')" "stories260K f32 tensors"

# llama-2-tiny-random: 1 layer, dim 8, 2 heads, Llama 2 vocabulary (32000), F16 + F32.
m40-inspect "$M/llama-2-tiny-random.gguf" >"$tmp/out" || fail_ "llama-2-tiny-random failed"
has "$tmp/out" "layers:           1"
has "$tmp/out" "embedding:        8"
has "$tmp/out" "attention heads:  2 (KV heads 2, head dimension 4)"
has "$tmp/out" "tokenizer:        llama (SentencePiece), 32000 tokens"
has "$tmp/out" "file type:        F16"
same "f32 f16 " "$(types "$tmp/out")" "llama-2-tiny-random tensor types"

# synthetic/st-ARCH-TYPE.gguf: 2 layers, dim 256, 4 heads / 2 KV heads (head dim 64), FFN 768, 512 vocab.
n=0
for f in "$M"/synthetic/st-*.gguf; do
	base=$(basename "$f" .gguf)
	arch=$(echo "$base" | cut -d- -f2)
	ftype=$(echo "$base" | cut -d- -f3 | tr a-z A-Z)
	m40-inspect "$f" >"$tmp/out" || { echo "FAIL: m40-inspect $base"; fail=1; continue; }
	echo "$base: $(types "$tmp/out")"
	# The format in the name (q4_k_m: mostly q4_K) is among the tensor types.
	want=$(echo "$base" | cut -d- -f3 | sed 's/_k_m$/_K/; s/_k$/_K/')
	case " $(types "$tmp/out")" in
	*" $want "*) echo "ok: $want tensors";;
	*) echo "FAIL: no $want tensors in $base"; fail=1;;
	esac
	has "$tmp/out" "architecture:     $arch"
	has "$tmp/out" "runs here:        yes"
	has "$tmp/out" "layers:           2"
	has "$tmp/out" "attention heads:  4 (KV heads 2, head dimension 64)"
	has "$tmp/out" "feed-forward:     768"
	has "$tmp/out" "vocabulary:       512"
	has "$tmp/out" "file type:        $ftype"
	case $arch in
	qwen2) has "$tmp/out" "Q, K, V biases"; has "$tmp/out" "base 1000000, 64 dimensions, NeoX";;
	qwen3) has "$tmp/out" "Q and K norms"; has "$tmp/out" "base 1000000, 64 dimensions, NeoX";;
	llama) has "$tmp/out" "base 10000, 64 dimensions, normal";;
	esac
	n=$((n + 1))
done
same 17 "$n" "synthetic models described"

# Vocabulary-only files: described, with no tensors and not runnable.
for v in llama-spm:32000:SentencePiece llama-bpe:128256:BPE gpt-2:50257:BPE phi-3:32064:SentencePiece; do
	name=${v%%:*}; rest=${v#*:}; count=${rest%%:*}; kind=${rest#*:}
	f="$M40_SHARED/reference/tokenizer/ggml-vocab-$name.gguf"
	m40-inspect "$f" >"$tmp/out" || { echo "FAIL: m40-inspect $name"; fail=1; continue; }
	has "$tmp/out" "tensors:          none (a vocabulary-only file)"
	has "$tmp/out" "$count tokens"
	has "$tmp/out" "$kind"
done

exit $fail
