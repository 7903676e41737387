#!/bin/sh
# docs-i18n.sh: messages in German under LANGUAGE=de with a UTF-8 locale, from the catalog
# compiled into $top_builddir/tests/locale (docs.mk) where M40_LOCALEDIR points.
. "$top_srcdir/tests/init.sh"

grep '^#define ENABLE_NLS 1' "$top_builddir/config.h" >/dev/null || skip_ "built without NLS"
mo="$M40_LOCALEDIR/de/LC_MESSAGES/m40-llm.mo"
[ -s "$mo" ] || fail_ "no German catalog at $mo (make check builds it from po/de.po)"

# glibc ignores LANGUAGE in the C/POSIX locale: take a German UTF-8 locale if
# there is one, else C.UTF-8 (where LANGUAGE works) if it does.
loc=
for l in de_DE.UTF-8 de_DE.utf8; do
	locale -a 2>/dev/null | grep -i -x 'de_DE\.utf-\{0,1\}8' >/dev/null && { loc=$l; break; }
done
if [ -z "$loc" ]; then
	for l in C.UTF-8 C.utf8; do
		if locale -a 2>/dev/null | grep -i -x 'C\.utf-\{0,1\}8' >/dev/null; then loc=$l; break; fi
	done
fi
[ -n "$loc" ] || skip_ "no UTF-8 locale (locale -a has neither de_DE.UTF-8 nor C.UTF-8)"
echo "locale: $loc"

LC_ALL=$loc LANGUAGE=de m40-inspect --help >"$tmp/out" 2>&1 || fail_ "m40-inspect --help failed"
cat "$tmp/out"
LC_ALL=C LANGUAGE=de m40-inspect --help >"$tmp/c" 2>&1 || fail_ "m40-inspect --help (C) failed"

# German usage line, an option line with a non-ASCII character (UTF-8), and
# the shared footer from cli.c.
for want in 'Aufruf: m40-inspect [OPTION]... [MODELL]' \
	'Tabelle der Tensoren' 'Fehler melden an:' 'Größen'; do
	if grep -F -e "$want" "$tmp/out" >/dev/null; then echo "ok: $want"; else
		echo "FAIL: no '$want' in the German --help"; fail=1; fi
done
# The same catalog is not used in the C locale: English there.
grep '^Usage: m40-inspect ' "$tmp/c" >/dev/null && echo "ok: English in the C locale" ||
	{ echo "FAIL: the C locale is not English"; fail=1; }

# Errors too, from the program and from the library (its own text domain).
LC_ALL=$loc LANGUAGE=de m40-inspect --bogus >/dev/null 2>"$tmp/err" && fail_ "--bogus was accepted"
cat "$tmp/err"
grep -F 'unbekannte Option »--bogus« (siehe »m40-inspect --help«)' "$tmp/err" >/dev/null && echo "ok: usage error in German" ||
	{ echo "FAIL: usage error not in German"; fail=1; }
printf 'GGUF' >"$tmp/short.gguf"
LC_ALL=$loc LANGUAGE=de m40-inspect "$tmp/short.gguf" >/dev/null 2>"$tmp/err" && fail_ "a 4-byte file was accepted"
cat "$tmp/err"
LC_ALL=C m40-inspect "$tmp/short.gguf" >/dev/null 2>"$tmp/err-c" || :
if cmp -s "$tmp/err" "$tmp/err-c"; then
	echo "FAIL: the library's error is not translated"; fail=1
else
	echo "ok: library error translated"
fi
exit $fail
