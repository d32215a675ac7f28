#!/bin/sh
# 086-e2e-redis: the same loop through Redis (weightd's Redis output, the
# simulator reading Traefik's KV layout); Redis restarted mid-run (empty, no
# persistence): weightd reconnects and writes the whole configuration again.
# server2's slowdown is steered off under the default write budget.
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/slow.scn" <<'EOS'
seed = 26;
traefik = { service = "medical-imaging"; };
load = { rate = 100.0; };
buckets = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0, 2.0];
backends = (
  { name = "server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 50; },
  { name = "server2:8080"; capacity = ( ("0s", 100.0), ("30s", 40.0) ); slots = 8;
    latency = ( ("0s", "40ms"), ("30s", "160ms") ); weight = 50; }
);
EOS
start_redis
start_sim "$WORK/slow.scn" -r "127.0.0.1:$REDIS_PORT"
start_prometheus "127.0.0.1:$SIM_PORT"
write_loop_config "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; root_key = \"traefik\";" \
	"server1:8080=50 server2:8080=50"
start_weightd "$WORK/weightd.conf"
K=traefik/http/services/medical-imaging/loadBalancer/servers
has_keys() {
	[ "$(redis-cli -p "$REDIS_PORT" --scan --pattern "$K/*/weight" | wc -l)" -eq 2 ]
}
wait_for "weightd's keys in Redis" 20 has_keys
ok "weightd writes Traefik's KV layout"

# Redis restarts empty before the slowdown at 30 s
wait_for "10 s of simulated time" 20 sim_time_at_least 10
stop_redis
wait_for "weightd-sim sees Redis gone" 10 grep -q "cannot read weights" "$WORK/sim.log"
start_redis
wait_for "weightd's keys in the new Redis" 60 has_keys
ok "Redis restarted: weightd writes again"

wait_for "server2 below 20 % of the traffic" 60 share_is server2:8080 0 0.2
ok "the loop steers through Redis"
# four times as slow as server1 for longer than the 5 s window: a slowdown,
# whose moves never wait for the write budget (without that rule server2
# sat at 26 % for 22 s once the budget was spent)
jq -s -e '[.[] | select(.backend == "server2:8080" and (.reason | contains("; slowdown: three times")))]
	| length > 0' "$WORK/audit.jsonl" >/dev/null || fail "no slowdown in the audit log for server2"
ok "the audit log names server2's slowdown"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
