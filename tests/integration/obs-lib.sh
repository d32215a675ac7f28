# obs-lib.sh: helpers for the observability tests (060-079), sourced after
# common.sh. A steerable exporter (obs_exporter.py) stands in for the
# backends' metrics; weightd's own endpoint is on $WD_PORT.

# start_obs_exporter: serves $WORK/values (SERVICE BACKEND LATENCY ERROR_RATIO
# lines) on $EXP_PORT.
start_obs_exporter() {
	EXP_PORT=$(free_port)
	: >>"$WORK/values"
	python3 "$top_srcdir/tests/integration/obs_exporter.py" "$EXP_PORT" "$WORK/values" \
		>"$WORK/exporter.log" 2>&1 &
	track $!
	wait_for "exporter on port $EXP_PORT" 10 http_ok "http://127.0.0.1:$EXP_PORT/metrics"
}

# start_obs_stack [TARGET...]: the exporter serving the current values, and a
# Prometheus scraping it (and the TARGETs) that already has every series.
start_obs_stack() {
	start_obs_exporter
	start_prometheus "127.0.0.1:$EXP_PORT" "$@"
	wait_prom_series 'obs_latency_seconds' "$(grep -c . "$WORK/values")" 20
}

# set_values LINE...: replaces the exporter's values atomically.
set_values() {
	printf '%s\n' "$@" >"$WORK/values.new"
	mv "$WORK/values.new" "$WORK/values"
}

# obs_config FILE SERVICES [TOP-LEVEL LINES]: a weightd config reading the
# exporter's gauges through $PROM_URL, writing $WORK/out.yml, serving on
# $WD_PORT, auditing to $WORK/audit.log.
obs_config() {
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
ACTIONS = {"applied", "dry_run", "held", "pinned", "frozen", "ejected", "stale"}
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
