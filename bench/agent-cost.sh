#!/bin/sh
# agent-cost.sh BUILDDIR RESULTS: the agent-cost benchmark. 1,000 services of
# 10 backends, each with latency, error and rate queries (3,000 queries a
# tick), against promreplay (canned Prometheus answers on loopback):
#  - weightd-agentcost: weightd's tick path (measure_run + policy_step), wall
#    and CPU per tick over AGENT_TICKS ticks, peak RSS;
#  - weightd itself, `--once --dry-run`: a whole tick from start to exit, peak RSS;
#  - plain curl fetching the same 3,000 queries (--parallel): the floor.
# Writes RESULTS/agent-cost.md. Numbers depend on the machine: they are reported,
# never asserted.
set -eu
build=$1
out=$2
services=${AGENT_SERVICES:-1000}
backends=${AGENT_BACKENDS:-10}
ticks=${AGENT_TICKS:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weightd-agentcost.XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$build/promreplay" -l "127.0.0.1:$port" -n "$backends" &
pid=$!
i=0
until curl -fsS -o /dev/null --max-time 1 --data-urlencode 'query=up' "http://127.0.0.1:$port/api/v1/query"; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { echo "agent-cost: promreplay did not start" >&2; exit 1; }
	sleep 0.1
done

lq='histogram_quantile(0.95, sum by (le, instance) (rate(http_request_duration_seconds_bucket{service="${service}"}[1m])))'
eq='sum by (instance) (rate(http_requests_total{service="${service}",code=~"5.."}[1m])) / sum by (instance) (rate(http_requests_total{service="${service}"}[1m]))'
rq='sum by (instance) (rate(http_requests_total{service="${service}"}[1m]))'
awk -v n="$services" -v nb="$backends" -v port="$port" -v out="$tmp/out.yml" \
    -v lq="$lq" -v eq="$eq" -v rq="$rq" 'BEGIN {
	gsub(/"/, "\\\"", lq); gsub(/"/, "\\\"", eq); gsub(/"/, "\\\"", rq)
	printf "interval = \"15s\";\nlisten = \"\";\nstate_file = \"\";\nlog_level = \"error\";\n"
	printf "prometheus = { url = \"http://127.0.0.1:%d\"; timeout = \"30s\"; };\n", port
	printf "output = { type = \"file\"; path = \"%s\"; };\n", out
	printf "policy = { objective = \"marginal\";\n  latency_query = \"%s\";\n  error_query = \"%s\";\n  rate_query = \"%s\"; };\n", lq, eq, rq
	printf "services = (\n"
	for (s = 1; s <= n; s++) {
		printf "  { name = \"svc%04d\"; label = \"instance\"; backends = (", s
		for (b = 0; b < nb; b++)
			printf "%s{ name = \"b%d:8080\"; url = \"http://b%d.svc%04d:8080\"; weight = 10; }", b ? ", " : " ", b, b, s
		printf " ); }%s\n", s < n ? "," : ""
	}
	printf ");\n"
}' >"$tmp/weightd.conf"
"$build/weightd" -t -c "$tmp/weightd.conf" >/dev/null

echo "agent-cost: weightd's tick path, $ticks ticks" >&2
probe=$("$build/weightd-agentcost" -c "$tmp/weightd.conf" -n "$ticks")
kv() { echo "$probe" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "agent-cost: weightd --once --dry-run" >&2
/usr/bin/time -f "%e %U %S %M" -o "$tmp/daemon.time" \
	"$build/weightd" --once --dry-run -q -c "$tmp/weightd.conf" >/dev/null
read -r d_wall d_user d_sys d_rss <"$tmp/daemon.time"

echo "agent-cost: plain curl, the same queries" >&2
: >"$tmp/curl.cfg"
for s in $(seq -f '%04g' 1 "$services"); do
	for q in "$lq" "$eq" "$rq"; do
		expr=$(printf '%s' "$q" | sed "s/\${service}/svc$s/g")
		printf 'next\nurl = "http://127.0.0.1:%s/api/v1/query"\ndata-urlencode = "query=%s"\noutput = "/dev/null"\n' \
			"$port" "$(printf '%s' "$expr" | sed 's/\\/\\\\/g; s/"/\\"/g')" >>"$tmp/curl.cfg"
	done
done
sed -i '1d' "$tmp/curl.cfg"
c_best=""
for t in $(seq 1 3); do
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/curl.time" \
		curl -sS --parallel --parallel-max 300 --parallel-immediate -K "$tmp/curl.cfg" 2>"$tmp/curl.err"
	read -r c_wall c_user c_sys c_rss <"$tmp/curl.time"
	c_cpu=$(echo "$c_user $c_sys" | awk '{ printf "%.0f", ($1 + $2) * 1000 }')
	if [ -z "$c_best" ] || [ "$c_cpu" -lt "$c_best" ]; then
		c_best=$c_cpu
		c_best_wall=$(echo "$c_wall" | awk '{ printf "%.0f", $1 * 1000 }')
	fi
done

nq=$((services * 3))
cpu=$(kv cpu_ms_median)
beyond=$(echo "$cpu $c_best" | awk '{ printf "%.0f", $1 - $2 }')
{
	echo "Agent cost: $services services x $backends backends ($((services * backends)) backends), $nq queries a tick, canned answers on loopback; $(nproc) cores, $(uname -m)."
	echo
	echo "| what | wall per tick | CPU per tick | peak RSS |"
	echo "|---|---:|---:|---:|"
	echo "| weightd's tick path (measure + policy), median of $ticks ticks | $(kv wall_ms_median) ms | $cpu ms (policy: $(kv policy_cpu_ms_median) ms) | $(( $(kv peak_rss_kib) / 1024 )) MiB |"
	echo "| \`weightd --once --dry-run\` (start, config, one tick, exit) | $(echo "$d_wall" | awk '{ printf "%.0f", $1 * 1000 }') ms | $(echo "$d_user $d_sys" | awk '{ printf "%.0f", ($1 + $2) * 1000 }') ms | $((d_rss / 1024)) MiB |"
	echo "| plain \`curl --parallel\`, the same $nq queries (best of 3) | $c_best_wall ms | $c_best ms | $((c_rss / 1024)) MiB |"
	echo
	if [ "$beyond" -gt 0 ] 2>/dev/null; then
		echo "CPU beyond the HTTP transfer (weightd's tick minus curl's): about $beyond ms a tick."
	else
		echo "weightd's whole tick (HTTP, parsing, policy) used $(( -beyond )) ms less CPU than curl fetching the same queries."
	fi
} >"$out/agent-cost.md"
cat "$out/agent-cost.md" >&2
