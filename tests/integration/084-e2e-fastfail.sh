#!/bin/sh
# 084-e2e-fastfail: a backend that fails fast (errors at low latency, which
# latency alone would reward) is ejected, and returns after it recovers.
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/fail.scn" <<'EOS'
seed = 23;
traefik = { service = "medical-imaging"; };
load = { rate = 100.0; };
buckets = [0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0];
backends = (
  { name = "server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 34; },
  { name = "server2:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 33; },
  { name = "server3:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 33;
    errors = ( ("0s", 0.0), ("15s", 0.7), ("35s", 0.0) ); error_latency = "2ms"; }
);
EOS
start_loop_file "$WORK/fail.scn" "server1:8080=34 server2:8080=33 server3:8080=33"
weight_is() {
	[ "$(sim_weight "$1")" = "$2" ]
}
wait_for "server3 ejected to min_weight 1" 40 weight_is server3:8080 1
[ "$(out_weight http://server3:8080)" = 1 ] || fail "weightd's output: server3 not at 1"
wait_truth_rows 3 10
t=$(awk -F, '$2 == "server3:8080" && $4 == 1 { print $1; exit }' "$WORK/truth.csv")
echo "server3 ejected at t=$t s (failing from 15 s)"
awk -v t="$t" 'BEGIN { exit !(t > 15 && t <= 30) }' || fail "ejected at $t s"
ok "a fast-failing backend is ejected"
weight_above() {
	w=$(sim_weight "$1")
	[ -n "$w" ] && [ "$w" -ge "$2" ]
}
wait_for "server3 back above weight 20" 90 weight_above server3:8080 20
wait_truth_rows 3 10
t=$(awk -F, '$2 == "server3:8080" && $1 > 35 && $4 >= 20 { print $1; exit }' "$WORK/truth.csv")
echo "server3 back to weight >= 20 at t=$t s (recovered at 35 s)"
ok "it returns after it recovers"
