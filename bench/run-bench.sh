#!/bin/sh
# run-bench.sh BUILDDIR RESULTS: `make bench`. Runs the control benchmark
# (weightd-bench over every scenario in bench/scenarios, two at a time) into
# RESULTS/control.csv, control.md and PNG plots, then the agent-cost
# benchmark (bench/agent-cost.sh) into RESULTS/agent-cost.md.
set -eu
build=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)
scenarios=${BENCH_SCENARIOS:-"hetero70 hetero90 capacity-drop fast-fail cold-join canary-slow diurnal gpu-batch"}
plots=${BENCH_PLOTS:-"hetero90 capacity-drop fast-fail cold-join canary-slow diurnal"}
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weightd-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
for s in $scenarios; do echo "$s"; done |
	xargs -P 2 -I{} sh -c 'echo "bench: {}" >&2; "$0/weightd-bench" -s "$1/scenarios/{}.scn" --series "$2" >"$2/{}.csv"' \
		"$build" "$src" "$tmp"
{
	echo "scenario,policy,p50_s,p95_s,p99_s,p95_ratio,error_share,settle_ticks,overshoot,writes_per_100_ticks"
	for s in $scenarios; do cat "$tmp/$s.csv"; done
} >"$out/control.csv"
echo "bench: control benchmark took $(( $(date +%s) - start )) s" >&2

# The Markdown table: milliseconds, percentages, "never" for -1.
awk -F, 'NR == 1 {
	print "| scenario | policy | p50 ms | p95 ms | p99 ms | p95 / oracle | errors | settle ticks | overshoot | writes / 100 ticks |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	next
}
function ms(v) { return v == "" ? "" : sprintf("%.0f", v * 1000) }
{
	if ($3 == "") { printf "| %s | %s | | | | | | | | |\n", $1, $2; next }
	settle = $8 == "-1" ? "never" : $8
	ratio = sprintf("%.2f", $6); if ($2 ~ /^weightd/) ratio = "**" ratio "**"
	printf "| %s | %s | %s | %s | %s | %s | %.2f %% | %s | %s | %s |\n", $1, $2, ms($3), ms($4), ms($5), ratio, $7 * 100, settle, $9 == "" ? "" : sprintf("%.0f %%", $9 * 100), $10
}' "$out/control.csv" >"$out/control.md"

if command -v gnuplot >/dev/null 2>&1; then
	for s in $plots; do
		pols=""
		for p in equal capacity p2c leasttime step weightd-latency weightd-leasttime oracle; do
			[ -s "$tmp/$s.$p.dat" ] && pols="$pols $p"
		done
		nw=$(head -n 1 "$tmp/$s.oracle.dat" | awk -F'weights:' '{ print split($2, a, " ") }')
		gnuplot -e "dir='$tmp'; name='$s'; out='$out/$s.png'; nw=$nw; pols='$pols'; title='$s: weights (top: b1..b$nw in scenario order) and fleet p95 (bottom)'" \
			"$src/plot.gp"
	done
else
	echo "bench: gnuplot not found: no plots" >&2
fi

if [ -z "${BENCH_SKIP_AGENT:-}" ] && [ -x "$src/agent-cost.sh" ]; then
	"$src/agent-cost.sh" "$build" "$out"
fi
echo "bench: results in $out" >&2
