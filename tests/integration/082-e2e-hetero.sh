#!/bin/sh
# 082-e2e-hetero: the whole loop (weightd-sim -> Prometheus -> weightd -> YAML
# file -> weightd-sim) on servers of capacity 100, 70 and 30 at 70 % load:
# the weights end ordered like the capacities, and the fleet's p95 ends well
# below what equal weights give.
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/hetero.scn" <<'EOS'
seed = 21;
traefik = { service = "medical-imaging"; };
load = { rate = 140.0; };
buckets = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4,
           0.5, 0.75, 1.0, 2.0, 5.0, 10.0];
backends = (
  { name = "server1:8080"; url = "http://server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 34; },
  { name = "server2:8080"; url = "http://server2:8080"; capacity = 70.0; slots = 8; latency = "40ms"; weight = 33; },
  { name = "server3:8080"; url = "http://server3:8080"; capacity = 30.0; slots = 4; latency = "40ms"; weight = 33; }
);
EOS

# Equal weights, the same fleet and seed, 60 simulated seconds at 30x speed.
"$SIM" -s "$WORK/hetero.scn" -l "127.0.0.1:$(free_port)" --speed 30 -d 60 \
	-o "$WORK/equal.csv" 2>"$WORK/equal.log" || fail "baseline run failed"
equal=$(fleet_p95_mean "$WORK/equal.csv" 30 60)

start_loop_file "$WORK/hetero.scn" "server1:8080=34 server2:8080=33 server3:8080=33"
ordered() {
	w1=$(sim_weight server1:8080)
	w2=$(sim_weight server2:8080)
	w3=$(sim_weight server3:8080)
	[ -n "$w1" ] && [ -n "$w2" ] && [ -n "$w3" ] && [ "$w1" -gt "$w2" ] && [ "$w2" -gt "$w3" ]
}
wait_for "weights ordered like the capacities" 60 ordered
ok "weights ordered: $(sim_weight server1:8080) > $(sim_weight server2:8080) > $(sim_weight server3:8080)"

# give the loop 30 s to settle, then compare the last 10 s with equal weights
t0=$(tail -n 1 "$WORK/truth.csv" | cut -d, -f1)
wait_for "30 s of settling" 40 sim_time_at_least "$((${t0%.*} + 30))"
t1=$(tail -n 1 "$WORK/truth.csv" | cut -d, -f1)
tuned=$(fleet_p95_mean "$WORK/truth.csv" "$(awk -v t="$t1" 'BEGIN { print t - 10 }')" "$t1")
echo "fleet p95: equal weights $equal s, weightd $tuned s"
ordered || fail "weights lost their order"
awk -v a="$tuned" -v b="$equal" 'BEGIN { exit !(a < 0.5 * b) }' ||
	fail "fleet p95 $tuned not well below equal weights' $equal"
ok "fleet p95 well below equal weights"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
