#!/bin/sh
# 120-fault-prom: Prometheus answering garbage, HTML, half a JSON document, a
# 100 MB body, "1e309", a never-ending response, HTTP 500 and connection
# resets. For each: weightd stays up, logs one clear line naming the cause,
# keeps the last good output byte for byte, and recovers when the fault goes.
. "$top_srcdir/tests/integration/common.sh"

start_fake_prom
start_file_weightd
wait_ticks 3

# fault MODE PATTERN: the fault's log line must match PATTERN.
fault() {
	mode=$1
	pattern=$2
	n=$(count_log "$pattern")
	set_prom_mode "$mode"
	wait_new_log "$pattern" "$n"
	cp "$WORK/out/weightd.yml" "$WORK/held.yml"
	wait_ticks 4
	kill -0 "$WEIGHTD_PID" || fail "$mode: weightd died"
	cmp -s "$WORK/out/weightd.yml" "$WORK/held.yml" || fail "$mode: the output changed during the fault"
	yaml_ok "$WORK/out/weightd.yml" || fail "$mode: the output does not parse"
	# Alternate the good answers so recovery shows up as a new write.
	if [ "$(cat "$WORK/last_good" 2>/dev/null)" = swap ]; then good=good; else good=swap; fi
	echo "$good" >"$WORK/last_good"
	n=$(count_log 'msg="Prometheus queries recovered"')
	set_prom_mode "$good"
	wait_new_log 'msg="Prometheus queries recovered"' "$n"
	wait_for "$mode: a new write after recovery" 30 sh -c "! cmp -s '$WORK/out/weightd.yml' '$WORK/held.yml'"
	yaml_ok "$WORK/out/weightd.yml" || fail "$mode: the output after recovery does not parse"
	ok "$mode"
}

fault garbage 'query failed.*invalid JSON at byte [0-9]+'
fault html 'query failed.*invalid JSON at byte 0: \\"<html><body><h1>502 Bad Gateway'
fault half 'query failed.*truncated JSON'
fault huge 'query failed.*response larger than prometheus.max_response_bytes \(16777216 bytes\)'
fault drip 'query failed.*no answer within prometheus.timeout \(1s\)'
fault 500 'query failed.*HTTP 500 from Prometheus: internal server error: the query engine exploded'
fault reset 'query failed.*(Connection reset|Recv failure|Empty reply)'

# Every logged line stayed one line of valid UTF-8, garbage answers included.
python3 -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' "$WORK/weightd.log" ||
	fail "the log is not valid UTF-8"

# "1e309" is +Inf: not a failed query but no data for every backend; the
# weights hold and the audit says why.
set_prom_mode e309
wait_ticks 2
cp "$WORK/out/weightd.yml" "$WORK/held.yml"
t0=$(last_tick)
wait_ticks 3
cmp -s "$WORK/out/weightd.yml" "$WORK/held.yml" || fail "e309: the output changed"
jq -e --argjson t "$t0" 'select(.tick > $t) | .action == "held" and (.reason | test("no data"))' \
	"$WORK/audit.jsonl" | grep -q true || fail "e309: no held/no data decision in the audit"
jq -e --argjson t "$t0" 'select(.tick > $t) | .action != "held"' "$WORK/audit.jsonl" | grep -q true &&
	fail "e309: a backend was steered on +Inf data"
set_prom_mode good
ok "1e309 is no data: weights held"

stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC after the faults"
ok "SIGTERM after all faults exits 0"
