#!/bin/sh
# 127-reload-alloc-failure: running out of memory in a reload. weightd's
# policy for it is stated once (src/util.c): log one line and abort, never
# go on with a half-built runtime. weightd built with allocation failures on
# demand (tests/tools/weightd-fault) fails the K-th allocation of its first
# reload's runtime build; for K = 1, 2, 3, 5, 8, ... until a reload allocates
# fewer and succeeds, weightd must log "out of memory (N bytes); aborting",
# end by SIGABRT (not a crash, not a hang), and leave what it wrote whole: the
# output holds the old config's services and the state file parses. A restart
# continues from the state file. The reload that allocates everything takes
# effect and the exit is ASan/UBSan clean.
. "$top_srcdir/tests/integration/common.sh"
WEIGHTD=$top_builddir/tests/tools/weightd-fault

start_backends_prometheus
mkdir "$WORK/out"

# conf [EXTRA_SERVICE]: the live service, and optionally a second one.
conf() {
	WD_STATE_FILE=$WORK/state.json write_live_config "$WORK/weightd.conf" 100ms \
		"type = \"file\"; path = \"$WORK/out/weightd.yml\";" <<EOS
$(live_service) $1
EOS
}

# services: the services in the output file.
services() {
	python3 -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["http"]["services"])))' \
		"$WORK/out/weightd.yml"
}

EXTRA=', { name = "extra"; label = "instance"; policy = { total = 50; max_weight = 50; };
   backends = ( { name = "e1:80"; url = "http://e1:80"; weight = 20; },
                { name = "e2:80"; url = "http://e2:80"; weight = 30; pin = 30; } ); }'

reloaded() { [ "$(count_log 'msg="config reloaded"')" -gt "$1" ]; }

aborted=0
for k in 1 2 3 5 8 13 21 34 55 89 144 233 377; do
	conf ''
	export WD_FAULT_RELOAD_ALLOC=$k
	start_weightd "$WORK/weightd.conf"
	unset WD_FAULT_RELOAD_ALLOC
	wait_for "the first write" 20 test -s "$WORK/out/weightd.yml"
	wait_ticks 2
	conf "$EXTRA"
	n_oom=$(count_log 'level=error msg="out of memory \([0-9]+ bytes\); aborting"')
	n_ok=$(count_log 'msg="config reloaded"')
	kill -HUP "$WEIGHTD_PID"
	wait_for "reload with allocation $k failing" 30 sh -c \
		"! kill -0 $WEIGHTD_PID 2>/dev/null || [ \$(grep -c 'msg=\"config reloaded\"' '$WORK/weightd.log') -gt $n_ok ]"
	reloaded "$n_ok" && break
	rc=0
	wait "$WEIGHTD_PID" || rc=$?
	untrack "$WEIGHTD_PID"
	[ "$rc" -eq 134 ] || fail "allocation $k: exit status $rc, not SIGABRT: $(tail -n 30 "$WORK/weightd.log")"
	[ "$(count_log 'level=error msg="out of memory \([0-9]+ bytes\); aborting"')" -eq $((n_oom + 1)) ] ||
		fail "allocation $k: no one out-of-memory line: $(tail -n 30 "$WORK/weightd.log")"
	[ "$(services)" = "live" ] || fail "allocation $k: the output has $(services)"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/state.json" ||
		fail "allocation $k: the state file does not parse"
	aborted=$((aborted + 1))
	if [ "$aborted" -eq 1 ]; then
		# A restart (no fault) continues from the state file.
		conf ''
		n=$(count_log 'msg="controller state restored"')
		start_weightd "$WORK/weightd.conf"
		wait_ticks 2
		[ "$(count_log 'msg="controller state restored"')" -gt "$n" ] || fail "the restart restored nothing"
		stop_weightd
		[ "$WEIGHTD_RC" -eq 0 ] || fail "the restart exited $WEIGHTD_RC"
	fi
done
reloaded "$n_ok" || fail "no reload succeeded up to allocation $k"
[ "$aborted" -ge 3 ] || fail "only $aborted reloads failed: is the fault build armed?"
ok "$aborted reloads aborted on their failed allocation (one log line, SIGABRT, output and state whole); a restart resumed from the state"

wait_ticks 2
[ "$(services)" = "extra live" ] || fail "after the successful reload the output has $(services)"
tick=$(last_tick)
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC: $(tail -n 40 "$WORK/weightd.log")"
log_has 'AddressSanitizer|LeakSanitizer|runtime error' && fail "sanitizer report: $(grep -A20 -E 'Sanitizer|runtime error' "$WORK/weightd.log" | head -40)"
ok "the reload that allocated everything took effect (tick $tick, allocation $k not reached); clean exit"
