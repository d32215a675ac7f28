#!/bin/sh
# run-real.sh BUILDDIR RESULTS: `make bench-real`, the real-traffic benchmark
# (about 35 minutes; not in CI). Every scenario of run-one.sh under every
# policy, one run at a time; then the same scenarios in the simulator
# (bench/real/sim/*.scn, weightd-bench) for the policies it models. Writes
# RESULTS/real.csv (scenario, policy, p50_s, p95_s, p99_s, error_share: client
# side, every request of the run; latency quantiles of the successful ones),
# real.md (the same as a table, with the weights at the end), real-vs-sim.md
# (real against simulated, over the simulator's scoring window) and
# real.png. The runs' raw files go to BENCH_REAL_RAW (default
# BUILDDIR/bench-real). BENCH_REAL_SUMMARISE=1 only rebuilds the results
# from the raw files of an earlier run.
set -eu
build=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$src/../.." && pwd)
scenarios=${BENCH_REAL_SCENARIOS:-"hetero capacity-drop fast-fail recovery"}
policies=${BENCH_REAL_POLICIES:-"roundrobin roundrobin-capacity leastconn weightd+roundrobin weightd+leastconn"}
raw=${BENCH_REAL_RAW:-$build/bench-real}
mkdir -p "$raw" "$out"
export top_srcdir top_builddir="$build" WEIGHTD="$build/weightd"

if [ "${BENCH_REAL_SUMMARISE:-0}" != 1 ]; then
	start=$(date +%s)
	for s in $scenarios; do
		for p in $policies; do
			sh "$src/run-one.sh" "$s" "$p" "$raw" || echo "bench-real: $s $p failed" >&2
		done
	done
	echo "bench-real: took $(( $(date +%s) - start )) s" >&2
fi

# row SCENARIO POLICY [FROM_S]: the CSV row of one run, from its requests
row() {
	"$build/openload" -s "$raw/$1.$2.csv" ${3:+-a "$3"} | awk -v s="$1" -v p="$2" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s,%s,%s,%s,%s,%s\n", s, p, v["p50_s"], v["p95_s"], v["p99_s"], v["error_share"] }'
}
{
	echo "scenario,policy,p50_s,p95_s,p99_s,error_share"
	for s in $scenarios; do
		for p in $policies; do
			[ -s "$raw/$s.$p.csv" ] && row "$s" "$p"
		done
	done
} >"$out/real.csv"

awk -F, 'NR == 1 {
	print "| scenario | policy | p50 ms | p95 ms | p99 ms | errors | weights at the end |"
	print "|---|---|---:|---:|---:|---:|---|"
	next
}
function ms(v) { return v == "nan" ? "-" : sprintf("%.0f", v * 1000) }
{
	w = ""
	f = raw "/" $1 "." $2 ".weights"
	while ((getline line < f) > 0) last = line
	close(f)
	n = split(last, a, " ")
	for (i = 2; i <= n; i++) w = w (i > 2 ? "/" : "") a[i]
	p = $2 ~ /^weightd/ ? "**" $2 "**" : $2
	printf "| %s | %s | %s | %s | %s | %.2f %% | %s |\n", $1, p, ms($3), ms($4), ms($5), $6 * 100, w
}' raw="$raw" "$out/real.csv" >"$out/real.md"

# The simulator on the same scenarios, scored after its warm-up (a quarter of
# the run: 22 s), against the real runs over the same window. The simulator
# models roundrobin (weighted round robin) but not leastconn.
{
	echo "| scenario | policy | p95 ms, simulated | p95 ms, real | real / simulated | errors, simulated | errors, real |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	for s in $scenarios; do
		"$build/weightd-bench" -s "$src/sim/$s.scn" -p equal,capacity,weightd-latency >"$raw/$s.sim.csv"
		for pair in equal:roundrobin capacity:roundrobin-capacity weightd-latency:weightd+roundrobin; do
			sp=${pair%%:*}
			rp=${pair#*:}
			[ -s "$raw/$s.$rp.csv" ] || continue
			sim=$(awk -F, -v p="$sp" '$2 == p { print $4, $7 }' "$raw/$s.sim.csv")
			real=$(row "$s" "$rp" 22 | awk -F, '{ print $4, $6 }')
			echo "$s $rp $sim $real"
		done
	done | awk '{
		ratio = ($3 > 0 && $5 != "nan") ? sprintf("%.2f", $5 / $3) : "-"
		printf "| %s | %s | %.0f | %s | %s | %.2f %% | %.2f %% |\n", $1, $2, $3 * 1000,
			$5 == "nan" ? "-" : sprintf("%.0f", $5 * 1000), ratio, $4 * 100, $6 * 100 }'
} >"$out/real-vs-sim.md"

if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "csv='$out/real.csv'; out='$out/real.png'; scenarios='$scenarios'; policies='$policies'" \
		"$src/plot-real.gp"
else
	echo "bench-real: gnuplot not installed; no plot" >&2
fi
cat "$out/real.md" "$out/real-vs-sim.md"
