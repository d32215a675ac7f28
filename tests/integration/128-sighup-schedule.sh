#!/bin/sh
# 128-sighup-schedule: a reload adds no controller step and fails no write.
# With the real Prometheus and the real Redis output: SIGHUPs between two
# ticks leave the tick count on its schedule (one tick, however many
# reloads), a pin applies from the next tick, and a storm of SIGHUPs while
# ticks write to Redis every 100 ms fails no write and no query.
. "$top_srcdir/tests/integration/common.sh"

start_backends_prometheus
start_redis

# conf INTERVAL B_PIN: the live service on Redis, with B's pin ("" none).
conf() {
	write_live_config "$WORK/weightd.conf" "$1" \
		"type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; root_key = \"traefik\";" <<EOS
$(live_service "$2")
EOS
}

# reload_once: one SIGHUP, and its "config reloaded" line.
reload_once() {
	n=$(count_log 'msg="config reloaded"')
	kill -HUP "$WEIGHTD_PID"
	wait_new_log 'msg="config reloaded"' "$n"
}

# b_weight: B's weight in Redis.
b_weight() {
	redis-cli -p "$REDIS_PORT" get "traefik/http/services/live/loadBalancer/servers/1/weight"
}

conf 10m ''
start_weightd "$WORK/weightd.conf"
wait_ticks 1
reloads_sent=0
while [ "$reloads_sent" -lt 25 ]; do
	reload_once
	reloads_sent=$((reloads_sent + 1))
done
[ "$(last_tick)" -eq 1 ] || fail "25 reloads within one 10m interval gave $(last_tick) ticks, not 1"
ok "25 reloads between two ticks: still 1 tick"

# A pin and a shorter interval: from the next tick, due one new interval
# after the last one (long past), not before the reload.
conf 100ms 'pin = 7;'
reload_once
wait_ticks 1
wait_for "B pinned at 7 in Redis" 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT get traefik/http/services/live/loadBalancer/servers/1/weight)\" = 7 ]"
ok "the pin applied from the next tick"

# A storm: thousands of SIGHUPs while ticks query Prometheus and write Redis.
first=$(last_tick)
(
	j=0
	while [ "$j" -lt 20000 ] && kill -HUP "$WEIGHTD_PID" 2>/dev/null; do
		j=$((j + 1))
	done
) &
storm=$!
track "$storm"
wait_ticks 20
wait "$storm" || true
untrack "$storm"
wait_ticks 2
reloads=$(count_log 'msg="config reloaded"')
[ "$reloads" -gt 100 ] || fail "only $reloads reloads: the storm did not reach weightd"
errors=$(count_log 'level=error')
[ "$errors" -eq 0 ] || fail "$errors error lines in the storm: $(grep 'level=error' "$WORK/weightd.log" | head -5)"
[ "$(b_weight)" = 7 ] || fail "B is $(b_weight) after the storm"
ok "$reloads reloads over ticks $first..$(last_tick): no write or query failed"
kill -0 "$WEIGHTD_PID" || fail "weightd died"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC"
