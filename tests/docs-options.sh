#!/bin/sh
# docs-options.sh: every program's --help and --version work, and fail on a full disk.
. "$top_srcdir/tests/init.sh"

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
for prog in m40-inspect m40-tokenize m40-generate; do
	if ! "$prog" --help >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL: $prog --help exits non-zero"; cat "$tmp/err"; fail=1
	fi
	head -n 1 "$tmp/out" | grep "^Usage: $prog " >/dev/null ||
		{ echo "FAIL: $prog --help does not start with 'Usage: $prog'"; fail=1; }
	grep '^Report bugs to: ' "$tmp/out" >/dev/null ||
		{ echo "FAIL: $prog --help has no 'Report bugs to:' line"; fail=1; }
	grep -e '--version' "$tmp/out" >/dev/null ||
		{ echo "FAIL: $prog --help does not list --version"; fail=1; }
	[ -s "$tmp/err" ] && { echo "FAIL: $prog --help writes to stderr"; fail=1; }
	echo "checked: $prog --help ($(wc -l <"$tmp/out" | tr -d ' ') lines)"

	if ! "$prog" --version >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL: $prog --version exits non-zero"; fail=1
	fi
	first=$(head -n 1 "$tmp/out")
	if [ "$first" = "$prog (m40-llm) $version" ]; then
		echo "checked: $first"
	else
		echo "FAIL: $prog --version says '$first', expected '$prog (m40-llm) $version'"; fail=1
	fi
	grep -i 'licen[cs]e' "$tmp/out" >/dev/null || { echo "FAIL: $prog --version names no licence"; fail=1; }

	# A lost write must not exit 0 (closeout at exit).
	if [ -w /dev/full ]; then
		for opt in --version --help; do
			if "$prog" $opt >/dev/full 2>"$tmp/err"; then
				echo "FAIL: $prog $opt >/dev/full exits 0"; fail=1
			elif ! grep "^$prog: " "$tmp/err" >/dev/null; then
				echo "FAIL: $prog $opt >/dev/full gives no message"; fail=1
			else
				echo "checked: $prog $opt >/dev/full fails: $(cat "$tmp/err")"
			fi
		done
	else
		echo "no writable /dev/full: write errors not checked"
	fi
done
exit $fail
