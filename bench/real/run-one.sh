#!/bin/sh
# run-one.sh SCENARIO POLICY OUTDIR: one run of the real-traffic benchmark.
# Three realbackends, a real HAProxy balancing them with POLICY's algorithm
# and weights, open-loop Poisson load from openload, SCENARIO's events played
# on the backends' /control at their times, and for the weightd+ policies a
# real Prometheus (1 s scrapes of HAProxy and the backends) and weightd on
# HAProxy's runtime API. Writes OUTDIR/SCENARIO.POLICY.csv (every request),
# .summary (openload's line over the whole run) and .weights (HAProxy's
# weights each second, for the plot).
#
# Scenarios (capacity = workers / mean service time; every run 90 s):
#   hetero         100, 70 and 30 requests/s at 140/s (70 %)
#   capacity-drop  3 x 100/s at 180/s; s2 drops to 40/s (75 ms) from 30 s to 60 s
#   fast-fail      3 x 100/s at 150/s; s3 answers 60 % of requests 503 at once
#                  from 30 s to 60 s
#   recovery       3 x 100/s at 210/s; s3 starts degraded (20/s) and recovers
#                  at 30 s: the two others alone cannot carry the load
# Policies: roundrobin (equal weights), roundrobin-capacity (weights by
# nominal capacity), leastconn, weightd+roundrobin, weightd+leastconn.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/common.sh"

scenario=$1
policy=$2
out=$3
duration=${BENCH_REAL_DURATION:-90}

# Backends: NAME WORKERS SERVICE; events: "SECONDS NAME QUERY".
case $scenario in
hetero)
	backends="s1 4 40ms
s2 3 43ms
s3 1 33ms"
	capacity="50 35 15" rate=140 events="" ;;
capacity-drop)
	backends="s1 4 40ms
s2 4 40ms
s3 4 40ms"
	capacity="34 33 33" rate=180
	events="30 s2 workers=3&service=75ms
60 s2 workers=4&service=40ms" ;;
fast-fail)
	backends="s1 4 40ms
s2 4 40ms
s3 4 40ms"
	capacity="34 33 33" rate=150
	events="30 s3 fail=0.6
60 s3 fail=0" ;;
recovery)
	backends="s1 4 40ms
s2 4 40ms
s3 1 50ms"
	capacity="34 33 33" rate=210
	events="30 s3 workers=4&service=40ms" ;;
*) fail "unknown scenario $scenario" ;;
esac

case $policy in
roundrobin) balance=roundrobin weights="34 33 33" steer="" ;;
roundrobin-capacity) balance=roundrobin weights=$capacity steer="" ;;
leastconn) balance=leastconn weights="34 33 33" steer="" ;;
weightd+roundrobin) balance=roundrobin weights="34 33 33" steer=1 ;;
weightd+leastconn) balance=leastconn weights="34 33 33" steer=1 ;;
*) fail "unknown policy $policy" ;;
esac

printf '%s\n' "$backends" >"$WORK/backends"
names=""
while read -r name workers service; do
	start_realbackend "$name" "$workers" "$service"
	names="$names $name"
done <"$WORK/backends"

servers=""
set -- $weights
for n in $names; do
	eval "port=\$PORT_$n"
	servers="$servers
  server $n 127.0.0.1:$port weight $1"
	shift
done
start_haproxy "
backend app
  balance $balance$servers
"

if [ -n "$steer" ]; then
	set_realbackend_jobs $names
	start_prometheus "$HAPROXY_PROM"
	REAL_INTERVAL=2s write_real_loop_config "$WORK/weightd.conf" 10s $names
	start_weightd "$WORK/weightd.conf"
fi

run="$out/$scenario.$policy"
"$OPENLOAD" -r "$rate" -d "${duration}s" -t 10s -S 11 -o "$run.csv" "http://$HAPROXY_HTTP/work" \
	>"$run.summary" 2>"$WORK/openload.log" &
LOAD_PID=$!
track "$LOAD_PID"
# The events at their times by the wall clock, in a process of their own so
# that nothing delays them; meanwhile HAProxy's weights about once a second.
t0=$(date +%s)
(
	printf '%s\n' "$events" | while read -r at name query; do
		[ -n "$at" ] || continue
		while [ "$(date +%s)" -lt $((t0 + at)) ]; do
			sleep 0.1
		done
		control_realbackend "$name" "$query" >/dev/null
	done
) &
track $!
: >"$run.weights"
while kill -0 "$LOAD_PID" 2>/dev/null; do
	w=$(haproxy_api "show servers state app" | awk '$2 == "app" { printf " %s", $8 }')
	echo "$(($(date +%s) - t0))$w" >>"$run.weights"
	sleep 1
done
wait "$LOAD_PID" || fail "openload failed: $(cat "$WORK/openload.log")"
untrack "$LOAD_PID"
[ -z "$steer" ] || cp "$WORK/weightd.log" "$run.weightd.log"
echo "$scenario $policy: $(cat "$run.summary") weights at the end:$w"
