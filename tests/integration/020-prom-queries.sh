#!/bin/sh
# 020-prom-queries: weightd's Prometheus client against a real Prometheus
# scraping two exporters (one per backend): a real histogram_quantile() and
# rate() query return the expected backends and values in one batch; a bad
# PromQL gives the server's own error text; a range vector is refused; a
# PromQL of 12 KB works; later batches reuse the connections; and weightd
# warns about duplicate series (a rate without "sum by").
. "$top_srcdir/tests/integration/common.sh"
PROMQ="$top_builddir/tests/tools/promq"

# Backend a: 0.2 s per request, 10% errors, 50 req/s; b: 0.04 s, no errors, 20 req/s.
start_backend_exporter 0.2 0.1 50
A=$BACKEND_ADDR
start_backend_exporter 0.04 0.0 20
B=$BACKEND_ADDR
start_prometheus "$A" "$B"

LAT='histogram_quantile(0.95, sum by (le, instance) (rate(model_inference_duration_seconds_bucket[5s])))'
ERR='sum by (instance) (rate(http_requests_total{code=~"5.."}[5s])) / sum by (instance) (rate(http_requests_total[5s]))'
RATE='sum by (instance) (rate(http_requests_total[5s]))'
# rate() is exact once its 5 s window is full of samples (at the start it
# extrapolates less, towards a counter of zero).
wait_prom_series 'count_over_time(up[6s]) >= 6' 2 30

"$PROMQ" "$PROM_URL" "$LAT" "$ERR" "$RATE" >"$WORK/batch.out" || fail "batch failed: $(cat "$WORK/batch.out")"
cat "$WORK/batch.out"
# value QUERY_INDEX BACKEND: the value promq printed for that backend.
value() {
	awk -v q="$1" -v b="$2" '$1 == "ok" { cur = $2 } $1 == b && cur == q { print $2 }' "$WORK/batch.out"
}
between() { # between VALUE LO HI
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v + 0 >= lo && v + 0 <= hi) }'
}
grep -q '^ok 0 2$' "$WORK/batch.out" || fail "latency query did not return 2 series"
# All of a's requests take 0.2 s: its p95 interpolates inside the (0.1, 0.25] bucket.
between "$(value 0 "$A")" 0.24 0.245 || fail "p95 of a is $(value 0 "$A"), want 0.2425"
between "$(value 0 "$B")" 0.047 0.048 || fail "p95 of b is $(value 0 "$B"), want 0.0475"
between "$(value 1 "$A")" 0.09 0.11 || fail "error ratio of a is $(value 1 "$A"), want 0.1"
between "$(value 1 "$B")" 0 0 || fail "error ratio of b is $(value 1 "$B"), want 0"
between "$(value 2 "$A")" 40 60 || fail "rate of a is $(value 2 "$A"), want 50"
between "$(value 2 "$B")" 15 25 || fail "rate of b is $(value 2 "$B"), want 20"
ok "histogram_quantile, error ratio and rate return both backends"

# A bad PromQL: the error is the server's own text, with the query named.
BAD='sum(rate(http_requests_total[5'
want=$(curl -s "$PROM_URL/api/v1/query" --data-urlencode "query=$BAD" | jq -r .error)
[ -n "$want" ] || fail "Prometheus gave no error text for the bad query"
"$PROMQ" "$PROM_URL" "$BAD" 'up[5s]' >"$WORK/bad.out" && fail "bad queries succeeded"
cat "$WORK/bad.out"
grep -qF "err 0 query \"$BAD\": Prometheus error (bad_data): $want" "$WORK/bad.out" ||
	fail "bad PromQL error is not the server's text \"$want\""
grep -qF 'err 1 query "up[5s]": result is a matrix: use an instant vector expression' "$WORK/bad.out" ||
	fail "range vector not refused clearly"
ok "bad PromQL gives the server's error; a matrix is refused"

# A long query (12 KB) goes in the POST body and works.
long="sum by (instance) (up)"
i=0
while [ $i -lt 1200 ]; do
	long="$long + 0 * 1.5"
	i=$((i + 1))
done
[ ${#long} -gt 12000 ] || fail "long query only ${#long} bytes"
"$PROMQ" "$PROM_URL" "$long" >"$WORK/long.out" || fail "long query failed: $(cat "$WORK/long.out")"
grep -q '^ok 0 2$' "$WORK/long.out" || fail "long query did not return 2 series"
ok "a ${#long}-byte query works"

# Connection reuse: 5 batches of 3 queries open 3 connections, not 15.
accepted() {
	curl -fsS "$PROM_URL/metrics" |
		awk '/^net_conntrack_listener_conn_accepted_total\{listener_name="http"\}/ { print $2 }'
}
c0=$(accepted)
"$PROMQ" -r 5 "$PROM_URL" "$LAT" "$ERR" "$RATE" >"$WORK/reuse.out" || fail "repeated batches failed"
c1=$(accepted)
[ "$(grep -c '^ok' "$WORK/reuse.out")" -eq 15 ] || fail "not 15 answers in 5 batches"
# c1 counts the scrape of /metrics itself too: at most 3 + 1 new connections.
opened=$((c1 - c0))
echo "connections opened for 5 batches of 3 queries: $((opened - 1))"
[ "$opened" -le 4 ] || fail "$opened connections for 5 batches of 3 queries: not reused"
ok "connections are reused across batches"

# weightd itself: one tick measures a service whose rate query lacks "sum by":
# both backends get a duplicate-series warning that names them; the tick works.
cat >"$WORK/weightd.conf" <<EOC
interval = "2s";
listen = "";
prometheus = { url = "$PROM_URL"; timeout = "5s"; };
output = { type = "file"; path = "$WORK/out.yml"; };
services = ( { name = "svc"; label = "instance";
  latency_query = "$(echo "$LAT" | sed 's/"/\\"/g')";
  error_query = "$(echo "$ERR" | sed 's/"/\\"/g')";
  rate_query = "rate(http_requests_total[5s])";
  backends = ( { name = "$A"; url = "http://a:1"; }, { name = "$B"; url = "http://b:1"; } ); } );
EOC
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run -v >"$WORK/weightd.out" 2>"$WORK/weightd.log" ||
	fail "weightd --once failed"
log_has 'level=warn msg="duplicate series for a backend" service=svc query=rate_query' ||
	fail "no duplicate-series warning"
log_has "$A" && log_has 'sum by \(instance\)' || fail "duplicate warning does not name the backend and the fix"
log_has 'Prometheus query failed' && fail "a query failed"
ok "weightd warns about duplicate series and names them"
