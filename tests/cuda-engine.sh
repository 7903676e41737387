#!/bin/sh
# cuda-engine.sh: the engine's reference tests (stories260K greedy from BOS
# equal to llama2.c's 256 tokens, logits against llama.cpp on every model)
# run again on the CUDA backend; and the done-when pipe of issue 5.
. "$top_srcdir/tests/init.sh"
need_shared
m40-inspect --devices >"$tmp/dev" 2>&1 || { cat "$tmp/dev"; fail_ "m40-inspect --devices failed"; }
if grep -q "no CUDA device" "$tmp/dev"; then skip_ "$(grep "no CUDA device" "$tmp/dev")"; fi
cat "$tmp/dev"
engine-stories cuda || fail=1
engine-models cuda || fail=1
model=$M40_SHARED/models/stories260K.gguf
if echo "Once upon a time" | m40-tokenize -m "$model" >"$tmp/ids" 2>"$tmp/err"; then
	M40_BACKEND=cuda m40-generate -m "$model" <"$tmp/ids" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail=1; }
	head -c 300 "$tmp/out"; echo
	test -s "$tmp/out" || fail=1
else
	cat "$tmp/err"
fi
exit $fail
