#!/bin/sh
# 125-output-lost: what weightd wrote disappears while the weights hold
# (freeze = true, so no weight ever changes): the output file removed or
# edited by hand, Redis flushed, Redis restarted empty, Redis down for a few
# ticks. weightd must notice on its own, say so in one log line, and put the
# same weights back byte for byte, without a weight change to prompt it.
. "$top_srcdir/tests/integration/common.sh"

start_fake_prom
mkdir -p "$WORK/out"
# after PATTERN COMMAND...: runs COMMAND, then waits for one more log line
# matching PATTERN than before it (counted first: the next tick may be quick).
after() {
	pat=$1
	shift
	n0=$(count_log "$pat")
	"$@"
	wait_for "a new log line /$pat/" 20 log_count_above "$pat" "$n0"
}
freeze() { sed -i 's/name = "svc";/name = "svc"; freeze = true;/' "$WORK/weightd.conf"; }

# --- file ---------------------------------------------------------------------
write_fault_config
freeze
start_weightd "$WORK/weightd.conf"
wait_for "the first write" 20 test -s "$WORK/out/weightd.yml"
wait_ticks 2
cp "$WORK/out/weightd.yml" "$WORK/good.yml"

after 'msg="the output file was removed or changed outside weightd; writing it again"' \
	rm "$WORK/out/weightd.yml"
wait_for "the file back" 10 test -s "$WORK/out/weightd.yml"
cmp -s "$WORK/out/weightd.yml" "$WORK/good.yml" || fail "the restored file differs from the last good one"
ok "output file removed: written again, byte for byte"

printf 'http: {}\n' >"$WORK/edited.yml"

after 'msg="the output file was removed or changed outside weightd' \
	cp "$WORK/edited.yml" "$WORK/out/weightd.yml"
wait_for "the edited file replaced" 10 cmp -s "$WORK/out/weightd.yml" "$WORK/good.yml"
yaml_ok "$WORK/out/weightd.yml" || fail "the restored file does not parse"
ok "output file edited: put back"

# Held and intact: nothing is rewritten (the file keeps its inode).
ino=$(stat -c %i "$WORK/out/weightd.yml")
warns=$(count_log 'removed or changed outside weightd')
wait_ticks 4
[ "$(stat -c %i "$WORK/out/weightd.yml")" = "$ino" ] || fail "an unchanged file was rewritten"
[ "$(count_log 'removed or changed outside weightd')" -eq "$warns" ] || fail "a warning without a cause"
kill -0 "$WEIGHTD_PID" || fail "weightd died"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC (file)"
ok "an intact file is left alone"

# --- Redis --------------------------------------------------------------------
start_redis
write_fault_config "" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; timeout = \"300ms\";"
freeze
key=traefik/http/services/svc/loadBalancer/servers
R() { redis-cli -p "$REDIS_PORT" "$@"; }
snapshot() { R --scan --pattern 'traefik/*' | sort | while read -r k; do echo "$k=$(R GET "$k")"; done; }
matches_good() { [ "$(snapshot)" = "$(cat "$WORK/good.kv")" ]; }
: >"$WORK/weightd.log"
start_weightd "$WORK/weightd.conf"
wait_for "weightd's first Redis write" 20 sh -c "[ -n \"\$(redis-cli -p $REDIS_PORT GET $key/1/weight)\" ]"
wait_ticks 2
snapshot >"$WORK/good.kv"
[ "$(wc -l <"$WORK/good.kv")" -ge 4 ] || fail "too few keys: $(cat "$WORK/good.kv")"

after "msg=\"weightd's keys are gone from Redis" R FLUSHALL
wait_for "the keys back after FLUSHALL" 10 matches_good
ok "Redis flushed: the same keys written again"

stop_redis
start_redis
wait_log 'msg="Redis restarted since weightd last wrote' 20
wait_for "the keys back after a restart" 10 matches_good
ok "Redis restarted empty between two ticks: the same keys written again"

# (Counted before the fault: weightd may log before the next command runs.)
failed='msg="output write failed.*output=redis.*cannot connect to Redis'
recovered='msg="output write recovered" output=redis'
n=$(count_log "$recovered")
# (A tick may have caught the restart above between its stop and its start:
# only the failure lines of this outage count.)
f=$(count_log 'msg="output write failed')
after "$failed" stop_redis
wait_ticks 3
[ "$(count_log 'msg="output write failed')" -eq $((f + 1)) ] || fail "the failure was logged more than once"
start_redis
wait_for "a recovery line" 10 log_count_above "$recovered" "$n"
wait_for "the keys back after Redis was down" 10 matches_good
ok "Redis down for a few ticks: one failure line, recovered, keys back"

# Held and intact: no transaction (the marker check is a read).
R CONFIG RESETSTAT >/dev/null
wait_ticks 4
calls=$(R INFO commandstats | grep -Ec '^cmdstat_(exec|mset|multi):' || true)
[ "$calls" -eq 0 ] || fail "unchanged weights were written again: $(R INFO commandstats | grep -E 'exec|mset')"
kill -0 "$WEIGHTD_PID" || fail "weightd died"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC (redis)"
ok "intact keys are left alone"
