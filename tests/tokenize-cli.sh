#!/bin/sh
# tokenize-cli.sh: m40-tokenize: the id protocol, -l, -d round trips, --pieces, --json, errors.
. "$top_srcdir/tests/init.sh"

# Always: the built-in demo model (its note on stderr is expected).
printf 'hello world\n\nsecond line, with bytes \303\251 and \342\202\254\n' >"$tmp/in"
m40-tokenize -l <"$tmp/in" >"$tmp/ids" 2>"$tmp/err" || fail_ "m40-tokenize -l on the demo model failed"
[ "$(wc -l <"$tmp/ids")" -eq 3 ] || { echo "FAIL: -l gave $(wc -l <"$tmp/ids") lines for 3"; fail=1; }
grep -v '^[0-9][0-9 ]*$' "$tmp/ids" && { echo "FAIL: -l output is not lines of ids"; fail=1; }
m40-tokenize -d <"$tmp/ids" >"$tmp/back" 2>"$tmp/err" || fail_ "m40-tokenize -d failed"
compare "$tmp/in" "$tmp/back"
echo "checked: demo model, -l | -d round trip of $(wc -l <"$tmp/in") lines"
# bad ids: one line naming the line and the value, exit 1
# (the demo model adds its note on stderr: not counted)
errors() { grep -v 'built-in demo model' "$tmp/err" | wc -l; }
printf '1 2\n3 x7\n' >"$tmp/bad"
m40-tokenize -d <"$tmp/bad" >/dev/null 2>"$tmp/err" && { echo "FAIL: a bad id is accepted"; fail=1; }
grep "line 2: 'x7' is not a token id" "$tmp/err" >/dev/null && [ "$(errors)" -eq 1 ] ||
	{ echo "FAIL: bad id message: $(cat "$tmp/err")"; fail=1; }
printf '99999999\n' | m40-tokenize -d >/dev/null 2>"$tmp/err" && { echo "FAIL: out-of-range id accepted"; fail=1; }
grep "line 1: token id 99999999 is out of range" "$tmp/err" >/dev/null && [ "$(errors)" -eq 1 ] ||
	{ echo "FAIL: out-of-range message: $(cat "$tmp/err")"; fail=1; }
echo "checked: -d errors: $(tail -n 1 "$tmp/err")"
expect_fail m40-tokenize --no-such-option
expect_fail m40-tokenize -d --json
if m40-tokenize -m "$tmp/nonexistent.gguf" -p hi >/dev/null 2>"$tmp/err"; then
	echo "FAIL: a missing model file is accepted"; fail=1
else
	st=$?
	[ $st -eq 2 ] || { echo "FAIL: a missing model file exits $st, not 2"; fail=1; }
fi
echo "checked: usage errors and a missing model"

need_shared
T=$M40_SHARED/reference/tokenizer
bpe=$T/ggml-vocab-llama-bpe.gguf
spm=$T/ggml-vocab-llama-spm.gguf
check() { # check EXPECTED COMMAND...: the output must be EXPECTED
	want=$1; shift
	got=$("$@" 2>"$tmp/err") || { echo "FAIL: $* exits non-zero: $(cat "$tmp/err")"; fail=1; }
	if [ "$got" = "$want" ]; then echo "checked: $* -> $got"
	else echo "FAIL: $* gives '$got', want '$want'"; fail=1; fi
}
# The newline echo adds is not part of the text (llama-tokenize -p, not --stdin);
# a second one is.
check "128000 9906 1917" sh -c "echo 'Hello world' | m40-tokenize -m '$bpe'"
check "128000 9906 1917 198" sh -c "printf 'Hello world\n\n' | m40-tokenize -m '$bpe'"
check "128000 9906 1917" m40-tokenize -m "$bpe" -p "Hello world"
check "9906 1917" m40-tokenize -m "$bpe" -p "Hello world" --no-bos
check "1 15043 3186" m40-tokenize -m "$spm" -p "Hello world"
check "128000 15339 220 128001" m40-tokenize -m "$bpe" -p "hello <|end_of_text|>" --special
# without --special the same text is text: no 128001, and it decodes back
plain=$(m40-tokenize -m "$bpe" -p "hello <|end_of_text|>")
case " $plain " in
*" 128001 "*) echo "FAIL: <|end_of_text|> parsed without --special: $plain"; fail=1 ;;
*) echo "checked: without --special: $plain" ;;
esac
check "hello <|end_of_text|>" sh -c "echo '$plain' | m40-tokenize -m '$bpe' -d"
check "$(printf '1\t'"'"'<s>'"'"'\n15043\t'"'"' Hello'"'"'')" m40-tokenize -m "$spm" -p Hello --pieces
check "Hello world" sh -c "m40-tokenize -m '$spm' -p 'Hello world' | m40-tokenize -m '$spm' -d"
check "<s> Hello world" sh -c "m40-tokenize -m '$spm' -p 'Hello world' | m40-tokenize -m '$spm' -d --special"
# -l and -d over a real text, every line back as it was
head -n 200 "$M40_SHARED/bench/war-and-peace.txt" >"$tmp/wp"
for v in "$spm" "$bpe"; do
	m40-tokenize -m "$v" -l <"$tmp/wp" | m40-tokenize -m "$v" -d >"$tmp/wp.back" ||
		{ echo "FAIL: -l | -d on $v"; fail=1; }
	compare "$tmp/wp" "$tmp/wp.back"
	echo "checked: $(basename "$v"): 200 lines through -l | -d"
done
# --json: one valid JSON object per sequence
if command -v python3 >/dev/null; then
	printf 'a\nb\n' | m40-tokenize -m "$bpe" -l --json >"$tmp/json"
	python3 -c 'import json,sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert len(objs) == 2 and objs[0]["ids"] == [128000, 64] and objs[0]["text"][1] == "a", objs' "$tmp/json" ||
		{ echo "FAIL: --json output"; cat "$tmp/json"; fail=1; }
	echo "checked: --json: $(head -n 1 "$tmp/json")"
fi
Exit() { exit "$1"; }
Exit $fail
