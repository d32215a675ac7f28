#!/bin/sh
# 134-bench-real-smoke: `make bench-real`'s pipeline on one short run (6 s of
# hetero under weightd+leastconn) and the simulator on the same scenario:
# every file the results are built from is written, and real.csv has its
# columns and a row whose request counts add up. The numbers of so short a
# run mean nothing and are not checked.
. "$top_srcdir/tests/integration/common.sh"
command -v haproxy >/dev/null || skip "haproxy not installed"
command -v prometheus >/dev/null || skip "prometheus not installed"

BENCH_REAL_SCENARIOS=hetero BENCH_REAL_POLICIES=weightd+leastconn BENCH_REAL_DURATION=6 \
	BENCH_REAL_RAW="$WORK/raw" sh "$top_srcdir/bench/real/run-real.sh" "$top_builddir" "$WORK/out" \
	>"$WORK/bench.log" 2>&1 || fail "run-real.sh failed: $(tail -n 20 "$WORK/bench.log")"
run="$WORK/raw/hetero.weightd+leastconn"
for f in "$run.csv" "$run.summary" "$run.weights" "$run.weightd.log" "$WORK/raw/hetero.sim.csv" \
	"$WORK/out/real.csv" "$WORK/out/real.md" "$WORK/out/real-vs-sim.md"; do
	[ -s "$f" ] || fail "missing or empty: $f"
done
[ "$(head -n 1 "$WORK/out/real.csv")" = "scenario,policy,p50_s,p95_s,p99_s,error_share" ] ||
	fail "real.csv header: $(head -n 1 "$WORK/out/real.csv")"
[ "$(wc -l <"$WORK/out/real.csv")" = 2 ] || fail "real.csv rows: $(cat "$WORK/out/real.csv")"
tail -n 1 "$WORK/out/real.csv" | grep -q '^hetero,weightd+leastconn,' || fail "real.csv row"
summary=$(cat "$run.summary")
echo "$summary" | awk -v rows="$(($(wc -l <"$run.csv") - 1))" '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	exit !(rows > 0 && v["sent"] == rows && v["ok"] + v["error"] + v["timeout"] == rows) }' ||
	fail "the run's accounting: $summary"
grep -q '^hetero,weightd-latency,' "$WORK/raw/hetero.sim.csv" || fail "the simulator's row"
if command -v gnuplot >/dev/null; then
	[ -s "$WORK/out/real.png" ] || fail "no plot"
fi
ok "bench-real pipeline: $summary"
