# init.sh: sourced by every shell test.  Sets -eu, a private temp dir, and helpers.
set -eu
LC_ALL=C
export LC_ALL
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${M40_SHARED:=$top_srcdir/../shared}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m40test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0

skip_() { echo "SKIP: $*"; exit 77; }
fail_() { echo "FAIL: $*"; exit 1; }
# need_shared: skip unless ../shared (or $M40_SHARED) holds the test data.
need_shared() { test -f "$M40_SHARED/README.md" || skip_ "no shared test data at $M40_SHARED"; }
# compare EXPECTED ACTUAL: diff two files, count a failure.
compare() { diff -u "$1" "$2" || fail=1; }
# expect_fail CMD...: CMD must exit non-zero with a one-line message on stderr.
expect_fail() {
	if "$@" >"$tmp/out" 2>"$tmp/err"; then
		echo "expected failure: $*"; fail=1; return 0
	fi
	if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
		echo "expected one line on stderr from: $*"; cat "$tmp/err"; fail=1
	fi
}
