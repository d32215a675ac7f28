# loop-config.sh: the weightd.conf of the real loop on HAProxy, shared by the
# HAProxy tests and bench-real (tests/integration/common.sh) and the demo
# (contrib/demo-haproxy.sh), and the haproxy.cfg they run HAProxy with.
# Sourced (POSIX sh); defines:
#
#   real_loop_config INTERVAL WINDOW LISTEN AUDIT PROM_URL HAPROXY_API NAME=URL...
#   real_haproxy_config API_ADDR HTTP_ADDR EXPORTER_ADDR EXTRA_GLOBAL BACKEND_SECTION
#
# which prints a config for HAProxy backend "app" with servers NAME (at URL):
# latency the p95 over WINDOW of the realbackends' own histograms (a time
# window, fresh for every server whatever its traffic), errors and rate from
# HAProxy's per-server responses, all labelled server="NAME".
real_loop_config() {
	rl_interval=$1 rl_window=$2 rl_listen=$3 rl_audit=$4 rl_prom=$5 rl_api=$6
	shift 6
	rl_backends=""
	for rl_b in "$@"; do
		rl_backends="$rl_backends${rl_backends:+,
}      { name = \"${rl_b%%=*}\"; url = \"${rl_b#*=}\"; }"
	done
	cat <<EOC
interval   = "$rl_interval";
listen     = "$rl_listen";
state_file = "";
audit_log  = "$rl_audit";
prometheus = { url = "$rl_prom"; timeout = "2s"; };
output     = { type = "haproxy"; address = "$rl_api"; };
services = (
  {
    name  = "app";
    label = "server";
    latency_query = "histogram_quantile(0.95, sum by (le, server) (rate(realbackend_request_duration_seconds_bucket[$rl_window])))";
    error_query   = "sum by (server) (rate(haproxy_server_http_responses_total{proxy=\"app\",code=\"5xx\"}[$rl_window])) / sum by (server) (rate(haproxy_server_http_responses_total{proxy=\"app\"}[$rl_window]))";
    rate_query    = "sum by (server) (rate(haproxy_server_http_responses_total{proxy=\"app\"}[$rl_window]))";
    backends = (
$rl_backends
    );
  }
);
EOC
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
