#!/bin/sh
# 095-bench-smoke: weightd-bench runs a short scenario in simulated time and
# prints the CSV of bench/results/control.csv: the exact header, one row per
# policy, sane numbers (quantiles ordered, the oracle's ratio 1, shares in
# [0, 1], empty cells where a policy does not apply), and its series for the
# plots. Structure, not speed. A bad scenario is one clear error, exit 2.
. "$top_srcdir/tests/integration/common.sh"

BENCH="$top_builddir/weightd-bench"
[ -x "$BENCH" ] || fail "$BENCH not built"
HEADER="scenario,policy,p50_s,p95_s,p99_s,p95_ratio,error_share,settle_ticks,overshoot,writes_per_100_ticks"

mkdir "$WORK/series"
"$BENCH" -s "$top_srcdir/bench/scenarios/hetero70.scn" -d 300 --header --series "$WORK/series" \
	>"$WORK/out.csv" 2>"$WORK/bench.log" || fail "weightd-bench failed: $(cat "$WORK/bench.log")"

[ "$(head -n 1 "$WORK/out.csv")" = "$HEADER" ] || fail "header: $(head -n 1 "$WORK/out.csv")"
[ "$(wc -l <"$WORK/out.csv")" -eq 10 ] || fail "expected 9 rows: $(cat "$WORK/out.csv")"
policies=$(tail -n +2 "$WORK/out.csv" | cut -d, -f2 | tr '\n' ' ')
[ "$policies" = "equal capacity p2c leasttime leasttime-phc step weightd-latency weightd-leasttime oracle " ] ||
	fail "policies: $policies"
ok "header and one row per policy"

tail -n +2 "$WORK/out.csv" | awk -F, '
	NF != 10 { print "row has " NF " fields: " $0; bad = 1; next }
	$1 != "hetero70" { print "scenario: " $0; bad = 1 }
	$2 == "step" { if ($3 $4 $5 $6 $7 $8 $9 $10 != "") { print "step applies? " $0; bad = 1 }; next }
	!($3 > 0 && $3 <= $4 && $4 <= $5 && $5 < 60) { print "quantiles: " $0; bad = 1 }
	!($6 > 0) { print "ratio: " $0; bad = 1 }
	$2 == "oracle" && $6 != "1.000" { print "oracle ratio: " $0; bad = 1 }
	!($7 >= 0 && $7 <= 1) { print "error share: " $0; bad = 1 }
	!($8 == "" || $8 == -1 || $8 >= 0) { print "settle: " $0; bad = 1 }
	($2 == "p2c" || $2 ~ /leasttime/) && $9 != "" { print "overshoot without a split: " $0; bad = 1 }
	!($10 >= 0 && $10 <= 100) { print "writes: " $0; bad = 1 }
	$2 == "equal" && $10 != "0.0" { print "a static policy writes: " $0; bad = 1 }
	$2 ~ /^weightd/ && !($10 > 0) { print "weightd never wrote: " $0; bad = 1 }
	END { exit bad }' || fail "insane numbers (above)"
ok "numbers are sane"

# the series: one line per tick (20 ticks of 15 s), weights summing to 100
for p in equal weightd-latency oracle; do
	f="$WORK/series/hetero70.$p.dat"
	[ "$(grep -vc '^#' "$f")" -eq 20 ] || fail "$f: expected 20 ticks"
	awk '!/^#/ { s = $4 + $5 + $6; if (s < 99.9 || s > 100.1) exit 1 }' "$f" || fail "$f: weights"
done
ok "series for the plots"

printf 'load = { rate = 1; };\nbackends = ( { name = "a"; capacity = 1; latency = 1; cpu = 2; } );\n' \
	>"$WORK/bad.scn"
rc=0
"$BENCH" -s "$WORK/bad.scn" >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "bad scenario: exit $rc"
[ "$(wc -l <"$WORK/bad.err")" -eq 1 ] && grep -q 'bad.scn:2: unknown key "cpu"' "$WORK/bad.err" ||
	fail "bad scenario message: $(cat "$WORK/bad.err")"
[ ! -s "$WORK/bad.out" ] || fail "bad scenario printed rows"
ok "a bad scenario is one clear error"
