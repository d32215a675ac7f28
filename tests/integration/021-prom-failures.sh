#!/bin/sh
# 021-prom-failures: each way a query can fail gives one line naming the
# query and the cause: connection refused, DNS failure, an HTTP error with a
# non-JSON body (a real Prometheus's 404), a response over the size cap. Then
# weightd running against a Prometheus that is stopped mid-run logs one clean
# failure, keeps running, and recovers on a tick after the server is back.
. "$top_srcdir/tests/integration/common.sh"
PROMQ="$top_builddir/tests/tools/promq"

# expect_err OUTFILE PATTERN: promq failed with exactly one error line, which
# names the query "up" and matches PATTERN (fixed string).
expect_err() {
	[ "$(grep -c '^err 0 ' "$1")" -eq 1 ] || fail "want one error line in $(cat "$1")"
	grep -q '^err 0 query "up": ' "$1" || fail "error does not name the query: $(cat "$1")"
	grep -qF "$2" "$1" || fail "error lacks \"$2\": $(cat "$1")"
	sed -n 's/^err 0 /  /p' "$1"
}

dead=$(free_port)
"$PROMQ" "http://127.0.0.1:$dead" up >"$WORK/refused.out" && fail "query to a closed port succeeded"
expect_err "$WORK/refused.out" "Failed to connect to 127.0.0.1 port $dead"
ok "connection refused"

"$PROMQ" "http://prometheus.weightd-test.invalid:9090" up >"$WORK/dns.out" && fail "query to an unknown host succeeded"
expect_err "$WORK/dns.out" "Could not resolve host: prometheus.weightd-test.invalid"
ok "DNS failure"

start_backend_exporter 0.1 0 10
port=$BACKEND_PORT
start_prometheus "127.0.0.1:$port"
wait_prom_series 'up' 1 30

# A wrong URL path: Prometheus answers 404 with a plain-text body.
"$PROMQ" "$PROM_URL/wrong-prefix" up >"$WORK/404.out" && fail "query to a wrong path succeeded"
expect_err "$WORK/404.out" 'HTTP 404 from Prometheus: 404 page not found'
ok "HTTP error with a non-JSON body"

# Every series of the server is far more than 1 KiB; the default cap is fine.
"$PROMQ" "$PROM_URL" '{__name__=~".+"}' >"$WORK/big.out" || fail "all series failed under the default cap"
"$PROMQ" -m 1024 "$PROM_URL" up '{__name__=~".+"}' >"$WORK/cap.out" && fail "a response over the cap was accepted"
grep -q '^ok 0 1$' "$WORK/cap.out" || fail "a small answer failed under the cap"
grep -qF 'err 1 query "{__name__=~".+"}": response larger than prometheus.max_response_bytes (1024 bytes)' \
	"$WORK/cap.out" || fail "no clear size-cap error: $(cat "$WORK/cap.out")"
ok "response size cap"

# Prometheus stops while weightd runs: one clean failure, then recovery.
cat >"$WORK/weightd.conf" <<EOC
interval = "500ms";
listen = "";
prometheus = { url = "$PROM_URL"; timeout = "2s"; };
output = { type = "file"; path = "$WORK/out.yml"; };
services = ( { name = "svc"; latency_query = "sum by (instance) (up)";
  backends = ( { name = "127.0.0.1:$port"; url = "http://a:1"; } ); } );
EOC
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run >/dev/null 2>"$WORK/once.log" ||
	fail "weightd --once failed against a running Prometheus: $(cat "$WORK/once.log")"
start_weightd "$WORK/weightd.conf" --dry-run
wait_log 'msg="weightd starting"' 10
stop_prometheus
wait_log 'msg="Prometheus query failed; holding the service.s weights" service=svc' 10
# (a Prometheus shutting down may still answer 503 before it stops listening)
log_has 'error="latency_query: query \\"sum by \(instance\) \(up\)\\": (Failed to connect|HTTP 503 from Prometheus)' ||
	fail "the failure does not name the query and the cause"
start_prometheus "127.0.0.1:$port"
wait_log 'msg="Prometheus queries recovered"' 15
kill -0 "$WEIGHTD_PID" || fail "weightd died"
grep "Prometheus query failed" "$WORK/weightd.log"
[ "$(count_log 'Prometheus query failed')" -eq 1 ] || fail "the failure was logged more than once"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
ok "Prometheus stopped mid-run: one clean failure, then recovery"
