#!/bin/sh
# 064-dry-run-table: `weightd --once --dry-run` prints an aligned table of
# every backend's measurements and decision on stdout, and writes no output.
. "$top_srcdir/tests/integration/common.sh"

set_values "medical-imaging server1:8080 0.1234 0.015" "medical-imaging server2:8080 0.4 0"
start_exporter_prometheus

WD_PORT=$(free_port)
write_obs_config "$WORK/weightd.conf" '{ name = "medical-imaging"; label = "backend"; backends = (
    { name = "server1:8080"; url = "http://server1:8080"; },
    { name = "server2:8080"; url = "http://server2:8080"; },
    { name = "server3:8080"; url = "http://server3:8080"; pin = 10; } ); }'
rc=0
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run >"$WORK/table.txt" 2>"$WORK/weightd.log" || rc=$?
cat "$WORK/table.txt"
[ "$rc" -eq 0 ] || fail "exit $rc, want 0"
[ ! -e "$WORK/out.yml" ] || fail "a dry run wrote the output"

head -n 1 "$WORK/table.txt" | grep -Eq '^SERVICE +BACKEND +LATENCY +ERRORS +RATE +OLD +NEW +ACTION +REASON$' ||
	fail "bad header"
[ "$(wc -l <"$WORK/table.txt")" -eq 4 ] || fail "want a header and 3 rows"
grep -Eq '^medical-imaging +server1:8080 +123\.4ms +1\.50% +- +[0-9]+ +[0-9]+ +dry_run( |$)' "$WORK/table.txt" ||
	fail "server1's row"
grep -Eq '^medical-imaging +server2:8080 +400\.0ms +0\.00% +- +[0-9]+ +[0-9]+ +dry_run( |$)' "$WORK/table.txt" ||
	fail "server2's row"
grep -Eq '^medical-imaging +server3:8080 .* 10 +pinned( |$)' "$WORK/table.txt" || fail "server3's row"
# Aligned: ACTION starts at the same column on every line.
col=$(awk 'NR == 1 { print index($0, "ACTION") }' "$WORK/table.txt")
awk -v c="$col" 'NR > 1 && substr($0, c, 1) !~ /[a-z]/ { exit 1 } NR > 1 && substr($0, c - 1, 1) != " " { exit 1 }' \
	"$WORK/table.txt" || fail "ACTION column not aligned"
ok "aligned table on stdout, no output written"
