#!/bin/sh
# 133-realload-tools: the benchmark's own tools, so their numbers can be
# trusted. openload accounts for every request (its summary, its CSV rows and
# the backend's own counters agree) and, being open-loop, shows the queue a
# slow server builds instead of hiding it; realbackend's /control changes its
# behaviour at once (fail fast with 503, slow down), refuses bad input whole,
# and its histogram counts what it answered. Both refuse a bad number on
# their command line with one line naming it.
. "$top_srcdir/tests/integration/common.sh"

# field NAME SUMMARY-LINE
field() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
metric() {
	curl -fsS "http://127.0.0.1:$PORT_b/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

start_realbackend b 4 5ms "-d const"
sum=$("$OPENLOAD" -r 50 -d 2s -t 5s -S 1 -o "$WORK/a.csv" "http://127.0.0.1:$PORT_b/x")
sent=$(field sent "$sum")
[ "$sent" -gt 0 ] || fail "nothing sent: $sum"
[ "$(field ok "$sum")" = "$sent" ] || fail "not every request ok: $sum"
[ $(($(wc -l <"$WORK/a.csv") - 1)) = "$sent" ] || fail "CSV rows differ from sent: $sum"
[ "$(metric 'realbackend_requests_total{code="200"}')" = "$sent" ] || fail "backend answered $(metric 'realbackend_requests_total{code="200"}') of $sent"
[ "$(metric realbackend_request_duration_seconds_count)" = "$sent" ] || fail "histogram count"
[ "$("$OPENLOAD" -s "$WORK/a.csv")" = "$sum" ] || fail "summarising the CSV gives another line"
ok "every request accounted for: $sum"

# Fail fast: every answer a 503, counted as an error, none reaching a worker.
[ "$(control_realbackend b 'fail=1')" = "workers=4 service_s=0.005 dist=const fail=1" ] || fail "control fail=1"
sum=$("$OPENLOAD" -r 50 -d 1s -t 5s -S 2 -o "$WORK/f.csv" "http://127.0.0.1:$PORT_b/x")
[ "$(field error "$sum")" = "$(field sent "$sum")" ] || fail "fail=1 but not every request an error: $sum"
[ "$(awk -F, 'NR > 1 && $3 != 503' "$WORK/f.csv" | wc -l)" = 0 ] || fail "an answer other than 503"
[ "$(metric 'realbackend_requests_total{code="503"}')" = "$(field sent "$sum")" ] || fail "503 counter"
ok "fail=1: every request 503"

# Bad control input changes nothing.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_b/control?workers=0&fail=0")
[ "$code" = 400 ] || fail "workers=0 answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_b/control?service=fast")
[ "$code" = 400 ] || fail "service=fast answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_b/control?fail=most")
[ "$code" = 400 ] || fail "fail=most answered $code"
[ "$(metric realbackend_fail_share)" = 1 ] || fail "a refused control changed fail"
ok "bad /control input refused whole"

# A bad number on a command line: exit status 2 and one line naming it.
rc=0
"$OPENLOAD" -s "$WORK/a.csv" -a soon >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
[ "$rc" = 2 ] && [ ! -s "$WORK/bad.out" ] || fail "openload -a soon: exit $rc, printed $(cat "$WORK/bad.out")"
[ "$(cat "$WORK/bad.err")" = "openload: -a soon: want a number" ] || fail "openload -a soon said: $(cat "$WORK/bad.err")"
rc=0
"$REALBACKEND" -l 127.0.0.1:1 -f 1.5 2>"$WORK/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "realbackend -f 1.5: exit $rc"
[ "$(cat "$WORK/bad.err")" = "realbackend: -f 1.5: want a number from 0 to 1" ] || fail "realbackend -f 1.5 said: $(cat "$WORK/bad.err")"
ok "bad numbers on the command lines refused with one line"

# Open loop: one worker of 200 ms against 20 requests a second builds a queue,
# and the latency measured from each request's intended send time shows it.
control_realbackend b 'fail=0&workers=1&service=200ms' >/dev/null
sum=$("$OPENLOAD" -r 20 -d 2s -t 30s -S 3 "http://127.0.0.1:$PORT_b/x")
[ "$(field ok "$sum")" = "$(field sent "$sum")" ] || fail "slow run: $sum"
awk -v p="$(field p99_s "$sum")" 'BEGIN { exit !(p > 1.0) }' || fail "queue hidden: $sum"
ok "a 200 ms server at twice its capacity: $sum"

# Timeouts are their own outcome, counted at the timeout.
sum=$("$OPENLOAD" -r 10 -d 1s -t 100ms -S 4 -o "$WORK/t.csv" "http://127.0.0.1:$PORT_b/x")
[ "$(field timeout "$sum")" -gt 0 ] || fail "no timeout: $sum"
[ "$(awk -F, '$4 == "timeout" && $2 != "0.100000"' "$WORK/t.csv" | wc -l)" = 0 ] || fail "a timeout not counted at 100 ms"
ok "timeouts: $sum"
