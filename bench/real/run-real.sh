#!/bin/sh
# run-real.sh BUILDDIR RESULTS: `make bench-real`, the real-traffic benchmark
# (about 35 minutes; not in CI). Every scenario of run-one.sh under every
# policy, one run at a time, into RESULTS/real.csv (scenario, policy,
# p50_s, p95_s, p99_s, error_share: client side, every request of the run),
# real.md (the same as a table) and real.png; the runs' raw files stay in
# RESULTS/real/ unless BENCH_REAL_KEEP=0.
set -eu
build=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$src/../.." && pwd)
scenarios=${BENCH_REAL_SCENARIOS:-"hetero capacity-drop fast-fail recovery"}
policies=${BENCH_REAL_POLICIES:-"roundrobin roundrobin-capacity leastconn weightd+roundrobin weightd+leastconn"}
raw=$out/real
mkdir -p "$raw"
export top_srcdir top_builddir="$build" WEIGHTD="$build/weightd"

start=$(date +%s)
for s in $scenarios; do
	for p in $policies; do
		sh "$src/run-one.sh" "$s" "$p" "$raw" || echo "bench-real: $s $p failed" >&2
	done
done
echo "bench-real: took $(( $(date +%s) - start )) s" >&2

{
	echo "scenario,policy,p50_s,p95_s,p99_s,error_share"
	for s in $scenarios; do
		for p in $policies; do
			f=$raw/$s.$p.summary
			[ -s "$f" ] || continue
			awk -v s="$s" -v p="$p" '{
				for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
				printf "%s,%s,%s,%s,%s,%s\n", s, p, v["p50_s"], v["p95_s"], v["p99_s"], v["error_share"]
			}' "$f"
		done
	done
} >"$out/real.csv"

awk -F, 'NR == 1 {
	print "| scenario | policy | p50 ms | p95 ms | p99 ms | errors | weights at the end |"
	print "|---|---|---:|---:|---:|---:|---|"
	next
}
{
	w = ""
	f = raw "/" $1 "." $2 ".weights"
	while ((getline line < f) > 0) last = line
	close(f)
	n = split(last, a, " ")
	for (i = 2; i <= n; i++) w = w (i > 2 ? "/" : "") a[i]
	p = $2 ~ /^weightd/ ? "**" $2 "**" : $2
	printf "| %s | %s | %.0f | %.0f | %.0f | %.2f %% | %s |\n", $1, p, $3 * 1000, $4 * 1000, $5 * 1000, $6 * 100, w
}' raw="$raw" "$out/real.csv" >"$out/real.md"

if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "csv='$out/real.csv'; out='$out/real.png'; scenarios='$scenarios'; policies='$policies'" \
		"$src/plot-real.gp"
else
	echo "bench-real: gnuplot not installed; no plot" >&2
fi
[ "${BENCH_REAL_KEEP:-1}" = 1 ] || rm -rf "$raw"
cat "$out/real.md"
