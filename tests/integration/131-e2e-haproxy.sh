#!/bin/sh
# 131-e2e-haproxy: the whole loop with real parts only: open-loop Poisson
# load through a real HAProxy (roundrobin) to three real backends of
# different speed (one worker each, mean service time 10, 20 and 40 ms: 100,
# 50 and 25 requests a second), a real Prometheus scraping HAProxy and the
# backends every second, and weightd on HAProxy's runtime API. At 100
# requests a second equal weights overload the slowest backend; weightd's
# weights must end ordered like the capacities. The client's latency is
# reported, not asserted (timing belongs to the benchmark).
. "$top_srcdir/tests/integration/common.sh"

start_realbackend s1 1 10ms
start_realbackend s2 1 20ms
start_realbackend s3 1 40ms
start_haproxy "
backend app
  balance roundrobin
  server s1 127.0.0.1:$PORT_s1 weight 34
  server s2 127.0.0.1:$PORT_s2 weight 33
  server s3 127.0.0.1:$PORT_s3 weight 33
"
set_realbackend_jobs s1 s2 s3
start_prometheus "$HAPROXY_PROM"
write_real_loop_config "$WORK/weightd.conf" 5s s1 s2 s3
"$WEIGHTD" -t -c "$WORK/weightd.conf" >/dev/null || fail "weightd.conf invalid"

"$OPENLOAD" -r 100 -d 60s -t 10s -S 7 -o "$WORK/requests.csv" "http://$HAPROXY_HTTP/work" \
	>"$WORK/openload.out" 2>"$WORK/openload.log" &
LOAD_PID=$!
track "$LOAD_PID"
wait_prom_series 'haproxy_server_http_responses_total{proxy="app",code="2xx"} > 0' 3 15
start_weightd "$WORK/weightd.conf"

ordered() {
	haproxy_weights app s1 s2 s3
	[ "$w1" -gt "$w2" ] && [ "$w2" -gt "$w3" ]
}
wait_for "HAProxy's weights ordered like the capacities" 40 ordered
ok "weights in HAProxy ordered like the capacities: $w1 > $w2 > $w3"
# ... and still so after 15 more ticks (the audit has a line per backend a tick)
want=$(($(wc -l <"$WORK/audit.jsonl") + 45))
wait_for "15 more ticks" 30 sh -c "[ \$(wc -l <'$WORK/audit.jsonl') -ge $want ]"
ordered || fail "weights lost their order: $w1 $w2 $w3"
ok "still ordered 15 ticks later: $w1 > $w2 > $w3"
log_has 'level=error' && fail "weightd logged an error: $(grep level=error "$WORK/weightd.log" | head -3)"

kill -TERM "$LOAD_PID"
wait "$LOAD_PID" || fail "openload failed: $(cat "$WORK/openload.log")"
untrack "$LOAD_PID"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
# every request accounted for: the summary's counts add up to the CSV's rows
summary=$(cat "$WORK/openload.out")
rows=$(($(wc -l <"$WORK/requests.csv") - 1))
echo "$summary" | awk -v rows="$rows" '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	exit !(v["sent"] == rows && v["ok"] + v["error"] + v["timeout"] == rows && rows > 0) }' ||
	fail "openload's accounting: $summary, $rows rows"
echo "client side over the whole run (equal weights first, then weightd): $summary"
t_end=$(awk -F, 'NR > 1 && $1 > m { m = $1 } END { print m }' "$WORK/requests.csv")
echo "client side, last 10 s: $("$OPENLOAD" -s "$WORK/requests.csv" -a "$(awk -v t="$t_end" 'BEGIN { print t - 10 }')")"
