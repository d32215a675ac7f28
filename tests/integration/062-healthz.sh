#!/bin/sh
# 062-healthz: /healthz is 200 while ticks succeed, turns 503 (with the reason
# in the body) when Prometheus goes away, and 200 again when it returns. The
# outage and the recovery are each logged once.
. "$top_srcdir/tests/integration/common.sh"

set_values "web a 0.1 0" "web b 0.2 0"
start_exporter_prometheus

WD_PORT=$(free_port)
write_obs_config "$WORK/weightd.conf" '{ name = "web"; label = "backend"; backends = (
  { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; } ); }'
start_weightd "$WORK/weightd.conf"
# A fresh daemon is healthy for three intervals anyway: wait for a good tick.
wait_for "a successful tick" 20 metric_at_least 'weightd_ticks_total{result="ok"}' 1
wait_for "/healthz 200" 20 healthz_is 200
grep -qx ok "$WORK/healthz.body" || fail "healthz body: $(cat "$WORK/healthz.body")"
ok "/healthz 200 while ticks succeed"

stop_prometheus
# Three 300ms intervals without a good tick.
wait_for "/healthz 503" 10 healthz_is 503
grep -q "last successful tick .* ago" "$WORK/healthz.body" || fail "503 body lacks the age: $(cat "$WORK/healthz.body")"
grep -q "Prometheus" "$WORK/healthz.body" || fail "503 body lacks the reason: $(cat "$WORK/healthz.body")"
ok "/healthz 503 with the reason: $(cat "$WORK/healthz.body")"
metric_at_least 'weightd_ticks_total{result="failed"}' 3 || fail "failed ticks not counted"

start_prometheus "127.0.0.1:$EXP_PORT" # same port as before
wait_for "/healthz 200 again" 30 healthz_is 200
ok "/healthz 200 when Prometheus returns"

[ "$(count_log 'msg="Prometheus query failed')" -eq 1 ] ||
	fail "the outage was logged $(count_log 'msg="Prometheus query failed') times, want once"
[ "$(count_log 'msg="Prometheus queries recovered"')" -eq 1 ] || fail "the recovery was not logged once"
ok "outage and recovery logged once each"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exited $WEIGHTD_RC"
