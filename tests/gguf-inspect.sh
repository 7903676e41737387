#!/bin/sh
# gguf-inspect.sh: m40-inspect refuses corrupt GGUF files with one line on stderr
# (naming the byte offset) and a non-zero exit.  The files come from gguf-corrupt --write.
. "$top_srcdir/tests/init.sh"

m40-inspect --version >/dev/null 2>&1 || skip_ "m40-inspect does not run yet"
gguf-corrupt --write "$tmp" >/dev/null || fail_ "gguf-corrupt --write failed"

for f in magic truncated n_kv-huge t.2-offset-past-end t.1-dims-overflow depth-bomb; do
	test -f "$tmp/$f.gguf" || fail_ "gguf-corrupt did not write $f.gguf"
	expect_fail m40-inspect "$tmp/$f.gguf"
	case $(cat "$tmp/err") in
	m40-inspect:*"byte "[0-9]*) ;;
	*) echo "$f: expected 'm40-inspect: ... byte N: ...'"; fail=1 ;;
	esac
	echo "$f: $(cat "$tmp/err")"
done
# and the same messages through --kv and --json
expect_fail m40-inspect --kv general.architecture "$tmp/truncated.gguf"
expect_fail m40-inspect --json "$tmp/depth-bomb.gguf"
# a missing file is one line too
expect_fail m40-inspect "$tmp/no-such-file.gguf"
echo "missing: $(cat "$tmp/err")"
exit $fail
