#!/bin/sh
# 089-e2e-traefik-metrics: the loop of 082 (servers of capacity 100, 70 and 30
# at 70 % load) with metrics = "traefik" and no hand-written query: weightd
# writes the split layout, weightd-sim labels each server's requests with its
# child service as Traefik does (nothing for the parent), Prometheus scrapes
# it, and weightd's built-in queries steer. The weights end ordered like the
# capacities and the fleet's p95 meets 082's bar (well below equal weights).
. "$top_srcdir/tests/integration/common.sh"

hetero_scenario "$WORK/hetero.scn"
equal=$(equal_p95 "$WORK/hetero.scn") || fail "baseline run failed"

LOOP_METRICS=traefik SIM_ARGS=--traefik-metrics \
	start_loop_file "$WORK/hetero.scn" "$HETERO_START"
! grep -q 'query' "$WORK/weightd.conf" || fail "the config has a hand-written query"
"$WEIGHTD" -t -c "$WORK/weightd.conf" >"$WORK/t" || fail "-t failed"
grep -qx 'queries per tick: 3' "$WORK/t" || fail "-t: $(cat "$WORK/t")"
grep -A1 -x '# latency of service medical-imaging' "$WORK/t" | grep -q '^sum by (service) (rate(traefik_service_request_duration_seconds_sum{service=~"(medical-imaging--server1-8080@file|medical-imaging--server2-8080@file|medical-imaging--server3-8080@file)"}\[5s\]))' ||
	fail "-t latency query: $(cat "$WORK/t")"
ok "no hand-written query; weightd -t prints the three built-in ones"

child_series() {
	curl -fsS --max-time 2 "http://127.0.0.1:$SIM_PORT/metrics" >"$WORK/m" &&
		grep -q '^traefik_service_requests_total{service="medical-imaging--server3-8080@file"' "$WORK/m"
}
wait_for "per-child Traefik series" 20 child_series
! grep -q 'service="medical-imaging@file"' "$WORK/m" || fail "the parent has series"
ok "per-server series under the child services, none for the parent"

hetero_steers "$equal" "weightd on Traefik's metrics, as with custom queries"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
