#!/bin/sh
# generate-cli.sh: m40-generate with the built-in demo model (no -m, nothing from
# ../shared): it runs, is reproducible, and refuses bad input with one line.
. "${top_srcdir:-.}/tests/init.sh"
# check WHAT EXPECTED ACTUAL: diff, and say ok or FAIL.
check() { if diff -u "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
# bad CMD...: CMD must fail with exactly one line on stderr besides the note
# that the demo model is in use (with -m there is no such note).
bad() {
	if "$@" >"$tmp/out" 2>"$tmp/err.all"; then
		echo "FAIL: expected failure: $*"; fail=1; return 0
	fi
	grep -v 'built-in demo model' "$tmp/err.all" >"$tmp/err" || :
	if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
		echo "FAIL: expected one line on stderr from: $*"; cat "$tmp/err.all"; fail=1
	fi
}

# The demo model runs with no model configured, and says what it is.
m40-generate -p "Hello" -n 8 >"$tmp/demo.out" 2>"$tmp/demo.err" || { echo "FAIL: demo run"; cat "$tmp/demo.err"; fail=1; }
grep -q demo "$tmp/demo.err" || { echo "FAIL: no note about the demo model on stderr"; fail=1; }
test "$(wc -l <"$tmp/demo.out")" -eq 1 || { echo "FAIL: demo output is not one line"; fail=1; }
echo "demo model: $(head -c 80 "$tmp/demo.out" | tr -d '\n') (stderr: $(head -1 "$tmp/demo.err"))"

# Ids the demo vocabulary has: those of a tokenized text.
m40-generate -p "Hello" -n 8 --tokens >"$tmp/ids" 2>/dev/null
m40-generate -p "The" -n 4 --tokens >>"$tmp/ids" 2>/dev/null
sed -n 1p "$tmp/ids" >"$tmp/p1"

# Greedy is reproducible; a seed makes sampling reproducible; seeds differ.
m40-generate -n 12 --tokens <"$tmp/p1" >"$tmp/g1" 2>/dev/null
m40-generate -n 12 --tokens <"$tmp/p1" >"$tmp/g2" 2>/dev/null
check "greedy twice, same tokens" "$tmp/g1" "$tmp/g2"
m40-generate -n 12 --tokens --temp 1.5 --top-k 0 --top-p 1 --min-p 0 -s 1 <"$tmp/p1" >"$tmp/s1" 2>/dev/null
m40-generate -n 12 --tokens --temp 1.5 --top-k 0 --top-p 1 --min-p 0 -s 1 <"$tmp/p1" >"$tmp/s2" 2>/dev/null
m40-generate -n 12 --tokens --temp 1.5 --top-k 0 --top-p 1 --min-p 0 -s 2 <"$tmp/p1" >"$tmp/s3" 2>/dev/null
check "seed 1 twice, same tokens" "$tmp/s1" "$tmp/s2"
if cmp -s "$tmp/s1" "$tmp/s3"; then echo "FAIL: seeds 1 and 2 gave the same 12 tokens"; fail=1; fi
# -n: exactly that many tokens (the demo's --ignore-eos makes it certain)
m40-generate -n 9 --ignore-eos --tokens <"$tmp/p1" >"$tmp/n9" 2>/dev/null
test "$(wc -w <"$tmp/n9")" -eq 9 || { echo "FAIL: -n 9 --ignore-eos gave $(wc -w <"$tmp/n9") tokens"; fail=1; }

# --verbose: speeds on stderr, nothing more on stdout.
m40-generate -p "Hello" -n 6 --verbose >"$tmp/v.out" 2>"$tmp/v.err"
if grep -q 'prompt: .* tokens/s' "$tmp/v.err" && grep -q 'generation: .* tokens/s' "$tmp/v.err"; then
	echo "ok: --verbose: $(grep -v 'demo model' "$tmp/v.err" | tr '\n' ' ')"
else
	echo "FAIL: --verbose speeds"; cat "$tmp/v.err"; fail=1
fi

# Bad input: one line on stderr naming the problem, non-zero exit (1).
printf '%s\nnot ids\n' "$(cat "$tmp/p1")" >"$tmp/bad1"
bad m40-generate <"$tmp/bad1"
grep -q "line 2" "$tmp/err" && echo "ok: $(cat "$tmp/err")" || { echo "FAIL: bad line not named"; cat "$tmp/err"; fail=1; }
echo "1 99999999" >"$tmp/bad2"
bad m40-generate <"$tmp/bad2"
grep -q "99999999" "$tmp/err" && echo "ok: $(cat "$tmp/err")" || { echo "FAIL: bad id not named"; fail=1; }
printf '%s\n\n' "$(cat "$tmp/p1")" >"$tmp/bad3"
bad m40-generate <"$tmp/bad3"
grep -q "line 2" "$tmp/err" && echo "ok: $(cat "$tmp/err")" || { echo "FAIL: empty line not named"; fail=1; }
bad m40-generate </dev/null
echo "ok: $(cat "$tmp/err")"

# A prompt longer than the context: refused with both lengths.
m40-generate -p "Hello" -n 40 --ignore-eos --tokens >"$tmp/long" 2>/dev/null
n=$(wc -w <"$tmp/long")
bad m40-generate -c 5 <"$tmp/long"
grep -q "$n tokens" "$tmp/err" && grep -q " 5" "$tmp/err" && echo "ok: $(cat "$tmp/err")" ||
	{ echo "FAIL: too long a prompt ($n tokens)"; cat "$tmp/err"; fail=1; }

# Bad usage: one line, exit 1.
for args in "--bogus" "-n" "-n x" "--temp -1" "--top-p 2" "--backend gpu" "extra" "--stop="; do
	# shellcheck disable=SC2086
	bad m40-generate $args </dev/null
	# shellcheck disable=SC2086
	m40-generate $args </dev/null >/dev/null 2>&1 && st=0 || st=$?
	test "$st" -eq 1 || { echo "FAIL: '$args' exit $st, want 1"; fail=1; }
	echo "ok ($args): $(cat "$tmp/err")"
done
bad env M40_BACKEND=gpu m40-generate -p x
bad m40-generate -m "$tmp/no-such-model.gguf" -p x

# A write error is an error.
if test -w /dev/full; then
	if m40-generate -p "Hello" -n 4 >/dev/full 2>"$tmp/err"; then
		echo "FAIL: writing to /dev/full succeeded"; fail=1
	else
		echo "ok (>/dev/full): $(cat "$tmp/err")"
	fi
fi

# --help and --version.
m40-generate --help | grep -q -- '--dump-logits' || { echo "FAIL: --help"; fail=1; }
m40-generate --version | grep -q '^m40-generate (m40-llm) ' || { echo "FAIL: --version"; fail=1; }

exit $fail
