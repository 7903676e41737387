#!/bin/sh
# docs-man.sh: every manual page is clean under mandoc -Tlint -Wstyle.
. "$top_srcdir/tests/init.sh"
command -v mandoc >/dev/null || skip_ "mandoc is not installed"

n=0
for page in "$top_srcdir"/man/*.[1-8]; do
	n=$((n + 1))
	# Cross references to pages not installed yet, and the state of the
	# system's mandoc.db, depend on the machine, not on the page.
	mandoc -Tlint -Wstyle "$page" 2>&1 |
		grep -v -e 'referenced manual not found' -e 'mandoc.db' >"$tmp/lint" || :
	if [ -s "$tmp/lint" ]; then
		cat "$tmp/lint"
		fail=1
	else
		echo "clean: $(basename "$page")"
	fi
	# The page must also render (no empty output).
	[ -n "$(mandoc -Tascii "$page" 2>/dev/null | head -n 3)" ] ||
		{ echo "does not render: $page"; fail=1; }
done
[ "$n" -ge 4 ] || { echo "only $n manual pages found in $top_srcdir/man"; fail=1; }
exit $fail
