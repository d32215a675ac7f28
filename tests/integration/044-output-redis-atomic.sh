#!/bin/sh
# 044-output-redis-atomic: a reader doing SCAN+MGET in a loop (as Traefik
# does) during 1000 writes never sees two ticks' weights mixed; an aborted
# transaction (EXECABORT) and a Redis restart fail the write with a clear
# one-line error and change nothing, and the next write recovers.
. "$top_srcdir/tests/integration/common.sh"

start_redis --notify-keyspace-events KEA
R="redis-cli -p $REDIS_PORT"
write_output_config "$WORK/c.conf" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\";"
# Every weight of one tick is the same number, so a read that sees two
# different numbers has mixed two ticks.
[ "$(run_outdrv "$WORK/c.conf" 'write app=5,5,5 canary=5,5')" = written ] || fail "first write"

$CHECK scanmget "$REDIS_PORT" 'traefik/*' "$WORK/reader.ready" "$WORK/stop" >"$WORK/reader.out" 2>"$WORK/reader.log" &
READER=$!
track "$READER"
wait_for "the reader" 10 test -f "$WORK/reader.ready"
r=$(run_outdrv "$WORK/c.conf" 'loop 1000')
[ "$r" = "loop written=1000 unchanged=0 failed=0" ] || fail "writes: $r"
touch "$WORK/stop"
wait "$READER" || fail "reader: $(cat "$WORK/reader.log")"
untrack "$READER"
ticks=$(sed -n 's/.*ticks=\([0-9]*\).*/\1/p' "$WORK/reader.out")
[ "${ticks:-0}" -ge 2 ] || fail "the reader saw ${ticks:-0} ticks: it did not race the writer"
ok "SCAN+MGET reader: $(cat "$WORK/reader.out"), never two ticks mixed"

# The reader does catch a mix.
$R set traefik/http/services/app/loadBalancer/servers/0/weight 77 >/dev/null
rm -f "$WORK/stop"
timeout 10 $CHECK scanmget "$REDIS_PORT" 'traefik/*' "$WORK/reader.ready" "$WORK/stop" >/dev/null 2>"$WORK/reader.log" || true
grep -q "read 1 mixes ticks" "$WORK/reader.log" || fail "the reader missed mixed weights"
ok "the reader catches mixed weights"

start_outdrv "$WORK/c.conf"
send_outdrv 'write app=40,40,20'
[ "$REPLY" = written ] || fail "write: $REPLY"

# EXECABORT: no memory for the MSET; the transaction is refused whole.
$R config set maxmemory-policy noeviction >/dev/null
$R config set maxmemory 1 >/dev/null
send_outdrv 'write app=60,30,10'
case $REPLY in "error: Redis 127.0.0.1:$REDIS_PORT: transaction aborted, nothing written: EXECABORT"*"OOM"*) ;;
	*) fail "EXECABORT: $REPLY" ;; esac
[ "$($R get traefik/http/services/app/loadBalancer/servers/0/weight)" = 40 ] || fail "aborted write changed a key"
ok "$REPLY"
$R config set maxmemory 0 >/dev/null
send_outdrv 'write app=60,30,10'
[ "$REPLY" = written ] || fail "after EXECABORT: $REPLY"
[ "$($R get traefik/http/services/app/loadBalancer/servers/0/weight)" = 60 ] || fail "recovery write"
ok "the next write succeeds"

# Redis restarted (empty, no persistence) between two writes.
stop_redis
send_outdrv 'write app=50,25,25'
case $REPLY in "error: Redis 127.0.0.1:$REDIS_PORT: transaction failed: "*|"error: Redis 127.0.0.1:$REDIS_PORT: SCAN: "*|"error: cannot connect to Redis at 127.0.0.1:$REDIS_PORT: "*) ;;
	*) fail "Redis down: $REPLY" ;; esac
[ "$(echo "$REPLY" | wc -l)" -eq 1 ] || fail "not one line"
ok "Redis down: $REPLY"
send_outdrv 'write app=50,25,25'
case $REPLY in "error: cannot connect to Redis at 127.0.0.1:$REDIS_PORT: Connection refused") ;;
	*) fail "Redis still down: $REPLY" ;; esac
start_redis --notify-keyspace-events KEA
send_outdrv 'write app=50,25,25'
[ "$REPLY" = written ] || fail "after the restart: $REPLY"
[ "$($R get traefik/http/services/app/loadBalancer/servers/2/weight)" = 25 ] || fail "keys after the restart"
[ "$($R get traefik/http/services/canary/weighted/services/0/name)" = app-v1@file ] || fail "canary after restart"
stop_outdrv
grep -q 'level=warn msg="Redis restarted since weightd last wrote.*traefik#6832' "$WORK/outdrv.log" ||
	fail "the restart is not visible in the log: $(cat "$WORK/outdrv.log")"
[ "$(grep -c 'msg="connected to Redis"' "$WORK/outdrv.log")" -ge 4 ] || fail "reconnections not logged"
ok "Redis restart: the next write reconnects and rewrites everything; the restart is logged"
