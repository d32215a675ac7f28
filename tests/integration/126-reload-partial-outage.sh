#!/bin/sh
# 126-reload-partial-outage: a SIGHUP that changes a service's total, bounds
# and pins while that service's queries fail (and another service's answer,
# so weightd still writes). The file written on the next ticks must already
# be valid for the new config -- weights summing to the new total, within the
# new bounds, the pin applied -- not the old weights carried over (which were
# above the new total), and the answering service goes on being steered.
. "$top_srcdir/tests/integration/common.sh"

start_fake_prom
mkdir -p "$WORK/out"
# conf TOTAL MAX PIN: the service "down" with that total, max_weight and pin
# on b:1 (-1: none); "svc" unchanged.
conf() {
	pin=""
	[ "$3" -ge 0 ] && pin="pin = $3;"
	cat >"$WORK/weightd.conf.new" <<EOC
interval = "300ms";
audit_log = "$WORK/audit.jsonl";
prometheus = { url = "$FAKE_PROM_URL"; timeout = "1s"; };
output = { type = "file"; path = "$WORK/out/weightd.yml"; };
policy = { latency_query = "lat \${service}"; error_query = "error \${service}";
  rate_query = "rate \${service}"; };
services = (
 { name = "svc"; backends = ( { name = "a:1"; url = "http://a:1"; }, { name = "b:1"; url = "http://b:1"; } ); },
 { name = "down"; policy = { total = $1; max_weight = $2; };
   backends = ( { name = "a:1"; url = "http://a:1"; weight = 5; }, { name = "b:1"; url = "http://b:1"; weight = 5; $pin } ); } );
EOC
	mv "$WORK/weightd.conf.new" "$WORK/weightd.conf"
}

# weights SERVICE: its weights in the output, space-separated.
weights() { file_weights "$WORK/out/weightd.yml" "$1"; }

conf 100 100 -1
start_weightd "$WORK/weightd.conf"
wait_for "the first write" 20 test -s "$WORK/out/weightd.yml"
# Steered apart (a:1 answers faster), so the old weights are not a valid
# answer for the new config by accident.
wait_for "down's weights steered" 30 sh -c "[ \"\$(python3 -c 'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); print(d[\"http\"][\"services\"][\"down\"][\"loadBalancer\"][\"servers\"][0][\"weight\"])' '$WORK/out/weightd.yml')\" -ge 60 ]"
set -- $(weights down)
old_a=$1
ok "down steered to $(weights down) with total 100"

set_prom_mode partial
wait_log 'Prometheus query failed.*service=down' 20
set -- $(weights svc)
[ $(($1 + $2)) -eq 100 ] || fail "svc: $(weights svc)"

# Total 10, max 8: the old weights ($old_a and the rest) break both.
conf 10 8 -1
n=$(count_log 'msg="config reloaded"')
kill -HUP "$WEIGHTD_PID"
wait_for "the reload" 10 log_count_above 'msg="config reloaded"' "$n"
wait_ticks 3
set -- $(weights down)
[ $(($1 + $2)) -eq 10 ] && [ "$1" -le 8 ] && [ "$2" -le 8 ] ||
	fail "after a reload to total 10, max 8 during the outage, down has weights $*"
ok "total and bounds changed during the service's outage: written as $1 $2"

# A pin during the outage: applied at once, the rest to the other backend.
conf 10 10 3
n=$(count_log 'msg="config reloaded"')
kill -HUP "$WEIGHTD_PID"
wait_for "the reload" 10 log_count_above 'msg="config reloaded"' "$n"
wait_ticks 3
[ "$(weights down)" = "7 3" ] || fail "pin 3 of 10 during the outage: down has $(weights down)"
ok "pin set during the service's outage: written as $(weights down)"

# svc is still steered meanwhile: swap its latencies, its weights follow.
before=$(weights svc)
set_prom_mode swap
wait_for "svc steered after the swap" 30 sh -c "[ \"\$(python3 -c 'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); print(d[\"http\"][\"services\"][\"svc\"][\"loadBalancer\"][\"servers\"][1][\"weight\"])' '$WORK/out/weightd.yml')\" -ge 50 ]"
ok "svc steered on: $before -> $(weights svc)"
kill -0 "$WEIGHTD_PID" || fail "weightd died"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC"
