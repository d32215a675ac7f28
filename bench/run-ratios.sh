#!/bin/sh
# run-ratios.sh BUILDDIR RESULTS: `make bench-ratios`. The same scenarios
# with weightd's interval at 1, 4, 8, 12 and 16 ticks per one-minute window
# (60, 15, 7.5, 5 and 3.75 s), two runs at a time, into RESULTS/ratios.csv
# and ratios.md: the loop should behave the same in seconds whatever the
# tick (p95 near the four-tick case's, settling in the same seconds).
set -eu
build=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)
scenarios=${BENCH_RATIO_SCENARIOS:-"hetero90 capacity-drop fast-fail cold-join"}
ticks="60 15 7.5 5 3.75"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weightd-ratios.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for s in $scenarios; do for t in $ticks; do echo "$s $t"; done; done |
	xargs -P 2 -L 1 sh -c '"$0/weightd-bench" -s "$1/scenarios/$3.scn" -p weightd-latency --tick "$4" |
		grep ",weightd-latency," | sed "s/^/$4,/" >"$2/$3.$4.csv"' "$build" "$src" "$tmp"
{
	echo "tick_s,scenario,policy,p50_s,p95_s,p99_s,p95_ratio,error_share,settle_ticks,overshoot,writes_per_100_ticks"
	for s in $scenarios; do for t in $ticks; do cat "$tmp/$s.$t.csv"; done; done
} >"$out/ratios.csv"
# Markdown: the four-tick row (tick 15 s) is each scenario's reference.
awk -F, 'NR == 1 {
	print "| scenario | ticks per window | tick | p95 ms | p95 / oracle | p95 / 4-tick p95 | p99 ms | errors | settle (s) | writes / hour |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	next
}
{ row[NR] = $0; if ($1 == 15) ref[$2] = $5 }
END {
	for (i = 2; i <= NR; i++) {
		split(row[i], f, ",")
		settle = f[9] == "-1" ? "never" : sprintf("%.0f", f[9] * f[1])
		printf "| %s | %g | %g s | %.0f | %.3f | %.3f | %.0f | %.2f %% | %s | %.0f |\n", f[2], 60 / f[1], f[1], f[5] * 1000, f[7], f[5] / ref[f[2]], f[6] * 1000, f[8] * 100, settle, f[11] / 100 * 3600 / f[1]
	}
}' "$out/ratios.csv" >"$out/ratios.md"
echo "bench: ratios in $out/ratios.csv and ratios.md" >&2
