#!/bin/sh
# 122-fault-redis: Redis blocking mid-transaction (DEBUG SLEEP past weightd's
# command timeout) and weightd's connection killed (CLIENT KILL) while weights
# keep moving. A reader never sees a service whose weights do not sum to the
# total, weightd logs the failure once and the recovery once, and writes
# again on the next tick.
. "$top_srcdir/tests/integration/common.sh"

start_redis --enable-debug-command yes
start_fake_prom
write_fault_config "" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; timeout = \"300ms\";"
start_weightd "$WORK/weightd.conf"

key=traefik/http/services/svc/loadBalancer/servers
weights() { redis-cli -p "$REDIS_PORT" MGET "$key/0/weight" "$key/1/weight" | tr '\n' ' '; }
consistent() {
	set -- $(weights)
	[ "$#" -eq 2 ] && [ $(($1 + $2)) -eq 100 ]
}
wait_for "weightd's first Redis write" 20 consistent

flip() {
	if [ "$(cat "$WORK/mode")" = good ]; then set_prom_mode swap; else set_prom_mode good; fi
}

# Blocks Redis for 1 s, five times, while weightd writes every 300 ms.
for i in 1 2 3 4 5; do
	flip
	redis-cli -p "$REDIS_PORT" DEBUG SLEEP 1 >/dev/null
	consistent || fail "after DEBUG SLEEP $i the weights read $(weights)"
	wait_ticks 2
done
log_has 'msg="output write failed.*output=redis' || fail "no output failure logged for a blocked Redis"
wait_log 'msg="output write recovered" output=redis' 20
ok "Redis blocked mid-transaction: failures logged, weights never torn, recovered"

# Kills weightd's connection between and during writes.
failures=$(count_log 'msg="output write failed')
for i in 1 2 3 4 5 6 7 8 9 10; do
	flip
	redis-cli -p "$REDIS_PORT" CLIENT KILL TYPE normal SKIPME yes >/dev/null
	consistent || fail "after CLIENT KILL $i the weights read $(weights)"
	wait_ticks 1
done
flip
wait_ticks 3
consistent || fail "after the kills the weights read $(weights)"
kill -0 "$WEIGHTD_PID" || fail "weightd died"
[ "$(count_log 'level=(error|warn)')" -lt 40 ] || fail "the failures were logged every tick, not once per change"
ok "connection killed 10 times: weights consistent, weightd up ($(($(count_log 'msg="output write failed') - failures)) failure lines)"

# Writes go on: the weights follow the next flips.
before=$(weights)
flip
wait_for "a write after the kills" 20 sh -c "[ \"\$(redis-cli -p $REDIS_PORT MGET $key/0/weight $key/1/weight | tr '\n' ' ')\" != \"$before\" ]"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC"
ok "writes resume"
