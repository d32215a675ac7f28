#!/bin/sh
# run-bench.sh BUILDDIR RESULTS: `make bench`. Runs the control benchmark
# (weightd-bench over every scenario in bench/scenarios, two at a time) into
# RESULTS/control.csv, control.md and PNG plots, then the agent-cost
# benchmark (bench/agent-cost.sh) into RESULTS/agent-cost.md, and the queries a
# tick sends (bench/queries-per-tick.sh) into RESULTS/queries-per-tick.md.
set -eu
build=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)
scenarios=${BENCH_SCENARIOS:-"hetero70 hetero90 capacity-drop fast-fail cold-join canary-slow diurnal gpu-batch flapping eject-recover rolling-restart scrape30 heavy-tail fleet20"}
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

# Per scenario, the policy that wins: the lowest p95 among the policies
# (the oracle aside) whose error share is within 0.1 point of the lowest; a
# policy that fails more requests is no p95 reference.
awk -F, 'NR > 1 && $2 != "oracle" && $4 != "" {
	n[$1]++; pol[$1, n[$1]] = $2; p95[$1, n[$1]] = $4; err[$1, n[$1]] = $7; ratio[$1, n[$1]] = $6
	if (!($1 in minerr) || $7 < minerr[$1]) minerr[$1] = $7
	if (!($1 in seen)) { seen[$1] = 1; order[++ns] = $1 }
}
END {
	print "| scenario | wins | p95 / oracle | errors | runner-up | p95 / oracle | errors |"
	print "|---|---|---:|---:|---|---:|---:|"
	for (k = 1; k <= ns; k++) {
		s = order[k]; best = 0; second = 0
		for (i = 1; i <= n[s]; i++) {
			if (err[s, i] > minerr[s] + 0.001) continue
			if (!best || p95[s, i] < p95[s, best]) { second = best; best = i }
			else if (!second || p95[s, i] < p95[s, second]) second = i
		}
		printf "| %s | %s | %.3f | %.2f %% | %s | %s | %s |\n", s, pol[s, best], ratio[s, best], err[s, best] * 100,
			second ? pol[s, second] : "", second ? sprintf("%.3f", ratio[s, second]) : "",
			second ? sprintf("%.2f %%", err[s, second] * 100) : ""
	}
}' "$out/control.csv" >"$out/control-winners.md"

if command -v gnuplot >/dev/null 2>&1; then
	for s in $plots; do
		pols=""
		for p in equal capacity p2c leasttime leasttime-phc step weightd-latency weightd-leasttime oracle; do
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
"$src/queries-per-tick.sh" "$build" "$out" >/dev/null
echo "bench: results in $out" >&2
