#!/bin/sh
# 102-man-pages: weightd.8 and weightd.conf.5 render without a single warning
# under groff -ww and man -l; weightd.conf.5 documents every key that
# src/config_keys.c's table accepts, weightd.8 every option of --help; the example in
# weightd.conf.5 passes weightd -t.
. "$top_srcdir/tests/integration/common.sh"

command -v groff >/dev/null || skip "groff not installed (Debian package groff-base)"
man8="$top_srcdir/man/weightd.8"
man5="$top_srcdir/man/weightd.conf.5"

for page in "$man8" "$man5"; do
	name=$(basename "$page")
	groff -ww -man -Tutf8 "$page" >"$WORK/$name.txt" 2>"$WORK/$name.err" || fail "groff failed on $name"
	[ ! -s "$WORK/$name.err" ] || fail "groff -ww warns on $name: $(cat "$WORK/$name.err")"
	[ "$(wc -l <"$WORK/$name.txt")" -gt 100 ] || fail "$name renders to almost nothing"
	if command -v man >/dev/null; then
		MANWIDTH=80 man --warnings=w -l "$page" >"$WORK/$name.man" 2>"$WORK/$name.manerr" ||
			fail "man -l failed on $name: $(cat "$WORK/$name.manerr")"
		[ ! -s "$WORK/$name.manerr" ] || fail "man -l warns on $name: $(cat "$WORK/$name.manerr")"
	else
		echo "note: man not installed; checked $name with groff only"
	fi
	ok "$name renders cleanly"
done

# Every key in config_keys.c's table (one row each: {"name", K_TYPE, ...)
# appears as a tagged entry (.B key) in weightd.conf.5.
keys=$(grep -o '^[[:space:]]*{"[a-z_]*", K_' "$top_srcdir/src/config_keys.c" |
	grep -o '"[a-z_]*"' | tr -d '"' | sort -u)
[ "$(echo "$keys" | wc -l)" -ge 40 ] || fail "found too few keys in src/config_keys.c: $keys"
# The tags of .TP entries: the line after .TP, when it is .B or .BR.
awk 'tp && /^\.BR? / { gsub(/"[^"]*"/, " "); for (i = 2; i <= NF; i++) print $i } { tp = /^\.TP/ }' \
	"$man5" | sort -u >"$WORK/tags"
for k in $keys; do
	grep -qx "$k" "$WORK/tags" || fail "weightd.conf.5 has no entry for key \"$k\""
done
ok "weightd.conf.5 documents all $(echo "$keys" | wc -l) keys"

# Every long option of --help is in weightd.8.
"$WEIGHTD" --help | grep -o -- '--[a-z-]*' | sort -u >"$WORK/opts"
[ -s "$WORK/opts" ] || fail "--help lists no options"
while read -r o; do
	esc=$(echo "$o" | sed 's/-/\\\\-/g')
	grep -q -- "$esc" "$man8" || fail "weightd.8 does not document $o"
done <"$WORK/opts"
ok "weightd.8 documents every option"

# The EXAMPLE of weightd.conf.5 is a valid config.
sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$man5" | sed -n '/^\.EX/,/^\.EE/p' | sed '1d;$d' |
	sed -e 's/\\e/\\/g' -e 's/\\-/-/g' >"$WORK/example.conf"
[ -s "$WORK/example.conf" ] || fail "no example in weightd.conf.5"
"$WEIGHTD" -t -c "$WORK/example.conf" >/dev/null 2>"$WORK/example.err" ||
	fail "weightd.conf.5's example fails -t: $(cat "$WORK/example.err")"
ok "weightd.conf.5's example passes -t"
