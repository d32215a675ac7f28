#!/bin/sh
# 060-metrics: /metrics of a running weightd passes `promtool check metrics`,
# has every metric family weightd.8 names, its weights match the output file,
# and a backend removed by a reload disappears from it. Other paths are 404,
# other methods 405.
. "$top_srcdir/tests/integration/common.sh"
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"

set_values "web a 0.1 0" "web b 0.3 0" "web c 0.2 0"
start_exporter_prometheus

WD_PORT=$(free_port)
svc_abc='{ name = "web"; label = "backend"; backends = (
  { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; },
  { name = "c"; url = "http://c:80"; pin = 20; } ); }'
write_obs_config "$WORK/weightd.conf" "$svc_abc"
start_weightd "$WORK/weightd.conf"
wait_log 'msg="serving /metrics and /healthz"' 10
wait_for "a successful tick" 20 metric_at_least 'weightd_ticks_total{result="ok"}' 1
wait_for "the output file" 10 test -s "$WORK/out.yml"

metrics >"$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics rejects /metrics"
ok "promtool check metrics accepts /metrics"

for f in weightd_backend_weight:gauge weightd_backend_latency_seconds:gauge \
	weightd_backend_error_ratio:gauge weightd_backend_cost:gauge weightd_pid_error:gauge \
	weightd_ticks_total:counter weightd_tick_duration_seconds:histogram \
	weightd_prometheus_queries_total:counter weightd_output_writes_total:counter \
	weightd_config_reloads_total:counter weightd_last_write_timestamp_seconds:gauge \
	weightd_last_success_timestamp_seconds:gauge weightd_dry_run:gauge \
	weightd_build_info:gauge weightd_backend_action:gauge weightd_service_frozen:gauge; do
	grep -q "^# TYPE ${f%%:*} ${f#*:}\$" "$WORK/metrics.txt" || fail "no TYPE line for $f"
	grep -q "^# HELP ${f%%:*} " "$WORK/metrics.txt" || fail "no HELP line for $f"
done
version=$("$WEIGHTD" --version | awk '{ print $2 }')
grep -q "^weightd_build_info{version=\"$version\"} 1\$" "$WORK/metrics.txt" || fail "build_info lacks version $version"
grep -q '^weightd_backend_latency_seconds{service="web",backend="b"} 0.3$' "$WORK/metrics.txt" ||
	fail "latency of b is not the exporter's 0.3"
grep -q '^weightd_backend_action{service="web",backend="c",action="pinned"} 1$' "$WORK/metrics.txt" ||
	fail "pinned backend c is not action=pinned"
metric_at_least 'weightd_output_writes_total{result="ok"}' 1 || fail "no ok write counted"
metric_at_least 'weightd_prometheus_queries_total{result="ok"}' 2 || fail "queries not counted"
metric_at_least 'weightd_last_write_timestamp_seconds' 1000000000 || fail "no last write time"
ok "every metric family, with values"

# The weights in /metrics are the ones in the output file. A tick may land
# between the two reads, so compare a snapshot where /metrics did not change.
weights_match() {
	python3 - "http://127.0.0.1:$WD_PORT/metrics" "$WORK/out.yml" <<'EOP'
import re, sys, urllib.request, yaml
def scrape():
    text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
    return {m.group(2): int(m.group(3)) for m in re.finditer(
        r'^weightd_backend_weight\{service="(web)",backend="([^"]*)"\} (\d+)$', text, re.M)}
before = scrape()
doc = yaml.safe_load(open(sys.argv[2]))
after = scrape()
if before != after:
    sys.exit("changed while reading")
servers = doc["http"]["services"]["web"]["loadBalancer"]["servers"]
infile = {s["url"].split("//")[1].split(":")[0]: s["weight"] for s in servers}
want = {b: w for b, w in before.items() if w > 0}  # drained servers are left out
if infile != want or sum(before.values()) != 100:
    sys.exit("metrics %s, file %s" % (before, infile))
EOP
}
wait_for "weights in /metrics to match the output file" 10 weights_match
ok "weights in /metrics match the output file"

# A reload that removes backend b: its series disappear.
svc_ac='{ name = "web"; label = "backend"; backends = (
  { name = "a"; url = "http://a:80"; }, { name = "c"; url = "http://c:80"; pin = 20; } ); }'
write_obs_config "$WORK/weightd.conf" "$svc_ac"
kill -HUP "$WEIGHTD_PID"
wait_for "the reload to count" 10 metric_at_least 'weightd_config_reloads_total{result="ok"}' 1
no_b() { ! metrics | grep -q 'backend="b"'; }
wait_for "backend b to leave /metrics" 10 no_b
metric 'weightd_backend_weight{service="web",backend="a"}' >/dev/null || fail "backend a is gone too"
ok "a backend removed by a reload disappears from /metrics"

# A reload with an error is counted as failed.
write_obs_config "$WORK/weightd.conf" "$svc_ac" 'typo_key = 1;'
kill -HUP "$WEIGHTD_PID"
wait_for "the failed reload to count" 10 metric_at_least 'weightd_config_reloads_total{result="failed"}' 1
ok "failed reloads are counted"

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
[ "$(code "http://127.0.0.1:$WD_PORT/")" = 404 ] || fail "/ is not 404"
[ "$(code -X POST "http://127.0.0.1:$WD_PORT/metrics")" = 405 ] || fail "POST /metrics is not 405"
ok "404 and 405"

stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exited $WEIGHTD_RC"
