# fault-common.sh: shared by the fault-injection tests (sourced after common.sh).
# Starts faultprom.py and a weightd ticking every 300 ms against it with the
# file output, audit log and state file in $WORK, and offers helpers to count
# ticks and to check that the output stays the last good one.

# start_faultprom: sets FAULT_PORT; the mode lives in $WORK/mode.
start_faultprom() {
	FAULT_PORT=$(free_port)
	echo good >"$WORK/mode"
	python3 "$top_srcdir/tests/integration/faultprom.py" "$FAULT_PORT" "$WORK/mode" \
		"${FAULT_REQLOG:-}" >"$WORK/faultprom.log" 2>&1 &
	track $!
	wait_for "faultprom ready" 10 http_ok "http://127.0.0.1:$FAULT_PORT/-/ready"
}

set_mode() {
	echo "$1" >"$WORK/mode.new" && mv "$WORK/mode.new" "$WORK/mode"
}

# write_fault_config [extra prometheus keys] [output group body]
write_fault_config() {
	out_group=${2:-}
	[ -n "$out_group" ] || out_group="type = \"file\"; path = \"$WORK/out/weightd.yml\";"
	cat >"$WORK/weightd.conf" <<EOC
interval = "300ms";
listen = "${FAULT_LISTEN:-}";
audit_log = "$WORK/audit.jsonl";
state_file = "$WORK/state.json";
prometheus = { url = "http://127.0.0.1:$FAULT_PORT"; timeout = "1s"; ${1:-} };
output = { $out_group };
policy = { latency_query = "lat"; error_query = "error"; rate_query = "rate"; };
services = ( { name = "svc"; backends = (
  { name = "a:1"; url = "http://a:1"; }, { name = "b:1"; url = "http://b:1"; } ); } );
EOC
}

# The newest tick number in the audit log (0 before the first).
last_tick() {
	t=$(tail -n 1 "$WORK/audit.jsonl" 2>/dev/null | jq -r '.tick' 2>/dev/null || true)
	echo "${t:-0}"
}

ticks_past() { [ "$(last_tick)" -ge "$1" ]; }

# wait_ticks N: until N more ticks have been audited.
wait_ticks() {
	target=$(($(last_tick) + $1))
	wait_for "tick $target" 30 ticks_past "$target"
}

log_count_above() { [ "$(count_log "$1")" -gt "$2" ]; }

# wait_new_log PATTERN BEFORE: until more than BEFORE lines match PATTERN.
# Take BEFORE with count_log *before* causing the event, or a line logged
# between the cause and the count would be missed.
wait_new_log() {
	wait_for "a new log line /$1/" 30 log_count_above "$1" "$2"
}

# yaml_ok FILE: parses as YAML with integer weights summing to 100.
yaml_ok() {
	python3 - "$1" <<'EOP'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
servers = doc["http"]["services"]["svc"]["loadBalancer"]["servers"]
w = [s["weight"] for s in servers]
assert all(type(x) is int for x in w), w
assert sum(w) == 100, w
EOP
}

# start_file_weightd: weightd with the file output in $WORK/out, started on
# write_fault_config's config, once its first write is there.
start_file_weightd() {
	mkdir -p "$WORK/out"
	write_fault_config
	start_weightd "$WORK/weightd.conf"
	wait_for "the first write" 20 test -s "$WORK/out/weightd.yml"
}
