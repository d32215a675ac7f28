#!/bin/sh
# 132-preset-haproxy: metrics = "haproxy" against HAProxy's real exporter,
# scraped by a real Prometheus: the built-in queries (weightd -t prints them)
# answer for every backend, keyed by proxy/server; a backend that fails half
# its requests fast (503) shows its error ratio and loses weight in HAProxy,
# while the two healthy ones show none. Then HAProxy goes down: weightd logs
# the failed write once and keeps running; HAProxy comes back with its config
# file's weights: weightd notices the restart and writes its own again.
. "$top_srcdir/tests/integration/common.sh"
command -v jq >/dev/null || skip "jq not installed"

start_realbackend s1 2 10ms
start_realbackend s2 2 10ms
start_realbackend s3 2 10ms "-f 0.5"
start_haproxy "
backend app
  balance roundrobin
  server s1 127.0.0.1:$PORT_s1
  server s2 127.0.0.1:$PORT_s2
  server s3 127.0.0.1:$PORT_s3
"
start_prometheus "$HAPROXY_PROM"
REAL_METRICS=haproxy write_real_loop_config "$WORK/weightd.conf" 5s s1 s2 s3
"$WEIGHTD" -t -c "$WORK/weightd.conf" >"$WORK/t.out" 2>&1 || fail "weightd -t: $(cat "$WORK/t.out")"
grep -q 'label_join(sum by (proxy, server) (rate(haproxy_server_http_responses_total{proxy=~"(app)",code="5xx"}\[5s\]))' "$WORK/t.out" ||
	fail "weightd -t does not show the error query: $(cat "$WORK/t.out")"
ok "weightd -t prints the built-in HAProxy queries"

"$OPENLOAD" -r 60 -d 60s -t 5s -S 3 "http://$HAPROXY_HTTP/work" >"$WORK/openload.out" 2>&1 &
track $!
wait_prom_series 'haproxy_server_http_responses_total{proxy="app",code="5xx"} > 0' 1 15
start_weightd "$WORK/weightd.conf"

# the newest audit record of a backend satisfies a jq condition
audit_is() {
	[ -s "$WORK/audit.jsonl" ] &&
		jq -s -e --arg b "$1" "[.[] | select(.backend == \$b)] | last | $2" "$WORK/audit.jsonl" >/dev/null
}
measured() {
	audit_is s1 '.latency > 0 and .rate > 0 and .error_ratio == 0' &&
		audit_is s2 '.latency > 0 and .rate > 0 and .error_ratio == 0' &&
		audit_is s3 '.latency > 0 and .rate > 0 and .error_ratio > 0.2'
}
wait_for "every backend measured through the preset, s3's errors seen" 30 measured
ok "latency, rate and error ratio for s1, s2, s3 from HAProxy's exporter"

s3_loses() {
	haproxy_weights app s1 s2 s3
	[ "$w3" -lt "$w1" ] && [ "$w3" -lt "$w2" ]
}
wait_for "the failing backend to lose weight in HAProxy" 30 s3_loses
ok "s3 (half its requests 503) down to $w3 against $w1 and $w2"
log_has 'level=error' && fail "weightd logged an error: $(grep level=error "$WORK/weightd.log" | head -3)"

stop_haproxy
wait_log 'output write failed.*output=haproxy.*cannot connect to HAProxy' 15
start_haproxy_again
wait_log 'output write recovered' 15
wait_for "weightd's weights back in HAProxy" 15 s3_loses
log_has 'HAProxy restarted or reloaded' || fail "the restart went unnoticed"
[ "$(count_log 'output write failed')" = 1 ] || fail "the failure logged $(count_log 'output write failed') times"
kill -0 "$WEIGHTD_PID" || fail "weightd died with HAProxy"
ok "HAProxy down: one failure line; back with its config's weights: rewritten ($w1/$w2/$w3)"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
