#!/bin/sh
# 081-sim-redis: weightd-sim follows Traefik's Redis KV layout (SCAN + MGET
# under the root key) for a weighted service, and exports Traefik's own
# per-service metrics, which a real Prometheus sees labelled by child service.
. "$top_srcdir/tests/integration/common.sh"
start_redis

cat >"$WORK/sim.scn" <<'EOS'
seed = 5;
traefik = { weighted = "weighted-medical-imaging"; };
load = { rate = 100.0; };
backends = (
  { name = "v1-a:8080"; service = "medical-imaging-v1@file"; capacity = 500.0; slots = 20; latency = "20ms"; },
  { name = "v1-b:8080"; service = "medical-imaging-v1@file"; capacity = 500.0; slots = 20; latency = "20ms"; },
  { name = "v2-a:8080"; service = "medical-imaging-v2@file"; capacity = 500.0; slots = 20; latency = "60ms"; }
);
EOS
rcli() {
	redis-cli -p "$REDIS_PORT" "$@" >/dev/null
}
K=traefik/http/services/weighted-medical-imaging/weighted/services
rcli MSET "$K/0/name" medical-imaging-v1@file "$K/0/weight" 9 "$K/1/name" medical-imaging-v2@file "$K/1/weight" 1

start_sim "$WORK/sim.scn" -r "127.0.0.1:$REDIS_PORT"

# share of the child service in the newest interval (sum over its backends)
svc_share() {
	tail -n 3 "$WORK/truth.csv" | awk -F, -v s="$1" '$3 == s { t += $6 } END { printf "%.4f", t }'
}
svc_share_is() { # SERVICE MIN MAX
	awk -v x="$(svc_share "$1")" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}
wait_for "v2 at 10 %" 10 svc_share_is medical-imaging-v2@file 0.09 0.11
ok "weights from Redis keys"

start_prometheus "127.0.0.1:$SIM_PORT"
Q='histogram_quantile(0.95, sum by (le, service) (rate(traefik_service_request_duration_seconds_bucket[10s])))'
two_services() {
	prom_query "$Q" | jq_true '[.data.result[] | select(.value[1] != "NaN")] | length == 2'
}
wait_for "p95 of both child services" 40 two_services
v1=$(prom_query "$Q" | jq -r '.data.result[] | select(.metric.service == "medical-imaging-v1@file") | .value[1]')
v2=$(prom_query "$Q" | jq -r '.data.result[] | select(.metric.service == "medical-imaging-v2@file") | .value[1]')
awk -v a="$v1" -v b="$v2" 'BEGIN { exit !(b > 2 * a) }' || fail "v2 should be slower: $v1 $v2"
R='sum by (service) (rate(traefik_service_requests_total{code="200"}[10s]))'
n=$(prom_query "$R" | jq '.data.result | length')
[ "$n" -eq 2 ] || fail "traefik_service_requests_total: $n services, want 2"
ok "traefik_service_* per child service through Prometheus"

# One transaction moves the weights; weight 0 drains a child.
redis-cli -p "$REDIS_PORT" >/dev/null <<EOR
MULTI
SET $K/0/weight 1
SET $K/1/weight 0
EXEC
EOR
wait_for "v2 drained" 10 svc_share_is medical-imaging-v2@file 0 0
ok "weight 0 drains a child"

# Redis gone: the last weights stay; Redis back: they are followed again.
stop_redis
wait_for "the Redis failure in the log" 10 grep -q "cannot read weights" "$WORK/sim.log"
wait_truth_rows 6 10
svc_share_is medical-imaging-v2@file 0 0 || fail "weights changed while Redis was down"
start_redis
rcli MSET "$K/0/name" medical-imaging-v1@file "$K/0/weight" 1 "$K/1/name" medical-imaging-v2@file "$K/1/weight" 1
wait_for "equal split after Redis is back" 15 svc_share_is medical-imaging-v2@file 0.45 0.55
ok "Redis restart: last weights held, then followed again"
