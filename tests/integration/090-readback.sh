#!/bin/sh
# 090-readback: traefik_api set, weightd reads back what Traefik shows for
# each service it wrote (weightd-sim serves Traefik's API shape from the
# weights it applied). A balancer that applies the writes late: weightd warns
# once it lags past three intervals (and 10 s), then logs that it caught up,
# and records the apply time. A balancer stuck on old weights: the warning
# names what was written and what Traefik shows, and the applied gauge stays 0.
. "$top_srcdir/tests/integration/common.sh"

hetero_scenario "$WORK/hetero.scn"

# run_loop SIM_ARGS...: weightd-sim (30x) with the args, Prometheus, and
# weightd on Traefik's metrics reading the sim's API back, serving /metrics.
run_loop() {
	mkdir -p "$WORK/dynamic"
	OUT_FILE="$WORK/dynamic/weightd.yml"
	rm -f "$OUT_FILE" "$WORK/weightd.log"
	start_sim "$WORK/hetero.scn" -f "$OUT_FILE" --traefik-metrics --speed 30 "$@"
	start_prometheus "127.0.0.1:$SIM_PORT"
	WD_PORT=$(free_port)
	LOOP_METRICS=traefik write_loop_config "type = \"file\"; path = \"$OUT_FILE\";" \
		"$HETERO_START" "" \
		"traefik_api = \"http://127.0.0.1:$SIM_PORT\";"
	sed -i "s/^listen *= \"\";/listen = \"127.0.0.1:$WD_PORT\";/" "$WORK/weightd.conf"
	start_weightd "$WORK/weightd.conf"
}

stop_loop() {
	stop_weightd
	[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
	stop_sim
	stop_prometheus
	PROM_PORT=""
}

# The API shape weightd reads: the split layout's parent and a child.
run_loop --apply-lag 12
wait_for "the sim to apply weightd's first write" 30 \
	http_ok "http://127.0.0.1:$SIM_PORT/api/http/services/medical-imaging@file"
curl -fsS "http://127.0.0.1:$SIM_PORT/api/http/services/medical-imaging@file" >"$WORK/api.json"
jq -e '.type == "weighted" and (.weighted.services | length) == 3 and
	(.weighted.services[0].name | startswith("medical-imaging--server"))' "$WORK/api.json" >/dev/null ||
	fail "API answer: $(cat "$WORK/api.json")"
curl -fsS "http://127.0.0.1:$SIM_PORT/api/http/services/medical-imaging--server1-8080@file" |
	jq_true '.loadBalancer.servers == [{"url": "http://server1:8080"}]' || fail "child's API answer"
ok "weightd-sim serves Traefik's API for the parent and the children"

wait_log 'level=warn msg="Traefik shows other weights than weightd wrote" service=medical-imaging' 30
line=$(grep 'msg="Traefik shows other weights' "$WORK/weightd.log" | head -n 1)
echo "$line" | grep -q 'written="medical-imaging--server1-8080=' || fail "warning lacks the weights written: $line"
echo "$line" | grep -Eq 'for=1[0-9]\.[0-9]s' || fail "warned before 10 s or too late: $line"
ok "a late balancer is reported: $line"
wait_log 'level=info msg="Traefik now shows the weights weightd wrote" service=medical-imaging' 60
wait_for "an apply time recorded" 10 metric_at_least weightd_traefik_apply_seconds_count 1
awk -v s="$(metric weightd_traefik_apply_seconds_sum)" -v n="$(metric weightd_traefik_apply_seconds_count)" \
	'BEGIN { exit !(s / n >= 12) }' || fail "apply time below the 12 s lag: $(metric weightd_traefik_apply_seconds_sum)"
[ "$(count_log 'msg="Traefik shows other weights')" -eq 1 ] || fail "the lag was warned about more than once"
ok "caught up: logged once, apply time $(metric weightd_traefik_apply_seconds_sum) s over $(metric weightd_traefik_apply_seconds_count) writes"
stop_loop

# Stuck after its first two configurations: it never shows weightd's later
# writes.
run_loop --stuck-after 2
wait_log 'level=warn msg="Traefik shows other weights than weightd wrote" service=medical-imaging' 40
line=$(grep 'msg="Traefik shows other weights' "$WORK/weightd.log" | head -n 1)
echo "$line" | grep -q 'traefik="medical-imaging--server1-8080=' || fail "warning lacks Traefik's weights: $line"
w=$(echo "$line" | sed 's/.*written="\([^"]*\)".*/\1/')
t=$(echo "$line" | sed 's/.*traefik="\([^"]*\)".*/\1/')
[ "$w" != "$t" ] || fail "written and shown weights are the same: $line"
[ "$(metric 'weightd_traefik_applied{service="medical-imaging"}')" = 0 ] || fail "applied gauge not 0"
ok "a stuck balancer is reported: written $w, Traefik shows $t"
stop_loop
