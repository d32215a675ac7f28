#!/bin/sh
# 083-e2e-slowdown: a backend that slows down mid-run loses traffic within a
# few ticks (1 s ticks, 5 s rate windows, 1 s scrapes).
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/slow.scn" <<'EOS'
seed = 22;
traefik = { service = "medical-imaging"; };
load = { rate = 120.0; };
buckets = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0, 2.0];
backends = (
  { name = "server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 34; },
  { name = "server2:8080"; capacity = ( ("0s", 100.0), ("20s", 40.0) ); slots = 8;
    latency = ( ("0s", "40ms"), ("20s", "160ms") ); weight = 33; },
  { name = "server3:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 33; }
);
EOS
start_loop_file "$WORK/slow.scn" "server1:8080=34 server2:8080=33 server3:8080=33"
wait_for "20 s of simulated time" 40 sim_time_at_least 20
before=$(awk -F, '$2 == "server2:8080" && $1 > 10 && $1 <= 20 { s += $6; n++ } END { printf "%.3f", s / n }' "$WORK/truth.csv")
awk -v s="$before" 'BEGIN { exit !(s > 0.25) }' || fail "server2 had only $before of the traffic before slowing down"
wait_for "server2 below 20 % of the traffic" 40 share_is server2:8080 0 0.2
t=$(awk -F, '$2 == "server2:8080" && $1 > 20 && $6 < 0.2 { print $1; exit }' "$WORK/truth.csv")
echo "server2: share $before before, below 0.2 at t=$t s (slowed at 20 s)"
awk -v t="$t" 'BEGIN { exit !(t <= 35) }' || fail "server2 kept its traffic for $t s - 20 s"
w=$(out_weight http://server2:8080)
[ "$w" -le 20 ] || fail "weightd's output gives server2 weight $w"
ok "a slowed backend loses traffic within a few ticks"
