#!/bin/sh
# 066-empty-answers: answers without data are loud but not failures. A query
# that returns no series, and series whose label names no backend, are each
# warned about once (with the query, and the label values seen); the
# services left without data are exported (weightd_service_no_data, the
# empty-query counter) and named in the /healthz body, while ticks stay ok.
# A metrics = "traefik" service's empty answers are expected at first (a
# note), and a warning once they last past the window and three ticks.
. "$top_srcdir/tests/integration/common.sh"

set_values "ok1 a 0.1 0" "ok1 b 0.2 0" "stranger x 0.1 0"
start_exporter_prometheus
WD_PORT=$(free_port)
write_obs_config "$WORK/weightd.conf" '
  { name = "ok1"; label = "backend"; backends = (
    { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; } ); },
  { name = "ghost"; label = "backend"; error_query = "";
    latency_query = "obs_latency_seconds{service=\"nosuch\"}";
    backends = ( { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; } ); },
  { name = "stranger"; label = "backend"; error_query = ""; backends = (
    { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; } ); },
  { name = "web"; metrics = "traefik"; window = "1s"; backends = (
    { name = "s1"; url = "http://s1:80"; }, { name = "s2"; url = "http://s2:80"; } ); }'
start_weightd "$WORK/weightd.conf"
wait_for "ten good ticks" 30 metric_at_least 'weightd_ticks_total{result="ok"}' 10
wait_log 'level=warn msg="preset query returned no series"' 20
wait_for "two more good ticks" 10 metric_at_least 'weightd_ticks_total{result="ok"}' \
	"$(($(metric 'weightd_ticks_total{result="ok"}') + 2))"

[ "$(count_log 'level=warn msg="query returned no series" service=ghost query="obs_latency_seconds\{service=\\"nosuch\\"\}"')" -eq 1 ] ||
	fail "empty custom query warned $(count_log 'msg="query returned no series" service=ghost') times, want once: $(cat "$WORK/weightd.log")"
ok "an empty answer is warned about once, with the query"

n=$(count_log 'level=warn msg="query matches no backend of the service" service=stranger .*values seen: \\"x\\"')
[ "$n" -eq 1 ] || fail "unmatched series warned $n times, want once with the value seen: $(grep stranger "$WORK/weightd.log")"
ok "series naming no backend are warned about once, with the label values seen"

for sig in latency error rate; do
	[ "$(count_log "level=info msg=\"preset query returned no series yet\" service=web query=\".*detail=\"no $sig series")" -eq 1 ] ||
		fail "no first note for the preset's $sig query: $(grep 'service=web' "$WORK/weightd.log")"
	[ "$(count_log "level=warn msg=\"preset query returned no series\" service=web query=\".*detail=\"still no $sig series")" -eq 1 ] ||
		fail "no single warning for the preset's $sig query: $(grep 'service=web' "$WORK/weightd.log")"
done
ok "the preset's empty answers: a note at first, one warning once past the window"

for s in ghost stranger web; do
	[ "$(metric "weightd_service_no_data{service=\"$s\"}")" = 1 ] || fail "$s: no_data gauge not 1"
done
[ "$(metric 'weightd_service_no_data{service="ok1"}')" = 0 ] || fail "ok1: no_data gauge not 0"
metric_at_least weightd_prometheus_queries_empty_total 10 || fail "empty queries not counted"
[ "$(metric 'weightd_ticks_total{result="failed"}')" = 0 ] &&
	[ "$(metric 'weightd_ticks_total{result="partial"}')" = 0 ] || fail "empty answers failed ticks"
ok "weightd_service_no_data and the empty-query counter; no tick failed"

healthz_is 200 || fail "/healthz $(healthz_code)"
grep -qx 'ok' "$WORK/healthz.body" &&
	grep -q '^no data: the latency answers name no backend of ghost, stranger, web ' "$WORK/healthz.body" ||
	fail "healthz body: $(cat "$WORK/healthz.body")"
ok "/healthz says which services have no data: $(tail -n 1 "$WORK/healthz.body")"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exited $WEIGHTD_RC"
