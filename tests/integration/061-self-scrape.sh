#!/bin/sh
# 061-self-scrape: a real Prometheus scraping weightd's /metrics can query
# weightd_backend_weight, with the service and backend labels and the values
# weightd serves: weightd observed through the same stack it tunes.
. "$top_srcdir/tests/integration/common.sh"

# Equal latencies and a pin keep the weights still (40, 40, 20), so what
# Prometheus scraped a moment ago is what weightd serves now.
set_values "web a 0.1 0" "web b 0.1 0" "web c 0.1 0"
WD_PORT=$(free_port)
start_exporter_prometheus "127.0.0.1:$WD_PORT"

write_obs_config "$WORK/weightd.conf" '{ name = "web"; label = "backend"; backends = (
  { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; },
  { name = "c"; url = "http://c:80"; pin = 20; } ); }'
start_weightd "$WORK/weightd.conf"
wait_log 'msg="serving /metrics and /healthz"' 10

wait_prom_series 'weightd_backend_weight{service="web"}' 3 30
ok "Prometheus scrapes weightd_backend_weight"

prom_query 'weightd_backend_weight' >"$WORK/answer.json"
backends=$(jq -r '[.data.result[].metric.backend] | sort | join(",")' "$WORK/answer.json")
[ "$backends" = "a,b,c" ] || fail "backends in Prometheus: $backends, want a,b,c"
sum=$(jq '[.data.result[].value[1] | tonumber] | add' "$WORK/answer.json")
[ "$sum" = 100 ] || fail "weights in Prometheus sum to $sum, want 100"
for b in a b c; do
	w=$(jq -r --arg b "$b" '.data.result[] | select(.metric.backend == $b) | .value[1]' "$WORK/answer.json")
	metric "weightd_backend_weight{service=\"web\",backend=\"$b\"}" >"$WORK/served" || fail "no weight for $b"
	[ "$w" = "$(cat "$WORK/served")" ] || fail "backend $b: Prometheus has $w, weightd serves $(cat "$WORK/served")"
done
ok "Prometheus has the weights weightd serves"

wait_prom_series 'weightd_ticks_total{result="ok"} > 0' 1 20
wait_prom_series 'weightd_tick_duration_seconds_count > 0' 1 10
ok "tick counters and histogram are queryable"
