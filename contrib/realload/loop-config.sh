# loop-config.sh: the weightd.conf of the tests, bench-real and the demos
# (tests/integration/common.sh, contrib/demo.sh, contrib/demo-haproxy.sh), and
# the haproxy.cfg of the real loop on HAProxy. Sourced (POSIX sh); defines:
#
#   weightd_conf INTERVAL LISTEN AUDIT PROM_URL OUTPUT SERVICES
#   real_loop_config INTERVAL WINDOW LISTEN AUDIT PROM_URL HAPROXY_API NAME=URL...
#   real_haproxy_config API_ADDR HTTP_ADDR EXPORTER_ADDR EXTRA_GLOBAL BACKEND_SECTION

# weightd_conf INTERVAL LISTEN AUDIT PROM_URL OUTPUT SERVICES: prints a
# weightd.conf with those top-level keys, OUTPUT being the output group's body
# and SERVICES the services list's; also state_file $WD_STATE_FILE (default
# none), a Prometheus timeout of $WD_PROM_TIMEOUT (default 2s) and the lines
# $WD_TOP_KEYS (e.g. a policy group).
weightd_conf() {
	cat <<EOC
interval   = "$1";
listen     = "$2";
state_file = "${WD_STATE_FILE:-}";
audit_log  = "$3";
prometheus = { url = "$4"; timeout = "${WD_PROM_TIMEOUT:-2s}"; };
output     = { $5 };
${WD_TOP_KEYS:+$WD_TOP_KEYS
}services = (
$6
);
EOC
}

# real_loop_config prints weightd_conf's config for HAProxy backend "app" with
# servers NAME (at URL), written through the runtime API at HAPROXY_API:
# latency the p95 over WINDOW of the realbackends' own histograms (a time
# window, fresh for every server whatever its traffic), errors and rate from
# HAProxy's per-server responses, all labelled server="NAME". With
# REAL_METRICS=haproxy the service has no query of its own: metrics =
# "haproxy" (HAProxy's exporter only) over WINDOW.
real_loop_config() {
	rl_interval=$1 rl_window=$2 rl_listen=$3 rl_audit=$4 rl_prom=$5 rl_api=$6
	shift 6
	rl_backends=""
	for rl_b in "$@"; do
		rl_backends="$rl_backends${rl_backends:+,
}      { name = \"${rl_b%%=*}\"; url = \"${rl_b#*=}\"; }"
	done
	if [ "${REAL_METRICS:-custom}" = haproxy ]; then
		rl_signals="metrics = \"haproxy\";
    window  = \"$rl_window\";"
	else
		rl_signals=$(cat <<EOS
label = "server";
    latency_query = "histogram_quantile(0.95, sum by (le, server) (rate(realbackend_request_duration_seconds_bucket[$rl_window])))";
    error_query   = "sum by (server) (rate(haproxy_server_http_responses_total{proxy=\"app\",code=\"5xx\"}[$rl_window])) / sum by (server) (rate(haproxy_server_http_responses_total{proxy=\"app\"}[$rl_window]))";
    rate_query    = "sum by (server) (rate(haproxy_server_http_responses_total{proxy=\"app\"}[$rl_window]))";
EOS
		)
	fi
	weightd_conf "$rl_interval" "$rl_listen" "$rl_audit" "$rl_prom" \
		"type = \"haproxy\"; address = \"$rl_api\";" "  {
    name  = \"app\";
    $rl_signals
    backends = (
$rl_backends
    );
  }"
}

# real_haproxy_config: prints the haproxy.cfg of the real loop: the runtime API
# on API_ADDR (plus EXTRA_GLOBAL lines, e.g. a UNIX socket), the traffic on
# HTTP_ADDR to backend "app", the Prometheus exporter on EXPORTER_ADDR, then
# BACKEND_SECTION (the "backend app" block with its servers).
real_haproxy_config() {
	cat <<EOH
global
  nbthread 1
  stats socket ipv4@$1 level admin
${4:+$4
}defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout queue 30s
frontend fe
  bind $2
  default_backend app
frontend prom
  bind $3
  http-request use-service prometheus-exporter if { path /metrics }
$5
EOH
}
