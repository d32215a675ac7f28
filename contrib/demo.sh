#!/bin/sh
# demo.sh: weightd tuning a simulated fleet through a real Prometheus, all on
# loopback. Installs what is missing, builds, starts Prometheus (1 s scrapes),
# weightd-sim and weightd, shows each backend's weight, latency and error
# ratio live while the scenario plays, stops on Ctrl-C or after --duration,
# prints a summary and renders a PNG plot of the weights and the fleet's p95.
# With --lb haproxy the fleet is real instead: real HTTP backends behind a real
# HAProxy, open-loop load, weightd on HAProxy's runtime API (demo-haproxy.sh).
#
#   contrib/demo.sh [--lb traefik|haproxy] [--duration SECONDS] [--scenario FILE] [--out DIR]
#                   [--no-install] [--no-live]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/contrib/realload/loop-config.sh"
duration=120
scenario=$top/contrib/sim/scenarios/demo.scn
out=$top/demo-out
install=yes
live=yes
lb=traefik
[ -t 1 ] || live=no
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--duration=*) duration=${1#*=}; shift ;;
	--scenario) scenario=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--no-install) install=no; shift ;;
	--no-live) live=no; shift ;;
	--lb) lb=$2; shift 2 ;;
	--lb=*) lb=${1#*=}; shift ;;
	-h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown argument \"$1\" (try --help)" >&2; exit 2 ;;
	esac
done
case $duration in
'' | *[!0-9]*) echo "demo.sh: --duration wants whole seconds, not \"$duration\"" >&2; exit 2 ;;
esac
case $lb in
traefik | haproxy) ;;
*) echo "demo.sh: --lb wants traefik or haproxy, not \"$lb\"" >&2; exit 2 ;;
esac
[ -r "$scenario" ] || { echo "demo.sh: cannot read scenario $scenario" >&2; exit 2; }
scenario=$(cd "$(dirname "$scenario")" && pwd)/$(basename "$scenario")
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

# The output directory holds only what this script creates. A directory that
# is not empty and was not made by an earlier demo run is refused, and an
# earlier run's directory is cleared only of the files the demo writes.
marker=.weightd-demo
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/$marker" ]; then
	echo "demo.sh: $out exists, is not empty and was not made by demo.sh; choose another --out" >&2
	exit 2
fi

say() { printf '\033[1m%s\033[0m\n' "$*"; }

# ---- dependencies and build ---------------------------------------------------
cd "$top"
if [ "$install" = yes ]; then
	"$top/contrib/install-deps.sh"
fi
for tool in prometheus gnuplot curl python3; do
	command -v "$tool" >/dev/null || { echo "demo.sh: $tool is missing (run contrib/install-deps.sh)" >&2; exit 1; }
done
if [ ! -f Makefile ]; then
	say "building weightd"
	[ -x configure ] || ./autogen.sh
	./configure >/dev/null
fi
[ "$lb" = haproxy ] || make -j2 weightd weightd-sim >/dev/null

# ---- processes -----------------------------------------------------------------
mkdir -p "$out"
: >"$out/$marker"
for f in weightd.conf prometheus.yml check.log truth.csv audit.jsonl demo.png \
	weightd.log weightd-sim.log prometheus.log dynamic/weightd.yml; do
	rm -f "$out/$f"
done
rm -rf "$out/prom-data"
mkdir -p "$out/dynamic" "$out/prom-data"
PIDS=""
stopping=no
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	PIDS=""
}
trap cleanup EXIT
trap 'stopping=yes' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # URL WHAT
	i=0
	until curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "demo.sh: $2 did not come up; see $out/*.log" >&2; exit 1; }
		sleep 0.1
	done
}
if [ "$lb" = haproxy ]; then
	. "$top/contrib/demo-haproxy.sh"
	exit 0
fi
sim_port=$(free_port)
prom_port=$(free_port)
wd_port=$(free_port)
service=$(sed -n 's/.*service *= *"\([^"]*\)".*/\1/p' "$scenario" | head -n 1)

# weightd's config: the scenario's servers, 1 s ticks, 5 s rate windows.
backends=$(awk -F'"' '/name *= *"/ && /url *= *"/ {
	for (i = 1; i < NF; i++) { if ($i ~ /name *= *$/) n = $(i + 1); if ($i ~ /url *= *$/) u = $(i + 1) }
	w = 0; if (match($0, /weight *= *[0-9]+/)) { w = substr($0, RSTART, RLENGTH); sub(/.*= */, "", w) }
	if (w == 0) w = 1
	printf "%s      { name = \"%s\"; url = \"%s\"; weight = %d; }", sep, n, u, w; sep = ",\n" }' "$scenario")
WD_TOP_KEYS='policy     = { objective = "latency"; };' weightd_conf 1s "127.0.0.1:$wd_port" \
	"$out/audit.jsonl" "http://127.0.0.1:$prom_port" "type = \"file\"; path = \"$out/dynamic/weightd.yml\";" "  {
    name  = \"$service\";
    kind  = \"servers\";
    label = \"instance\";
    latency_query = \"histogram_quantile(0.95, sum by (le, instance) (rate(model_inference_duration_seconds_bucket[5s])))\";
    error_query   = \"sum by (instance) (rate(http_requests_total{code=~\\\"5..\\\"}[5s])) / sum by (instance) (rate(http_requests_total[5s]))\";
    rate_query    = \"sum by (instance) (rate(http_requests_total[5s]))\";
    backends = (
$backends
    );
  }" >"$out/weightd.conf"
./weightd -t -c "$out/weightd.conf" >/dev/null 2>"$out/check.log" || { cat "$out/check.log" >&2; exit 1; }

cat >"$out/prometheus.yml" <<EOC
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: fleet
    honor_labels: true
    static_configs: [ { targets: ['127.0.0.1:$sim_port'] } ]
  - job_name: weightd
    static_configs: [ { targets: ['127.0.0.1:$wd_port'] } ]
EOC

say "starting Prometheus (:$prom_port), weightd-sim (:$sim_port) and weightd (:$wd_port) in $out"
./weightd-sim -s "$scenario" -l "127.0.0.1:$sim_port" -f "$out/dynamic/weightd.yml" \
	-o "$out/truth.csv" -d "$duration" 2>"$out/weightd-sim.log" &
sim_pid=$!
PIDS="$PIDS $sim_pid"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prom-data" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn 2>"$out/prometheus.log" &
PIDS="$PIDS $!"
wait_http "http://127.0.0.1:$sim_port/metrics" weightd-sim
wait_http "http://127.0.0.1:$prom_port/-/ready" Prometheus
./weightd -c "$out/weightd.conf" 2>"$out/weightd.log" &
PIDS="$PIDS $!"

# ---- live view -----------------------------------------------------------------
view() {
	awk -F, -v dur="$duration" '
		NR > 1 { t = $1; row[$2] = $0; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
		END {
			printf "weightd demo   t = %5.0f s of %d   (Ctrl-C stops)\n\n", t, dur
			printf "%-16s %7s %7s %10s %8s\n", "backend", "weight", "share", "p95 (ms)", "errors"
			for (i = 1; i <= n; i++) {
				split(row[order[i]], f, ",")
				printf "%-16s %7s %6.1f%% %10.1f %7.1f%%\n", f[2], f[4], 100 * f[6], 1000 * f[8], 100 * f[9]
				fp = f[10]; fe = f[11]
			}
			printf "\nfleet p95 %.1f ms, errors %.1f%%\n", 1000 * fp, 100 * fe
		}' "$out/truth.csv"
}
start=$(date +%s)
while [ "$stopping" = no ] && kill -0 "$sim_pid" 2>/dev/null; do
	if [ "$live" = yes ] && [ "$(wc -l <"$out/truth.csv")" -gt 1 ]; then
		printf '\033[H\033[2J'
		view
	fi
	sleep 1
	[ $(($(date +%s) - start)) -le $((duration + 5)) ] || break
done
trap - INT TERM
cleanup

# ---- summary and plot ----------------------------------------------------------
echo
say "summary"
[ "$live" = yes ] || view
awk -F, 'NR > 1 && $5 == "" { n[$2]++; w[$2] += $4; p[$2] += $8; e[$2] += $9 }
	NR > 1 && !($1 in fl) { fl[$1] = $10; m++; s += $10 }
	END {
		printf "\n%-16s %12s %14s %12s\n", "backend", "mean weight", "mean p95 (ms)", "mean errors"
		for (b in n) printf "%-16s %12.1f %14.1f %11.1f%%\n", b, w[b] / n[b], 1000 * p[b] / n[b], 100 * e[b] / n[b]
		if (m) printf "\nfleet p95 averaged over %d s: %.1f ms\n", m, 1000 * s / m
	}' "$out/truth.csv"
if [ -s "$out/audit.jsonl" ]; then
	echo "weightd's decisions: $(wc -l <"$out/audit.jsonl") audited, $(grep -c '"action":"applied"' "$out/audit.jsonl" || true) applied, $(grep -c '"action":"ejected"' "$out/audit.jsonl" || true) ejections"
fi

backends=$(awk -F, 'NR > 1 { if (!($2 in s)) { s[$2] = 1; printf "%s ", $2 } }' "$out/truth.csv")
plot="plot"
sep=""
for b in $backends; do
	plot="$plot$sep '< grep \",$b,\" $out/truth.csv' using 1:4 with steps lw 2 title 'weight $b'"
	sep=","
done
plot="$plot, '< grep \",$(echo "$backends" | cut -d' ' -f1),\" $out/truth.csv' using 1:(1000*\$10) axes x1y2 with lines lw 1 lc rgb 'black' title 'fleet p95 (ms)'"
gnuplot <<EOG
set terminal pngcairo size 1000,500 noenhanced
set output '$out/demo.png'
set datafile separator ','
set title 'weightd demo: weights and fleet p95'
set xlabel 'time (s)'
set ylabel 'weight'
set y2label 'fleet p95 (ms)'
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
set key outside right
$plot
EOG
say "plot: $out/demo.png   logs and data: $out"
