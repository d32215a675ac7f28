# common.sh: the one helper library of the integration tests (sourced, POSIX sh).
#
# Every test gets its own scratch directory ($WORK) and free loopback ports,
# starts the real servers it needs (prometheus, redis-server), waits for them
# with a readiness check (never a bare sleep), and stops them on exit, even on
# failure. A new test starts like this, and adds its helpers here, not in a
# library of its own:
#
#   #!/bin/sh
#   # NNN-name: what it shows (one paragraph).
#   . "$top_srcdir/tests/integration/common.sh"
#   start_redis; start_prometheus "$target"; start_weightd "$WORK/weightd.conf"
#   wait_log 'msg="wrote weights"' 10
#   ok "what held"       fail "what broke" (exits 1)       skip "why" (exits 77)
#
# Names are lower_snake verbs: start_X / stop_X for a process (sets X_PORT,
# X_PID, ...; cleanup stops it anyway), wait_X to poll with a timeout,
# write_X_config for a config file, X_has / X_is for a test usable by wait_for.
# Sections: basics; real Redis and Prometheus; weightd; the output driver
# (outdrv); observability (exporter, /metrics, /healthz, audit); weightd-sim
# and the whole loop; a misbehaving Prometheus (fakeprom.py: the only
# stand-in for Prometheus, for faults a real one will not produce); a real
# HAProxy with real backends and open-loop load.

set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${WEIGHTD:=$top_builddir/weightd}"
TEST_NAME=$(basename "$0" .sh)
# weightd_conf, real_loop_config, real_haproxy_config: the configs shared with the demos
. "$top_srcdir/contrib/realload/loop-config.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/weightd-$TEST_NAME.XXXXXX")
PIDS=""

cleanup() {
	rc=$?
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		echo "--- $TEST_NAME failed (rc=$rc); scratch dir $WORK"
		for f in "$WORK"/*.log; do
			[ -f "$f" ] || continue
			echo "--- tail of $f"
			tail -n 40 "$f"
		done
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

ok() {
	echo "ok: $*"
}

# Remembers a background process so cleanup stops it.
track() {
	PIDS="$PIDS $1"
}

untrack() {
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# jq_true [JQ OPTIONS] FILTER: the JSON on stdin makes FILTER true. Empty
# input fails: jq 1.6's -e exits 0 when it reads nothing, so a refused
# connection (curl -f printing nothing) would pass a wait.
jq_true() {
	_jq_in=$(cat)
	[ -n "$_jq_in" ] && printf '%s\n' "$_jq_in" | jq -e "$@" >/dev/null
}

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: polls COMMAND every 0.1s until it
# succeeds; fails the test after TIMEOUT_S seconds.
wait_for() {
	desc=$1
	limit=$2
	shift 2
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge $((limit * 10)) ]; then
			fail "timed out after ${limit}s waiting for $desc"
		fi
		sleep 0.1
	done
}

http_ok() {
	curl -fsS -o /dev/null --max-time 2 "$1"
}

# start_redis [extra redis-server args...]: sets REDIS_PORT, REDIS_PID.
start_redis() {
	command -v redis-server >/dev/null || skip "redis-server not installed"
	REDIS_PORT=${REDIS_PORT:-$(free_port)}
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$WORK" --daemonize no "$@" >"$WORK/redis.log" 2>&1 &
	REDIS_PID=$!
	track "$REDIS_PID"
	wait_for "redis on port $REDIS_PORT" 10 redis_ping
}

redis_ping() {
	redis-cli -p "$REDIS_PORT" ${REDIS_AUTH:+--no-auth-warning -a "$REDIS_AUTH"} ping | grep -q PONG
}

stop_redis() {
	kill "$REDIS_PID" 2>/dev/null || true
	wait "$REDIS_PID" 2>/dev/null || true
	untrack "$REDIS_PID"
}

# start_prometheus TARGET...: a real Prometheus scraping each HOST:PORT target
# every second (every PROM_SCRAPE when set, e.g. 3s). Sets PROM_PORT, PROM_URL, PROM_PID. Optional: PROM_JOBS (more
# scrape_configs entries, YAML indented by two spaces), PROM_WEB_CONFIG
# (a --web.config.file for TLS or basic auth), PROM_SCHEME (https with TLS) and
# PROM_CURL_OPTS (what curl needs to reach it then, e.g. --cacert, -u).
start_prometheus() {
	command -v prometheus >/dev/null || skip "prometheus not installed"
	PROM_PORT=${PROM_PORT:-$(free_port)}
	PROM_URL="${PROM_SCHEME:-http}://127.0.0.1:$PROM_PORT"
	targets=""
	for t in "$@"; do
		targets="$targets${targets:+, }'$t'"
	done
	cat >"$WORK/prometheus.yml" <<EOP
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: test
    scrape_interval: ${PROM_SCRAPE:-1s}
    # weightd-sim exports many backends' series from one target, each with
    # its own instance label: keep those rather than the target's address.
    honor_labels: true
    static_configs:
      - targets: [$targets]
${PROM_JOBS:-}
EOP
	mkdir -p "$WORK/prom-data"
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
		${PROM_WEB_CONFIG:+--web.config.file="$PROM_WEB_CONFIG"} \
		>"$WORK/prometheus.log" 2>&1 &
	PROM_PID=$!
	track "$PROM_PID"
	wait_for "prometheus on port $PROM_PORT" 30 prom_ready
}

prom_ready() {
	# shellcheck disable=SC2086
	curl -fsS -o /dev/null --max-time 2 ${PROM_CURL_OPTS:-} "$PROM_URL/-/ready"
}

stop_prometheus() {
	kill "$PROM_PID" 2>/dev/null || true
	wait "$PROM_PID" 2>/dev/null || true
	untrack "$PROM_PID"
}

# prom_query EXPR: prints the JSON answer of an instant query.
prom_query() {
	# shellcheck disable=SC2086
	curl -fsS --max-time 5 ${PROM_CURL_OPTS:-} "$PROM_URL/api/v1/query" --data-urlencode "query=$1"
}

# wait_prom_series EXPR MIN TIMEOUT: until EXPR returns at least MIN series.
wait_prom_series() {
	wait_for "$2 series of $1" "$3" prom_has_series "$1" "$2"
}

# start_backend_exporter LATENCY_S ERROR_FRACTION RATE_PER_S: exporter.py, a
# backend's request metrics, on a free port. Sets BACKEND_PORT and
# BACKEND_ADDR (127.0.0.1:PORT, its instance label once scraped).
start_backend_exporter() {
	BACKEND_PORT=$(free_port)
	BACKEND_ADDR=127.0.0.1:$BACKEND_PORT
	python3 "$top_srcdir/tests/integration/exporter.py" "$BACKEND_PORT" "$1" "$2" "$3" &
	track $!
	wait_for "exporter on port $BACKEND_PORT" 10 http_ok "http://$BACKEND_ADDR/metrics"
}

# start_backends_prometheus: two exporters standing in for backends (a: 0.2 s
# per request, b: 0.04 s; 50 req/s, no errors) scraped by a real Prometheus
# (start_prometheus), once both have a p95 latency. Sets BACKEND_A and
# BACKEND_B (their HOST:PORT, the instance label) and LAT_QUERY (that p95).
start_backends_prometheus() {
	start_backend_exporter 0.2 0.0 50
	BACKEND_A=$BACKEND_ADDR
	start_backend_exporter 0.04 0.0 50
	BACKEND_B=$BACKEND_ADDR
	start_prometheus "$BACKEND_A" "$BACKEND_B"
	LAT_QUERY='histogram_quantile(0.95, sum by (le, instance) (rate(model_inference_duration_seconds_bucket[5s])))'
	wait_prom_series "$LAT_QUERY" 2 30
}

# live_service [B_KEYS]: the config entry of the service "live" over
# BACKEND_A and BACKEND_B (with B_KEYS added to B's group, e.g. a pin).
live_service() {
	cat <<EOS
 { name = "live"; label = "instance"; backends = (
   { name = "$BACKEND_A"; url = "http://$BACKEND_A"; },
   { name = "$BACKEND_B"; url = "http://$BACKEND_B"; ${1:-} } ); }
EOS
}

# write_live_config FILE INTERVAL 'output group body' <SERVICES: replaces
# FILE (by rename) with a config of the services list read from standard
# input (live_service's, ...) that measures every service's latency by
# LAT_QUERY on $PROM_URL and audits to $WORK/audit.jsonl; WD_STATE_FILE=path
# keeps a state file.
write_live_config() {
	WD_PROM_TIMEOUT=5s WD_TOP_KEYS="policy = { latency_query = \"$LAT_QUERY\"; };" \
		weightd_conf "$2" "" "$WORK/audit.jsonl" "$PROM_URL" "$3" "$(cat)" >"$1.new"
	mv "$1.new" "$1"
}

# file_weights FILE SERVICE: the service's weights in a Traefik file output,
# space-separated (each must be an integer).
file_weights() {
	python3 - "$1" "$2" <<'EOP'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
servers = doc["http"]["services"][sys.argv[2]]["loadBalancer"]["servers"]
w = [s["weight"] for s in servers]
assert all(type(x) is int for x in w), w
print(" ".join(map(str, w)))
EOP
}

prom_has_series() {
	n=$(prom_query "$1" | jq '.data.result | length')
	[ "$n" -ge "$2" ]
}

# start_weightd CONFIG [args...]: runs weightd in the background with its log
# in $WORK/weightd.log. Sets WEIGHTD_PID.
start_weightd() {
	cfg=$1
	shift
	"$WEIGHTD" -c "$cfg" "$@" >>"$WORK/weightd.out" 2>>"$WORK/weightd.log" &
	WEIGHTD_PID=$!
	track "$WEIGHTD_PID"
}

# write_services_config N INTERVAL [TOP_LINE] [LATENCY_QUERY]: replaces
# $WORK/weightd.conf (by rename) with services svc1..svcN of one backend each,
# an unreachable Prometheus, the file output $WORK/out.yml and TOP_LINE.
write_services_config() {
	{
		echo "interval = \"$2\";"
		echo "${3:-}"
		echo 'listen = "";'
		echo 'prometheus = { url = "http://127.0.0.1:1"; timeout = "100ms"; };'
		echo "output = { type = \"file\"; path = \"$WORK/out.yml\"; };"
		echo "policy = { latency_query = \"${4:-up}\"; };"
		echo 'services = ('
		i=1
		while [ "$i" -le "$1" ]; do
			[ "$i" -gt 1 ] && echo ','
			echo "{ name = \"svc$i\"; backends = ( { name = \"a\"; url = \"http://a:1\"; } ); }"
			i=$((i + 1))
		done
		echo ');'
	} >"$WORK/weightd.conf.new"
	mv "$WORK/weightd.conf.new" "$WORK/weightd.conf"
}

# stop_weightd: SIGTERM and wait; returns weightd's exit status in WEIGHTD_RC.
stop_weightd() {
	kill -TERM "$WEIGHTD_PID" 2>/dev/null || true
	WEIGHTD_RC=0
	wait "$WEIGHTD_PID" || WEIGHTD_RC=$?
	untrack "$WEIGHTD_PID"
}

# log_has PATTERN: weightd's log contains an (extended) regex.
log_has() {
	grep -Eq "$1" "$WORK/weightd.log"
}

# wait_log PATTERN TIMEOUT: until weightd's log contains PATTERN.
wait_log() {
	wait_for "log line /$1/" "$2" log_has "$1"
}

# count_log PATTERN: how many log lines match.
count_log() {
	grep -Ec "$1" "$WORK/weightd.log" || true
}

# ---- the output driver (tests/tools/outdrv) and the output tests' config ----
#
#   write_output_config FILE 'output group body'   a config with service "app"
#       (servers s1 s2 s3, health check) and "canary" (weighted); NO_S3=1,
#       NO_CANARY=1, S3_PIN=N, STATE_FILE=path and MANY=N (N more servers)
#       change it
#   write_outdrv_config FILE 'output group body' [TOP_KEYS] <SERVICES   the
#       same top-level keys around a test's own services
#   run_outdrv CONFIG COMMAND...     a fresh outdrv runs the commands
#   start_outdrv CONFIG [-n]; send_outdrv 'command'   outdrv as a coprocess:
#       send_outdrv sets REPLY; read_outdrv reads the next line of a longer
#       answer; stop_outdrv

OUTDRV=$top_builddir/tests/tools/outdrv
CHECK="python3 $top_srcdir/tests/tools/output_check.py"
SCHEMA=$top_srcdir/tests/fixtures/traefik-v3-file-provider.json

write_output_config() {
	s3=""
	[ -n "${NO_S3:-}" ] || s3=",
      { name = \"s3\"; url = \"http://10.0.0.3:8080\"; weight = 20;${S3_PIN:+ pin = $S3_PIN;} }"
	i=0
	while [ "$i" -lt "${MANY:-0}" ]; do
		i=$((i + 1))
		s3="$s3,
      { name = \"m$i\"; url = \"http://10.0.1.$i:8080\"; weight = 1; }"
	done
	canary=""
	[ -n "${NO_CANARY:-}" ] || canary=",
  { name = \"canary\"; kind = \"weighted\"; label = \"service\"; latency_query = \"up\";
    backends = ( { name = \"app-v1@file\"; weight = 90; }, { name = \"app-v2@file\"; weight = 10; } ); }"
	write_outdrv_config "$1" "$2" <<SERVICES
  { name = "app"; kind = "servers"; label = "instance"; latency_query = "up";
    backends = (
      { name = "s1"; url = "http://10.0.0.1:8080"; weight = 50; },
      { name = "s2"; url = "http://10.0.0.2:8080"; weight = 30; }$s3
    );
    health_check = { path = "/health"; interval = "10s"; timeout = "3s"; };
  }$canary
SERVICES
}

# write_outdrv_config FILE 'output group body' [TOP_KEYS] <SERVICES: a config
# for the output tests: the services list read from standard input, 15 s
# ticks, a Prometheus nobody asks (127.0.0.1:1), state_file $STATE_FILE.
write_outdrv_config() {
	WD_STATE_FILE=${STATE_FILE:-} WD_PROM_TIMEOUT=1s WD_TOP_KEYS=${3:-} \
		weightd_conf 15s "" "" "http://127.0.0.1:1" "$2" "$(cat)" >"$1"
}

# run_outdrv CONFIG COMMAND...: a fresh outdrv for the commands; prints its answers.
run_outdrv() {
	c=$1
	shift
	for x in "$@"; do echo "$x"; done | "$OUTDRV" "$c" 2>>"$WORK/outdrv.log"
}

start_outdrv() {
	rm -f "$WORK/drv.in" "$WORK/drv.out"
	mkfifo "$WORK/drv.in" "$WORK/drv.out"
	"$OUTDRV" ${2:-} "$1" <"$WORK/drv.in" >"$WORK/drv.out" 2>>"$WORK/outdrv.log" &
	DRV_PID=$!
	track "$DRV_PID"
	exec 3>"$WORK/drv.in" 4<"$WORK/drv.out"
}

send_outdrv() {
	echo "$1" >&3
	read -r REPLY <&4 || fail "outdrv died (command: $1)"
}

# read_outdrv: the next line of a multi-line answer, in REPLY.
read_outdrv() {
	read -r REPLY <&4 || fail "outdrv died"
}

stop_outdrv() {
	echo quit >&3
	exec 3>&- 4<&-
	wait "$DRV_PID" || fail "outdrv exited with $?"
	untrack "$DRV_PID"
}

# ---- observability: a steerable exporter, weightd's /metrics, /healthz, audit ----
#
# obs_exporter.py stands in for the backends' metrics (a file of values the
# test changes); weightd's own endpoint is on $WD_PORT.

# start_exporter: serves $WORK/values (SERVICE BACKEND LATENCY ERROR_RATIO
# lines) on $EXP_PORT.
start_exporter() {
	EXP_PORT=$(free_port)
	: >>"$WORK/values"
	python3 "$top_srcdir/tests/integration/obs_exporter.py" "$EXP_PORT" "$WORK/values" \
		>"$WORK/exporter.log" 2>&1 &
	track $!
	wait_for "exporter on port $EXP_PORT" 10 http_ok "http://127.0.0.1:$EXP_PORT/metrics"
}

# start_exporter_prometheus [TARGET...]: the exporter serving the current values, and a
# Prometheus scraping it (and the TARGETs) that already has every series.
start_exporter_prometheus() {
	start_exporter
	start_prometheus "127.0.0.1:$EXP_PORT" "$@"
	wait_prom_series 'obs_latency_seconds' "$(grep -c . "$WORK/values")" 20
}

# set_values LINE...: replaces the exporter's values atomically.
set_values() {
	printf '%s\n' "$@" >"$WORK/values.new"
	mv "$WORK/values.new" "$WORK/values"
}

# write_obs_config FILE SERVICES [TOP-LEVEL LINES]: a weightd config reading the
# exporter's gauges through $PROM_URL, writing $WORK/out.yml, serving on
# $WD_PORT, auditing to $WORK/audit.log.
write_obs_config() {
	cat >"$1.new" <<EOC
interval = "300ms";
listen = "127.0.0.1:$WD_PORT";
audit_log = "$WORK/audit.log";
${3:-}
prometheus = { url = "$PROM_URL"; timeout = "1s"; };
output = { type = "file"; path = "$WORK/out.yml"; };
policy = {
  latency_query = "obs_latency_seconds{service=\"\${service}\"}";
  error_query = "obs_error_ratio{service=\"\${service}\"}";
  stale_ticks = 2;
};
services = ( $2 );
EOC
	mv "$1.new" "$1"
}

metrics() {
	curl -fsS --max-time 5 "http://127.0.0.1:$WD_PORT/metrics"
}

# metric SERIES: the value of one exact series (name{labels}) in /metrics.
metric() {
	metrics | awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# metric_at_least SERIES N
metric_at_least() {
	v=$(metric "$1") || return 1
	awk -v v="$v" -v n="$2" 'BEGIN { exit !(v + 0 >= n + 0) }'
}

healthz_code() {
	curl -s -o "$WORK/healthz.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$WD_PORT/healthz"
}

healthz_is() {
	[ "$(healthz_code)" = "$1" ]
}

# audit_has SERVICE BACKEND ACTION: some audit record matches.
audit_has() {
	[ -f "$WORK/audit.log" ] &&
		jq -s -e --arg s "$1" --arg b "$2" --arg a "$3" \
			'any(.[]; .service == $s and .backend == $b and .action == $a)' \
			"$WORK/audit.log" >/dev/null
}

# check_audit_lines FILE: every line is a JSON object with exactly the documented
# fields, in order, with the right types. Prints the number of records.
check_audit_lines() {
	python3 - "$1" <<'EOP'
import json, re, sys
FIELDS = ["ts", "tick", "service", "backend", "latency", "error_ratio", "rate",
          "cost", "error", "old", "new", "action", "reason"]
ACTIONS = {"applied", "dry_run", "held", "pinned", "frozen", "ejected", "stale", "probing"}
n = 0
for i, line in enumerate(open(sys.argv[1]), 1):
    def bad(msg):
        sys.exit("%s:%d: %s: %s" % (sys.argv[1], i, msg, line.strip()))
    try:
        r = json.loads(line, object_pairs_hook=lambda p: p)
    except ValueError as e:
        bad("not JSON (%s)" % e)
    if [k for k, _ in r] != FIELDS:
        bad("fields %s, want %s" % ([k for k, _ in r], FIELDS))
    r = dict(r)
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["ts"]):
        bad("ts")
    if not (isinstance(r["tick"], int) and r["tick"] >= 1):
        bad("tick")
    for k in ("service", "backend", "reason"):
        if not isinstance(r[k], str):
            bad(k)
    for k in ("latency", "error_ratio", "rate", "cost", "error"):
        if r[k] is not None and not isinstance(r[k], (int, float)):
            bad(k)
    for k in ("old", "new"):
        if not (isinstance(r[k], int) and r[k] >= 0):
            bad(k)
    if r["action"] not in ACTIONS:
        bad("action")
    n += 1
print(n)
EOP
}

# ---- weightd-sim: the simulated fleet and its ground truth ----

SIM="$top_builddir/weightd-sim"

# start_sim SCENARIO [args...]: runs weightd-sim on a free port with its ground
# truth in $WORK/truth.csv and its log in $WORK/sim.log; waits for /metrics.
# Sets SIM_PORT (SIM_LISTEN_PORT when set: a port chosen beforehand), SIM_PID.
start_sim() {
	scn=$1
	shift
	SIM_PORT=${SIM_LISTEN_PORT:-$(free_port)}
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

# write_loop_config OUTPUT BACKENDS [SERVICE_KEYS] [TOP_KEYS]: writes $WORK/weightd.conf
# for the service medical-imaging (kind servers, 1 s ticks, 5 s rate windows)
# reading $PROM_URL. OUTPUT is the output group's body; BACKENDS is a list of
# NAME=WEIGHT (url http://NAME). With LOOP_METRICS=traefik the service has no
# query of its own: metrics = "traefik" with a 5 s window.
write_loop_config() {
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
	WD_TOP_KEYS=${4:-} weightd_conf 1s "" "$WORK/audit.jsonl" "$PROM_URL" "$1" "  {
    name  = \"medical-imaging\";
    kind  = \"servers\";
    $signals
    ${3:-}
    backends = (
$bl
    );
  }" >"$WORK/weightd.conf"
}

# start_loop_file SCENARIO BACKENDS [SERVICE_KEYS]: weightd-sim following
# $WORK/dynamic/weightd.yml, Prometheus scraping it, weightd writing that file.
start_loop_file() {
	mkdir -p "$WORK/dynamic"
	OUT_FILE="$WORK/dynamic/weightd.yml"
	start_sim "$1" -f "$OUT_FILE" ${SIM_ARGS:-}
	start_prometheus "127.0.0.1:$SIM_PORT"
	write_loop_config "type = \"file\"; path = \"$OUT_FILE\";" "$2" "${3:-}"
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

# ---- a misbehaving Prometheus (fakeprom.py) and a fast-ticking weightd on it ----

# start_fake_prom [MODE]: fakeprom.py, the tests' one stand-in for a
# Prometheus that misbehaves on demand (its header lists the modes), on a free
# port, answering in MODE (default good) until set_prom_mode changes it. Sets
# FAKE_PROM_PORT and FAKE_PROM_URL. With FAKE_PROM_REQLOG set, every query it
# receives is a JSON line there. The mode lives in FAKE_PROM_MODEFILE (default
# $WORK/mode): a second fake in one test needs its own.
start_fake_prom() {
	FAKE_PROM_PORT=$(free_port)
	FAKE_PROM_URL=http://127.0.0.1:$FAKE_PROM_PORT
	echo "${1:-good}" >"${FAKE_PROM_MODEFILE:-$WORK/mode}"
	python3 "$top_srcdir/tests/integration/fakeprom.py" "$FAKE_PROM_PORT" \
		"${FAKE_PROM_MODEFILE:-$WORK/mode}" "${FAKE_PROM_REQLOG:-}" >>"$WORK/fakeprom.log" 2>&1 &
	track $!
	wait_for "fakeprom on port $FAKE_PROM_PORT" 10 http_ok "$FAKE_PROM_URL/-/ready"
}

# set_prom_mode MODE: what the fake Prometheus answers from the next query on.
set_prom_mode() {
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
prometheus = { url = "$FAKE_PROM_URL"; timeout = "1s"; ${1:-} };
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

# ---- a real HAProxy, real backends and open-loop load (130-134, bench-real) ----
#
#   start_haproxy 'backend sections'   haproxy -db on free loopback ports with
#       its runtime API on TCP ($HAPROXY_API = 127.0.0.1:PORT) and on a UNIX
#       socket ($HAPROXY_SOCK), an HTTP frontend on $HAPROXY_HTTP whose default
#       backend is "app", and the Prometheus exporter on $HAPROXY_PROM/metrics;
#       stop_haproxy, start_haproxy_again (the same config, a new process),
#       restart_haproxy
#   haproxy_api 'command'              one runtime API command; prints the answer
#   haproxy_weight BACKEND/SERVER      the current weight
#   haproxy_weights BACKEND SERVER...  their weights in w1, w2, ... (in order)
#   haproxy_admin BACKEND SERVER       the server's srv_admin_state (8: drain)
#   start_realbackend NAME WORKERS SERVICE [ARGS]  a realbackend on a free
#       port; sets PORT_<NAME>; its log is $WORK/backend-NAME.log
#   control_realbackend NAME 'query'   GET /control?query on it
#   set_realbackend_jobs NAME...       PROM_JOBS scraping them, labelled server=NAME
#   write_real_loop_config FILE WINDOW NAME...  weightd on HAProxy backend "app"
#       (REAL_METRICS=haproxy: through metrics = "haproxy", no queries of its own)

REALBACKEND=$top_builddir/realbackend
OPENLOAD=$top_builddir/openload

start_haproxy() {
	command -v haproxy >/dev/null || skip "haproxy not installed"
	HAPROXY_API_PORT=${HAPROXY_API_PORT:-$(free_port)}
	HAPROXY_API=127.0.0.1:$HAPROXY_API_PORT
	HAPROXY_SOCK=$WORK/haproxy.sock
	HAPROXY_HTTP=${HAPROXY_HTTP:-127.0.0.1:$(free_port)}
	HAPROXY_PROM=${HAPROXY_PROM:-127.0.0.1:$(free_port)}
	real_haproxy_config "$HAPROXY_API" "$HAPROXY_HTTP" "$HAPROXY_PROM" \
		"  stats socket $HAPROXY_SOCK mode 600 level admin" "$1" >"$WORK/haproxy.cfg"
	haproxy -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy-check.log" 2>&1 ||
		fail "haproxy.cfg invalid: $(cat "$WORK/haproxy-check.log")"
	start_haproxy_again
}

start_haproxy_again() {
	haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	track "$HAPROXY_PID"
	wait_for "haproxy's runtime API on $HAPROXY_API" 10 haproxy_is_up
}

stop_haproxy() {
	kill "$HAPROXY_PID" 2>/dev/null || true
	wait "$HAPROXY_PID" 2>/dev/null || true
	untrack "$HAPROXY_PID"
}

restart_haproxy() {
	stop_haproxy
	start_haproxy_again
}

haproxy_api() {
	python3 "$top_srcdir/tests/integration/haproxy_api.py" "$HAPROXY_API" "$1"
}

haproxy_is_up() {
	haproxy_api 'show info' | grep -q "^Pid: $HAPROXY_PID\$"
}

haproxy_weight() {
	haproxy_api "get weight $1" | cut -d' ' -f1
}

# haproxy_weights BACKEND SERVER...: the servers' current weights in w1, w2, ...
haproxy_weights() {
	hw_backend=$1
	shift
	hw_i=0
	for hw_server in "$@"; do
		hw_i=$((hw_i + 1))
		eval "w$hw_i=\$(haproxy_weight \"\$hw_backend/\$hw_server\")"
	done
}

haproxy_admin() {
	haproxy_api "show servers state $1" | awk -v s="$2" '$4 == s { print $7 }'
}

start_realbackend() {
	port=$(free_port)
	"$REALBACKEND" -l "127.0.0.1:$port" -w "$2" -t "$3" -S "$port" ${4:-} \
		>"$WORK/backend-$1.out" 2>"$WORK/backend-$1.log" &
	track $!
	eval "PORT_$1=$port"
	wait_for "realbackend $1 on port $port" 10 http_ok "http://127.0.0.1:$port/metrics"
}

control_realbackend() {
	eval "port=\$PORT_$1"
	curl -fsS --max-time 5 "http://127.0.0.1:$port/control?$2"
}

# set_realbackend_jobs NAME...: a scrape job (PROM_JOBS) for the named
# realbackends, each target labelled server="NAME" like HAProxy's series.
set_realbackend_jobs() {
	PROM_JOBS="  - job_name: backends
    scrape_interval: 1s
    static_configs:"
	for n in "$@"; do
		eval "port=\$PORT_$n"
		PROM_JOBS="$PROM_JOBS
      - targets: ['127.0.0.1:$port']
        labels: { server: '$n' }"
	done
}

# write_real_loop_config FILE WINDOW NAME...: weightd on HAProxy backend "app" with
# the named servers, a tick every $REAL_INTERVAL (default 1s): latency from
# the backends' own histograms (p95 over WINDOW), errors and rate from
# HAProxy's per-server responses; with REAL_METRICS=haproxy, all three from
# HAProxy's exporter through metrics = "haproxy".
write_real_loop_config() {
	f=$1
	win=$2
	shift 2
	rl=""
	for n in "$@"; do
		eval "port=\$PORT_$n"
		rl="$rl $n=http://127.0.0.1:$port"
	done
	# shellcheck disable=SC2086
	real_loop_config "${REAL_INTERVAL:-1s}" "$win" "" "$WORK/audit.jsonl" "$PROM_URL" \
		"$HAPROXY_API" $rl >"$f"
}
