# sim-common.sh: helpers for the tests that run weightd-sim (sourced after
# common.sh, POSIX sh).
SIM="$top_builddir/weightd-sim"

# start_sim SCENARIO [args...]: runs weightd-sim on a free port with its ground
# truth in $WORK/truth.csv and its log in $WORK/sim.log; waits for /metrics.
# Sets SIM_PORT, SIM_PID.
start_sim() {
	scn=$1
	shift
	SIM_PORT=$(free_port)
	"$SIM" -s "$scn" -l "127.0.0.1:$SIM_PORT" --poll 100ms -o "$WORK/truth.csv" "$@" \
		>"$WORK/sim.out" 2>>"$WORK/sim.log" &
	SIM_PID=$!
	track "$SIM_PID"
	wait_for "weightd-sim /metrics" 10 http_ok "http://127.0.0.1:$SIM_PORT/metrics"
}

# stop_sim: SIGTERM; fails the test unless weightd-sim exits 0.
stop_sim() {
	kill -TERM "$SIM_PID"
	wait "$SIM_PID" || fail "weightd-sim exit status $? on SIGTERM"
	untrack "$SIM_PID"
}

# share BACKEND: its traffic share in the newest interval of the ground truth.
share() {
	grep ",$1," "$WORK/truth.csv" | tail -n 1 | cut -d, -f6
}

# share_is BACKEND MIN MAX: the newest share lies in [MIN, MAX].
share_is() {
	awk -v s="$(share "$1")" -v lo="$2" -v hi="$3" 'BEGIN { exit !(s >= lo && s <= hi) }'
}

# truth_rows: lines in the ground truth so far.
truth_rows() {
	wc -l <"$WORK/truth.csv"
}

# wait_truth_rows N TIMEOUT: until the ground truth has N more lines than now.
wait_truth_rows() {
	want=$(($(truth_rows) + $1))
	wait_for "$1 more ground-truth rows" "$2" sh -c "[ \$(wc -l <'$WORK/truth.csv') -ge $want ]"
}

# ---- the whole loop: weightd-sim -> Prometheus -> weightd -> weightd-sim ----

# loop_conf OUTPUT BACKENDS [SERVICE_KEYS] [TOP_KEYS]: writes $WORK/weightd.conf
# for the service medical-imaging (kind servers, 1 s ticks, 5 s rate windows)
# reading $PROM_URL. OUTPUT is the output group's body; BACKENDS is a list of
# NAME=WEIGHT (url http://NAME). With LOOP_METRICS=traefik the service has no
# query of its own: metrics = "traefik" with a 5 s window.
loop_conf() {
	signals='label = "instance";
    latency_query = "histogram_quantile(0.95, sum by (le, instance) (rate(model_inference_duration_seconds_bucket[5s])))";
    error_query   = "sum by (instance) (rate(http_requests_total{code=~\"5..\"}[5s])) / sum by (instance) (rate(http_requests_total[5s]))";
    rate_query    = "sum by (instance) (rate(http_requests_total[5s]))";'
	[ "${LOOP_METRICS:-custom}" = traefik ] && signals='metrics = "traefik"; window = "5s";'

	bl=""
	for bw in $2; do
		bl="$bl${bl:+,
}      { name = \"${bw%=*}\"; url = \"http://${bw%=*}\"; weight = ${bw#*=}; }"
	done
	cat >"$WORK/weightd.conf" <<EOC
interval   = "1s";
listen     = "";
state_file = "";
audit_log  = "$WORK/audit.jsonl";
${4:-}
prometheus = { url = "$PROM_URL"; timeout = "2s"; };
output     = { $1 };
services = (
  {
    name  = "medical-imaging";
    kind  = "servers";
    $signals
    ${3:-}
    backends = (
$bl
    );
  }
);
EOC
}

# start_loop_file SCENARIO BACKENDS [SERVICE_KEYS]: weightd-sim following
# $WORK/dynamic/weightd.yml, Prometheus scraping it, weightd writing that file.
start_loop_file() {
	mkdir -p "$WORK/dynamic"
	OUT_FILE="$WORK/dynamic/weightd.yml"
	start_sim "$1" -f "$OUT_FILE" ${SIM_ARGS:-}
	start_prometheus "127.0.0.1:$SIM_PORT"
	loop_conf "type = \"file\"; path = \"$OUT_FILE\";" "$2" "${3:-}"
	start_weightd "$WORK/weightd.conf"
}

# sim_weight BACKEND: the weight the simulated balancer uses now.
sim_weight() {
	curl -fsS --max-time 2 "http://127.0.0.1:$SIM_PORT/metrics" |
		awk -v b="$1" -F'[{}" ]+' '$1 == "sim_backend_weight" && $3 == b { print $4 }'
}

# fleet_p95_mean FILE FIRST LAST: mean of the fleet p95 over the intervals
# ending in (FIRST, LAST] seconds of a ground-truth CSV.
fleet_p95_mean() {
	awk -F, -v a="$2" -v b="$3" 'NR > 1 && $1 > a && $1 <= b && !($1 in s) { s[$1] = 1; t += $10; n++ }
		END { if (n) printf "%.6f", t / n; else print "nan" }' "$1"
}

# out_weight BACKEND_URL: the weight weightd's YAML output gives that server
# ("" when it is left out).
out_weight() {
	python3 - "$OUT_FILE" "$1" <<'EOP'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1])) or {}
for svc in doc.get("http", {}).get("services", {}).values():
    for s in svc.get("loadBalancer", {}).get("servers", []):
        if s.get("url") == sys.argv[2]:
            print(s.get("weight", 1))
EOP
}

# sim_time_at_least SECONDS: the ground truth has reached that simulated time.
sim_time_at_least() {
	[ -s "$WORK/truth.csv" ] && awk -F, -v t="$1" 'END { exit !($1 + 0 >= t) }' "$WORK/truth.csv"
}

# ---- the heterogeneous fleet of 082, 089 and 090 ----

# hetero_scenario FILE: servers of capacity 100, 70 and 30 at 70 % load,
# followed as the servers-kind service medical-imaging.
hetero_scenario() {
	cat >"$1" <<'EOS'
seed = 21;
traefik = { service = "medical-imaging"; };
load = { rate = 140.0; };
buckets = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4,
           0.5, 0.75, 1.0, 2.0, 5.0, 10.0];
backends = (
  { name = "server1:8080"; url = "http://server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 34; },
  { name = "server2:8080"; url = "http://server2:8080"; capacity = 70.0; slots = 8; latency = "40ms"; weight = 33; },
  { name = "server3:8080"; url = "http://server3:8080"; capacity = 30.0; slots = 4; latency = "40ms"; weight = 33; }
);
EOS
}
HETERO_START="server1:8080=34 server2:8080=33 server3:8080=33"

# equal_p95 SCENARIO: the fleet p95 with the scenario's equal weights, over
# the second half of 60 simulated seconds at 30x speed.
equal_p95() {
	"$SIM" -s "$1" -l "127.0.0.1:$(free_port)" --speed 30 -d 60 \
		-o "$WORK/equal.csv" 2>"$WORK/equal.log" || fail "baseline run failed"
	fleet_p95_mean "$WORK/equal.csv" 30 60
}

# hetero_ordered: the simulated balancer's weights follow the capacities.
hetero_ordered() {
	w1=$(sim_weight server1:8080)
	w2=$(sim_weight server2:8080)
	w3=$(sim_weight server3:8080)
	[ -n "$w1" ] && [ -n "$w2" ] && [ -n "$w3" ] && [ "$w1" -gt "$w2" ] && [ "$w2" -gt "$w3" ]
}

# hetero_steers EQUAL_P95 WHAT: the running loop orders the weights like the
# capacities, and after 30 s of settling keeps them so with a fleet p95 (the
# last 10 s) under half of EQUAL_P95. WHAT names the loop in the output.
hetero_steers() {
	wait_for "weights ordered like the capacities" 60 hetero_ordered
	ok "weights ordered: $(sim_weight server1:8080) > $(sim_weight server2:8080) > $(sim_weight server3:8080)"
	t0=$(tail -n 1 "$WORK/truth.csv" | cut -d, -f1)
	wait_for "30 s of settling" 40 sim_time_at_least "$((${t0%.*} + 30))"
	t1=$(tail -n 1 "$WORK/truth.csv" | cut -d, -f1)
	tuned=$(fleet_p95_mean "$WORK/truth.csv" "$(awk -v t="$t1" 'BEGIN { print t - 10 }')" "$t1")
	echo "fleet p95: equal weights $1 s, $2 $tuned s"
	hetero_ordered || fail "weights lost their order"
	awk -v a="$tuned" -v b="$1" 'BEGIN { exit !(a < 0.5 * b) }' ||
		fail "fleet p95 $tuned not well below equal weights' $1"
	ok "fleet p95 well below equal weights ($2)"
}
