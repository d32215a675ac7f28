#!/bin/sh
# 067-readback-unreachable: with traefik_api pointing at an API that accepts
# requests and never answers (fakeprom.py in mode hang), each tick asks it once (one timeout), not
# once per service written; the failures are counted, ticks stay ok.
. "$top_srcdir/tests/integration/common.sh"

set_values "a x 0.1 0" "a y 0.2 0" "b x 0.1 0" "b y 0.2 0" "c x 0.1 0" "c y 0.2 0"
start_exporter_prometheus
FAKE_PROM_REQLOG="$WORK/asked.jsonl" start_fake_prom hang
WD_PORT=$(free_port)
svc() { echo "{ name = \"$1\"; label = \"backend\"; backends = ( { name = \"x\"; url = \"http://x:80\"; }, { name = \"y\"; url = \"http://y:80\"; } ); }"; }
write_obs_config "$WORK/weightd.conf" "$(svc a), $(svc b), $(svc c)" "traefik_api = \"$FAKE_PROM_URL\";"
start_weightd "$WORK/weightd.conf"
wait_for "three ticks" 60 metric_at_least 'weightd_ticks_total{result="ok"}' 3
ticks=$(metric 'weightd_ticks_total{result="ok"}')
errors=$(metric weightd_traefik_api_errors_total)
asked=$(grep -c '"path": "/api/http/services/' "$WORK/asked.jsonl")
echo "ticks=$ticks api_errors=$errors requests=$asked"
[ "$errors" -ge 1 ] || fail "API failures not counted"
# at most one request per tick (plus the one of a tick in progress)
[ "$asked" -le $((ticks + 1)) ] || fail "$asked requests in $ticks ticks: one per service, not per tick"
ok "an unreachable API is asked once a tick: $asked requests in $ticks ticks, $errors counted"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exited $WEIGHTD_RC"
