#!/bin/sh
# 127-reload-alloc-failure: a reload that fails at any allocation keeps the
# whole running runtime -- config, Prometheus client, output, controller
# states -- and frees what it built aside. weightd built with allocation
# failures on demand (tests/tools/weightd-fault) fails the k-th allocation of
# its k-th reload's runtime build, so successive SIGHUPs walk every allocation
# point of it until one succeeds. After each failure the old config must still
# tick and write; under ASan nothing dangles or leaks.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/fault-common.sh"
WEIGHTD=$top_builddir/tests/tools/weightd-fault
export WD_FAULT_RELOAD_ALLOC=sweep

start_backends_prometheus
mkdir "$WORK/out"

# conf [EXTRA_SERVICE]: the live service, and optionally a second one.
conf() {
	cat >"$WORK/weightd.conf.new" <<EOC
interval = "100ms";
listen = "";
audit_log = "$WORK/audit.jsonl";
state_file = "$WORK/state.json";
prometheus = { url = "$PROM_URL"; timeout = "5s"; };
output = { type = "file"; path = "$WORK/out/weightd.yml"; };
policy = { latency_query = "$LAT_QUERY"; };
services = (
$(live_service) $1 );
EOC
	mv "$WORK/weightd.conf.new" "$WORK/weightd.conf"
}

# services: the services in the output file.
services() {
	python3 -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["http"]["services"])))' \
		"$WORK/out/weightd.yml"
}

conf ''
start_weightd "$WORK/weightd.conf"
wait_for "the first write" 20 test -s "$WORK/out/weightd.yml"
wait_ticks 2
conf ', { name = "extra"; label = "instance"; policy = { total = 50; max_weight = 50; };
   backends = ( { name = "e1:80"; url = "http://e1:80"; weight = 20; },
                { name = "e2:80"; url = "http://e2:80"; weight = 30; pin = 30; } ); }'

failed=0
while :; do
	n_fail=$(count_log 'msg="config reload failed')
	n_ok=$(count_log 'msg="config reloaded"')
	kill -HUP "$WEIGHTD_PID"
	wait_for "reload $((failed + 1))" 30 sh -c \
		"[ \$(grep -Ec 'msg=\"config reload failed' '$WORK/weightd.log') -gt $n_fail ] ||
		 [ \$(grep -Ec 'msg=\"config reloaded\"' '$WORK/weightd.log') -gt $n_ok ]"
	[ "$(count_log 'msg="config reloaded"')" -gt "$n_ok" ] && break
	failed=$((failed + 1))
	[ "$failed" -lt 5000 ] || fail "5000 reloads failed: the sweep does not end"
	# The old runtime runs on: a tick with the old config writes the file.
	wait_ticks 1
	[ "$(services)" = "live" ] || fail "after the failed reload $failed the output has $(services)"
	kill -0 "$WEIGHTD_PID" || fail "weightd died at reload $failed: $(tail -n 30 "$WORK/weightd.log")"
done
[ "$failed" -ge 10 ] || fail "only $failed allocations failed: is the fault build armed?"
ok "$failed reloads failed, one at each allocation point; the old config ran on after each"

wait_ticks 2
[ "$(services)" = "extra live" ] || fail "after the successful reload the output has $(services)"
tick=$(last_tick)
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC: $(tail -n 40 "$WORK/weightd.log")"
log_has 'AddressSanitizer|LeakSanitizer|runtime error' && fail "sanitizer report: $(grep -A20 -E 'Sanitizer|runtime error' "$WORK/weightd.log" | head -40)"
ok "the reload that allocated everything took effect (tick $tick); clean exit"
