#!/bin/sh
# 080-sim-metrics: weightd-sim's /metrics, scraped by a real Prometheus, agree
# with its ground truth per instance; the YAML file it follows steers its
# traffic the way Traefik's file provider would (re-read on change, last good
# weights kept on a parse error, a server left out gets nothing).
. "$top_srcdir/tests/integration/common.sh"

# A bad scenario is one clear line and exit 2.
printf 'load = { rate = 1; };\nbackends = ( { name = "a"; capacity = 1; latency = "1 s"; } );\n' \
	>"$WORK/bad.scn"
rc=0
"$SIM" -s "$WORK/bad.scn" 2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "bad scenario: exit $rc, want 2"
[ "$(wc -l <"$WORK/bad.err")" -eq 1 ] || fail "bad scenario: want one error line"
grep -q "bad.scn:2: latency" "$WORK/bad.err" || fail "bad scenario: $(cat "$WORK/bad.err")"
ok "bad scenario rejected with file:line"

cat >"$WORK/sim.scn" <<'EOS'
seed = 11;
interval = "1s";
traefik = { service = "medical-imaging"; };
load = { rate = 100.0; };
buckets = [0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06, 0.08, 0.1,
           0.12, 0.14, 0.16, 0.2, 0.25, 0.3, 0.5, 1.0];
backends = (
  { name = "server1:8080"; url = "http://server1:8080"; capacity = 1000.0; slots = 50; latency = "20ms"; },
  { name = "server2:8080"; url = "http://server2:8080"; capacity = 1000.0; slots = 100; latency = "100ms"; }
);
EOS
weights() { # W1 W2: writes the file like weightd does (temporary file, rename)
	{
		echo "http:"
		echo "  services:"
		echo "    medical-imaging:"
		echo "      loadBalancer:"
		echo "        servers:"
		[ "$1" = - ] || printf '          - url: "http://server1:8080"\n            weight: %s\n' "$1"
		[ "$2" = - ] || printf '          - url: "http://server2:8080"\n            weight: %s\n' "$2"
	} >"$WORK/.weights.tmp"
	mv "$WORK/.weights.tmp" "$WORK/weights.yml"
}
weights 50 50

start_sim "$WORK/sim.scn" -f "$WORK/weights.yml"
curl -fsS "http://127.0.0.1:$SIM_PORT/metrics" >"$WORK/metrics.txt"
if command -v promtool >/dev/null; then
	promtool check metrics <"$WORK/metrics.txt" || fail "promtool rejects /metrics"
fi
start_prometheus "127.0.0.1:$SIM_PORT"

# Prometheus' p95 per instance, against the simulator's own exact p95.
P95='histogram_quantile(0.95, sum by (le, instance) (rate(model_inference_duration_seconds_bucket[15s])))'
prom_p95() { # INSTANCE
	prom_query "$P95" | jq -r --arg i "$1" '.data.result[] | select(.metric.instance == $i) | .value[1]'
}
both_finite() {
	a=$(prom_p95 server1:8080)
	b=$(prom_p95 server2:8080)
	case "$a$b" in *NaN* | "") return 1 ;; esac
	return 0
}
wait_for "p95 series of both instances" 40 both_finite
# let the 15 s window fill with traffic
wait_for "15 s of traffic" 40 sh -c "[ \$(grep -c ',server1:8080,' '$WORK/truth.csv') -ge 16 ]"
truth_p95() { # BACKEND: mean of the last 15 intervals' exact p95
	grep ",$1," "$WORK/truth.csv" | tail -n 15 | awk -F, '{ s += $8; n++ } END { printf "%.6f", s / n }'
}
p1=$(prom_p95 server1:8080)
p2=$(prom_p95 server2:8080)
t1=$(truth_p95 server1:8080)
t2=$(truth_p95 server2:8080)
echo "p95 from Prometheus: $p1 $p2; ground truth: $t1 $t2"
awk -v p="$p1" -v t="$t1" 'BEGIN { exit !(p > 0.75 * t && p < 1.25 * t) }' ||
	fail "server1 p95 $p1 vs truth $t1"
awk -v p="$p2" -v t="$t2" 'BEGIN { exit !(p > 0.75 * t && p < 1.25 * t) }' ||
	fail "server2 p95 $p2 vs truth $t2"
awk -v a="$p1" -v b="$p2" 'BEGIN { exit !(b > 3 * a) }' || fail "server2 not slower: $p1 $p2"
ok "histogram_quantile per instance matches the ground truth"

n=$(prom_query 'sum by (instance) (rate(http_requests_total{code="200"}[15s]))' | jq '.data.result | length')
[ "$n" -eq 2 ] || fail "http_requests_total: $n instances, want 2"

share_is server1:8080 0.45 0.55 || fail "equal weights: share $(share server1:8080)"

weights 90 10
wait_for "server1 at 90 % of the traffic" 10 share_is server1:8080 0.88 0.92
grep -q 'msg="weights changed"' "$WORK/sim.log" || fail "no log of the change"
ok "a new YAML file moves the traffic"

# A broken file: Traefik keeps the last good configuration.
printf 'http:\n  services: [\n' >"$WORK/.weights.tmp"
mv "$WORK/.weights.tmp" "$WORK/weights.yml"
wait_for "the parse error in the log" 10 grep -q "cannot read weights" "$WORK/sim.log"
wait_truth_rows 4 10
share_is server1:8080 0.88 0.92 || fail "broken file changed the shares: $(share server1:8080)"
weights 1 3
wait_for "server2 at 75 %" 10 share_is server2:8080 0.73 0.77
ok "a broken file keeps the last good weights"

# A server left out of the file is drained.
weights 5 -
wait_for "server2 drained" 10 share_is server2:8080 0 0
share_is server1:8080 1 1 || fail "server1 should take everything"
ok "a server left out gets nothing"

stop_sim
grep -q 'msg="weightd-sim stopped"' "$WORK/sim.log" || fail "no clean stop"
ok "clean stop on SIGTERM"
