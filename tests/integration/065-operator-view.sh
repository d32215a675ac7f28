#!/bin/sh
# 065-operator-view: what an operator sees at the default log level, against
# a real Prometheus. Every applied change is one info line per service with
# its old and new weights and the reason; GET /status serves the weights,
# actions and reasons, the last tick and the reload state as JSON; the dry
# run prints on stdout the diff of what it would write against the file, and
# that diff, applied with patch, gives the file a real run then writes; a dry
# run prints its diff when it changes, not every tick. An ejection is one
# line with its cause, and the ticks that hold the weights after it none.
. "$top_srcdir/tests/integration/common.sh"

set_values "app a 0.1 0" "app b 0.3 0"
start_exporter_prometheus
WD_PORT=$(free_port)
svc() {
	echo "{ name = \"app\"; label = \"backend\";${1:-} backends = (
    { name = \"a\"; url = \"http://a\"; }, { name = \"b\"; url = \"http://b\"; } ); }"
}
write_obs_config "$WORK/weightd.conf" "$(svc)"
status() {
	curl -fsS --max-time 5 "http://127.0.0.1:$WD_PORT/status"
}

# --- the change lines and /status of a real run ---------------------------
start_weightd "$WORK/weightd.conf"
changes() {
	[ -s "$WORK/audit.log" ] &&
		jq -s -e '[.[] | select(.old != .new) | .tick] | unique | length >= 3' "$WORK/audit.log" >/dev/null
}
wait_for "three ticks that change the weights" 30 changes
status >"$WORK/status.json" || fail "GET /status"
jq -e --arg cfg "$WORK/weightd.conf" '
	.dry_run == false and .config.path == $cfg and .config.last_reload_successful == true and
	.config.last_reload_time == null and .last_tick.result == "ok" and .last_tick.number >= 3 and
	(.last_tick.time | test("^[0-9-]{10}T[0-9:.]{12}Z$")) and
	(.services | length) == 1 and .services[0].name == "app" and .services[0].frozen == false and
	.services[0].weights.a + .services[0].weights.b == 100 and .services[0].weights.a > .services[0].weights.b and
	([.services[0].backends[] | .name] == ["a", "b"]) and
	all(.services[0].backends[]; (.action | IN("applied", "held")) and (.reason | length > 0) and
		.latency_s > 0 and .error_ratio == 0)' "$WORK/status.json" >/dev/null ||
	fail "/status: $(cat "$WORK/status.json")"
ok "/status: valid JSON with the weights, actions, reasons, last tick and config"

# A broken config: the reload fails, and /status says so.
cp "$WORK/weightd.conf" "$WORK/good.conf"
echo 'interval = ;' >>"$WORK/weightd.conf"
kill -HUP "$WEIGHTD_PID"
reload_failed() {
	status | jq_true '.config.last_reload_successful == false and .config.last_reload_time > 0'
}
wait_for "/status to show the failed reload" 10 reload_failed
mv "$WORK/good.conf" "$WORK/weightd.conf"
ok "/status: a failed reload shows"

# b starts failing 90% of its requests: ejected, one line says so.
set_values "app a 0.1 0" "app b 0.3 0.9"
wait_log 'msg="weights changed" service=app .*reason="b ejected: error ratio 0.9 >= 0.5"' 20
ejected_at=$(wc -l <"$WORK/weightd.log")
status | jq_true '.services[0].backends[1].action == "ejected" and .services[0].backends[1].error_ratio == 0.9' ||
	fail "/status does not show b ejected: $(status)"
t=$(status | jq .last_tick.number)
ticks_after() {
	status | jq_true --argjson t "$1" '.last_tick.number >= $t + 3'
}
wait_for "three more ticks" 20 ticks_after "$t"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
[ "$(count_log 'msg="weights changed".*ejected')" -eq 1 ] ||
	fail "want one line for the ejection: $(grep 'weights changed' "$WORK/weightd.log" | tail -n 3)"
tail -n +"$((ejected_at + 1))" "$WORK/weightd.log" | grep -q 'weights changed' &&
	fail "weights held after the ejection, yet a change line: $(tail -n 3 "$WORK/weightd.log")"
ok "info: the ejection is one change line with its cause, the ticks after it none"

# One line per tick that changed a weight, none for the others; each names b
# and why (latency: the slower; its ejection; or its probe back after a thin
# signal), and its weights are the audit's.
want=$(jq -s '[.[] | select(.old != .new) | .tick] | unique | length' "$WORK/audit.log")
got=$(count_log 'level=info msg="weights changed" service=app ')
[ "$got" -eq "$want" ] || fail "$got change lines for $want ticks that changed a weight"
[ "$(count_log 'msg="weights changed" service=app weights="a=[0-9]+->[0-9]+ b=[0-9]+->[0-9]+" reason="b (latency [0-9.]+x the pool \(0.3s\)|ejected: error ratio 0.9 >= 0.5|probing: [^"]+)"$')" -eq "$got" ] ||
	fail "a change line without the reason: $(grep 'weights changed' "$WORK/weightd.log" | head -3)"
last_tick=$(jq -s '[.[] | select(.old != .new) | .tick] | max' "$WORK/audit.log")
audit_w=$(jq -s -r --argjson t "$last_tick" \
	'[.[] | select(.tick == $t) | "\(.backend)=\(.old)->\(.new)"] | join(" ")' "$WORK/audit.log")
grep 'msg="weights changed"' "$WORK/weightd.log" | tail -n 1 | grep -qF "weights=\"$audit_w\"" ||
	fail "the last change line's weights are not the audit's ($audit_w)"
ok "info: $got change lines for $want changing ticks, each with the weights and the reason"

# --- the dry run's diff is what a real run then writes -----------------------
cp "$WORK/out.yml" "$WORK/before.yml"
set_values "app a 0.3 0" "app b 0.1 0"
b_fast() {
	[ "$(prom_query 'obs_latency_seconds{backend="b"}' | jq -r '.data.result[0].value[1]')" = 0.1 ]
}
wait_for "Prometheus to see b fast" 20 b_fast
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run >"$WORK/dry.out" 2>>"$WORK/weightd.log" ||
	fail "weightd --once --dry-run failed"
sed -n '/^--- /,$p' "$WORK/dry.out" >"$WORK/dry.diff"
cmp -s "$WORK/out.yml" "$WORK/before.yml" || fail "the dry run changed the file"
grep -q '^-          weight: ' "$WORK/dry.diff" || fail "the diff removes no weight: $(cat "$WORK/dry.out")"
grep -q '^+          weight: ' "$WORK/dry.diff" || fail "the diff adds no weight"
cp "$WORK/before.yml" "$WORK/patched.yml"
patch -s "$WORK/patched.yml" <"$WORK/dry.diff" || fail "the diff does not apply"
"$WEIGHTD" -c "$WORK/weightd.conf" --once 2>>"$WORK/weightd.log" >/dev/null || fail "weightd --once failed"
cmp "$WORK/patched.yml" "$WORK/out.yml" || fail "the dry run's diff is not what the real run wrote"
ok "dry run: the diff on stdout, applied, is the file a real run writes"

# --- a dry-run daemon prints its diff when it changes, not every tick -------
write_obs_config "$WORK/weightd.conf" "$(svc ' freeze = true;')"
: >"$WORK/weightd.out"
: >"$WORK/weightd.log"
start_weightd "$WORK/weightd.conf" --dry-run
ticks() {
	status | jq_true '.last_tick.number >= 4'
}
wait_for "four dry-run ticks" 20 ticks
status | jq_true '.dry_run == true and all(.services[0].backends[]; .action == "frozen")' ||
	fail "/status in the dry run: $(status)"
stop_weightd
[ "$(grep -c '^--- ' "$WORK/weightd.out")" -eq 1 ] ||
	fail "want one diff for weights that never change: $(grep -c '^--- ' "$WORK/weightd.out")"
[ "$(count_log 'weights changed')" -eq 0 ] || fail "a frozen service logged a change"
ok "dry-run daemon: one diff over four ticks of unchanged weights"
