#!/bin/sh
# 091-sample-spacing: weightd ticking every second over samples Prometheus
# scrapes every 3 s sees nothing new on most ticks: it warns once, naming the
# service, the spacing it measured and the interval to set; and not again.
. "$top_srcdir/tests/integration/common.sh"

pa=$(free_port)
pb=$(free_port)
python3 "$top_srcdir/tests/integration/exporter.py" "$pa" 0.2 0.0 50 &
track $!
python3 "$top_srcdir/tests/integration/exporter.py" "$pb" 0.04 0.0 50 &
track $!
wait_for "exporter a" 10 http_ok "http://127.0.0.1:$pa/metrics"
wait_for "exporter b" 10 http_ok "http://127.0.0.1:$pb/metrics"
PROM_SCRAPE=3s start_prometheus "127.0.0.1:$pa" "127.0.0.1:$pb"
LAT='histogram_quantile(0.95, sum by (le, instance) (rate(model_inference_duration_seconds_bucket[15s])))'
wait_prom_series "$LAT" 2 40

cat >"$WORK/weightd.conf" <<EOC
interval = "1s";
listen = "";
state_file = "";
audit_log = "$WORK/audit.jsonl";
prometheus = { url = "$PROM_URL"; };
output = { type = "file"; path = "$WORK/out.yml"; };
services = ( { name = "live"; label = "instance";
  latency_query = "$(printf '%s' "$LAT" | sed 's/"/\\"/g')";
  backends = ( { name = "127.0.0.1:$pa"; url = "http://127.0.0.1:$pa"; },
               { name = "127.0.0.1:$pb"; url = "http://127.0.0.1:$pb"; } ); } );
EOC
"$WEIGHTD" -t -c "$WORK/weightd.conf" >"$WORK/check.out" 2>&1 || fail "config: $(cat "$WORK/check.out")"
start_weightd "$WORK/weightd.conf"
wait_log "shorter than the spacing of the samples" 40
grep "shorter than the spacing" "$WORK/weightd.log"
line=$(grep "shorter than the spacing" "$WORK/weightd.log")
echo "$line" | grep -q 'service=live' || fail "the warning does not name the service"
echo "$line" | grep -Eq 'samples_every=[0-9.]+s' || fail "the warning does not say the spacing"
echo "$line" | grep -Eq 'suggested_interval=[2-9]s' || fail "the warning does not say what interval to set"
# Twenty more ticks (audit records, two backends a tick), still one warning.
ticks() { [ -f "$WORK/audit.jsonl" ] && [ "$(wc -l <"$WORK/audit.jsonl")" -ge "$1" ]; }
n=$(wc -l <"$WORK/audit.jsonl")
wait_for "20 more ticks" 40 ticks $((n + 40))
[ "$(count_log 'shorter than the spacing')" -eq 1 ] || fail "warned $(count_log 'shorter than the spacing') times"
stop_weightd
ok "a tick shorter than the samples' spacing: one warning saying what to change"
