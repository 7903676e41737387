#!/bin/sh
# inspect-cli.sh: m40-inspect on models made by the GGUF writer (tests/inspect-model --write):
# summary, --kv, --json, --tensors, --vram, --devices, usage errors and bad files.
. "$top_srcdir/tests/init.sh"

inspect-model --write "$tmp" || fail_ "cannot write the sample models"

# has FILE TEXT: FILE contains the line fragment TEXT (fixed string).
has() {
	if grep -F -e "$2" "$1" >/dev/null; then echo "ok: $2"; else
		echo "missing in $1: $2"; fail=1; fi
}
hasnt() {
	if grep -F -e "$2" "$1" >/dev/null; then echo "unexpected in $1: $2"; fail=1; else
		echo "ok, absent: $2"; fi
}
# jget FILE KEY: the first scalar "KEY": VALUE of an indented JSON document.
jget() { sed -n "s/^ *\"$2\": \(.*[^,]\),\{0,1\}\$/\1/p" "$1" | sed 's/,$//' | head -n 1; }
# same EXPECTED ACTUAL WHAT
same() {
	if [ "$1" = "$2" ]; then echo "ok: $3 = $2"; else echo "FAIL: $3 is '$2', expected '$1'"; fail=1; fi
}

# --- the human summary -------------------------------------------------------
m40-inspect "$tmp/llama.gguf" >"$tmp/out" 2>"$tmp/err" || fail_ "m40-inspect llama.gguf failed"
cat "$tmp/out"
has "$tmp/out" "architecture:     llama"
has "$tmp/out" "runs here:        yes"
has "$tmp/out" "layers:           2"
has "$tmp/out" "attention heads:  4 (KV heads 2, head dimension 16)"
has "$tmp/out" "feed-forward:     96"
has "$tmp/out" "vocabulary:       100"
has "$tmp/out" "parameters:       74.6 K (74560)"
has "$tmp/out" "tokenizer:        llama (SentencePiece), 100 tokens"
has "$tmp/out" "special tokens:   BOS 1 '<s>'"
has "$tmp/out" "EOS 2 '</s>'"
hasnt "$tmp/out" "PAD"
has "$tmp/out" "adds BOS:         yes"
has "$tmp/out" "chat template:    yes (14 bytes)"
has "$tmp/out" "RoPE:             base 10000, 16 dimensions, normal (pairs)"
same 0 "$(wc -c <"$tmp/err")" "bytes on stderr"

m40-inspect -m "$tmp/qwen3.gguf" >"$tmp/out" || fail_ "m40-inspect -m qwen3.gguf failed"
has "$tmp/out" "architecture:     qwen3"
has "$tmp/out" "attention heads:  4 (KV heads 2, head dimension 32)"
has "$tmp/out" "Q and K norms per head"
has "$tmp/out" "NeoX (halves)"
has "$tmp/out" "q8_0"

M40_MODEL="$tmp/vocab.gguf" m40-inspect >"$tmp/out" || fail_ "m40-inspect on a vocabulary-only file failed"
has "$tmp/out" "tensors:          none (a vocabulary-only file)"
has "$tmp/out" "runs here:        no: the file has no tensors"
has "$tmp/out" "100 tokens"

m40-inspect "$tmp/mamba.gguf" >"$tmp/out" || fail_ "m40-inspect on an unsupported architecture failed"
has "$tmp/out" "runs here:        no: unsupported architecture 'mamba'"

# The built-in demo model when no model is given, with a note on stderr.
m40-inspect >"$tmp/out" 2>"$tmp/err" || fail_ "m40-inspect on the demo model failed"
has "$tmp/out" "file:             (built-in demo model)"
has "$tmp/out" "runs here:        yes"
has "$tmp/err" "demo model"
m40-inspect --json 2>/dev/null >"$tmp/json" || fail_ "m40-inspect --json on the demo model failed"
same null "$(jget "$tmp/json" file)" "json file of the demo model"

# --- --kv ----------------------------------------------------------------------
same 2 "$(m40-inspect --kv llama.block_count "$tmp/llama.gguf")" "--kv llama.block_count"
same "inspect-model test" "$(m40-inspect -k general.name "$tmp/llama.gguf")" "--kv general.name"
same 1e-05 "$(m40-inspect --kv llama.attention.layer_norm_rms_epsilon "$tmp/llama.gguf")" "--kv eps"
same true "$(m40-inspect --kv tokenizer.ggml.add_bos_token "$tmp/llama.gguf")" "--kv bool"
m40-inspect --kv tokenizer.ggml.tokens "$tmp/llama.gguf" >"$tmp/toks"
same 100 "$(wc -l <"$tmp/toks" | tr -d ' ')" "tokens listed"
same "<s>" "$(sed -n 2p "$tmp/toks")" "token 1"
expect_fail m40-inspect --kv no.such.key "$tmp/llama.gguf"
same "m40-inspect: key 'no.such.key' not found" "$(cat "$tmp/err")" "--kv message"
m40-inspect --kv no.such.key "$tmp/llama.gguf" 2>/dev/null && st=0 || st=$?
same 1 "$st" "--kv exit status for a missing key"

# --- --json --------------------------------------------------------------------
m40-inspect --json "$tmp/llama.gguf" >"$tmp/json" || fail_ "--json failed"
same 2 "$(jget "$tmp/json" n_layer)" "json n_layer"
same 16 "$(jget "$tmp/json" head_dim)" "json head_dim"
same 1e-5 "$(jget "$tmp/json" norm_eps)" "json norm_eps"
same true "$(jget "$tmp/json" supported)" "json supported"
same 74560 "$(jget "$tmp/json" n_params)" "json n_params"
same '"string"' "$(jget "$tmp/json" element_type)" "json summarized token list"
same 100 "$(jget "$tmp/json" length)" "json token list length"
hasnt "$tmp/json" '"<s>"'
m40-inspect --json --full "$tmp/llama.gguf" >"$tmp/full" || fail_ "--json --full failed"
has "$tmp/full" '"<s>"'
if command -v jq >/dev/null; then
	jq -e '.model.n_ff == 96 and .tokenizer.special.BOS == 1 and (.tensors | length) == 21
		and .tensor_types.f32.count == 21 and .metadata["tokenizer.ggml.tokens"].length == 100' \
		"$tmp/json" >/dev/null && echo "ok: jq checks" || { echo "FAIL: jq checks"; fail=1; }
	jq -e '.metadata["tokenizer.ggml.tokens"] | length == 100' "$tmp/full" >/dev/null \
		&& echo "ok: jq --full" || { echo "FAIL: jq --full"; fail=1; }
	m40-inspect --json "$tmp/vocab.gguf" | jq -e '.supported == false and .n_tensors == 0' >/dev/null \
		&& echo "ok: jq vocab" || { echo "FAIL: jq vocab"; fail=1; }
fi

# --- --tensors -------------------------------------------------------------------
m40-inspect --tensors "$tmp/llama.gguf" >"$tmp/out" || fail_ "--tensors failed"
has "$tmp/out" "blk.1.ffn_down.weight"
same 21 "$(grep -c '\.weight' "$tmp/out")" "tensor rows"

# --- --vram ----------------------------------------------------------------------
m40-inspect --vram -c 64 -b 8 "$tmp/llama.gguf" >"$tmp/out" || fail_ "--vram failed"
has "$tmp/out" "GPU memory for a context of 64, 1 sequence, batches of 8 tokens:"
# kv = 2 * 2 layers * 64 * 32 * 2 bytes; scratch = 4 * (8 * 512 + 100)
has "$tmp/out" "KV cache      16.0 KiB"
has "$tmp/out" "scratch       16.4 KiB"
# buffers = 4 * 64 * 100 (the widest tile: the vocabulary) + 32 MiB (cuBLAS)
has "$tmp/out" "buffers       32.0 MiB  (CUDA backend)"
has "$tmp/out" "Fits a 24 GB Tesla M40"
m40-inspect --vram -c 16777216 -s 16 "$tmp/llama.gguf" >"$tmp/out" || fail_ "--vram (too big) failed"
has "$tmp/out" "Does not fit a 24 GB Tesla M40"
max=$(sed -n 's/.*reduce the context to \([0-9]*\) or less.*/\1/p' "$tmp/out")
echo "largest context that fits: $max"
m40-inspect --vram -c "$max" -s 16 "$tmp/llama.gguf" | grep -F "Fits a 24 GB" >/dev/null \
	&& echo "ok: -c $max fits" || { echo "FAIL: -c $max does not fit"; fail=1; }
m40-inspect --vram -c "$((max + 1))" -s 16 "$tmp/llama.gguf" | grep -F "Does not fit" >/dev/null \
	&& echo "ok: -c $((max + 1)) does not fit" || { echo "FAIL: -c $((max + 1)) fits"; fail=1; }
m40-inspect --json --vram -c 64 -b 8 "$tmp/llama.gguf" >"$tmp/json"
same 16384 "$(jget "$tmp/json" kv_cache)" "json kv_cache"
same 16784 "$(jget "$tmp/json" scratch)" "json scratch"
same 33580032 "$(jget "$tmp/json" gpu_buffers)" "json gpu_buffers"
expect_fail m40-inspect --vram "$tmp/vocab.gguf"

# --- --devices -------------------------------------------------------------------
m40-inspect --devices >"$tmp/out" || fail_ "--devices failed"
cat "$tmp/out"
has "$tmp/out" "cpu 0: "
grep -E '^(cuda 0: |no CUDA device: )' "$tmp/out" >/dev/null \
	&& echo "ok: CUDA line" || { echo "FAIL: no CUDA line"; fail=1; }
m40-inspect --devices --json >"$tmp/json" || fail_ "--devices --json failed"
has "$tmp/json" '"backends"'
has "$tmp/json" '"name": "cpu"'

# --- bad input: one line, non-zero -----------------------------------------------
head -c 100 "$tmp/llama.gguf" >"$tmp/trunc.gguf"
expect_fail m40-inspect "$tmp/trunc.gguf"
cat "$tmp/err"
m40-inspect "$tmp/trunc.gguf" 2>/dev/null && st=0 || st=$?
same 2 "$st" "exit status for a truncated file"
echo "not a model" >"$tmp/text.gguf"
expect_fail m40-inspect "$tmp/text.gguf"
expect_fail m40-inspect "$tmp/no-such-file.gguf"
has "$tmp/err" "no-such-file.gguf"
for args in "--bogus" "-X" "--kv" "-c" "a b" "--full x" "-c 0 --vram x" "-c 12 x" "--kv k --json x" "-m a b" "--devices x"; do
	# shellcheck disable=SC2086
	expect_fail m40-inspect $args
	# shellcheck disable=SC2086
	m40-inspect $args >/dev/null 2>&1 && st=0 || st=$?
	same 1 "$st" "exit status of 'm40-inspect $args'"
	has "$tmp/err" "(try 'm40-inspect --help')"
done


exit $fail
