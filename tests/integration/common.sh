# common.sh: shared by the integration tests (sourced, POSIX sh).
#
# Every test gets its own scratch directory and free loopback ports, starts
# the real servers it needs (prometheus, redis-server), waits for them with a
# readiness check (never a bare sleep), and stops them on exit, even on failure.
#
#   . "$top_srcdir/tests/integration/common.sh"
#   port=$(free_port)
#   start_redis; start_prometheus "$scrape_target"
#   fail "message"   -- prints and exits 1
#   skip "reason"    -- exits 77 (automake's SKIP)

set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${WEIGHTD:=$top_builddir/weightd}"
TEST_NAME=$(basename "$0" .sh)
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
# every second (every PROM_SCRAPE when set, e.g. 3s). Sets PROM_PORT, PROM_URL, PROM_PID. Optional: PROM_WEB_CONFIG
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

# start_backends_prometheus: two exporters standing in for backends (a: 0.2 s
# per request, b: 0.04 s; 50 req/s, no errors) scraped by a real Prometheus
# (start_prometheus), once both have a p95 latency. Sets BACKEND_A and
# BACKEND_B (their HOST:PORT, the instance label) and LAT_QUERY (that p95).
start_backends_prometheus() {
	pa=$(free_port)
	pb=$(free_port)
	python3 "$top_srcdir/tests/integration/exporter.py" "$pa" 0.2 0.0 50 &
	track $!
	python3 "$top_srcdir/tests/integration/exporter.py" "$pb" 0.04 0.0 50 &
	track $!
	wait_for "exporter a" 10 http_ok "http://127.0.0.1:$pa/metrics"
	wait_for "exporter b" 10 http_ok "http://127.0.0.1:$pb/metrics"
	BACKEND_A=127.0.0.1:$pa
	BACKEND_B=127.0.0.1:$pb
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
