# demo-haproxy.sh: the demo on a real load balancer, sourced by
# contrib/demo.sh --lb haproxy (which has parsed the options, installed and
# configured the build, sourced contrib/realload/loop-config.sh and defined
# say, free_port, wait_http, cleanup and PIDS). Three realbackends of
# different capacity (200, 100 and 50 requests a second), a real HAProxy (leastconn, equal weights at start) in front of
# them, open-loop load of 180 requests a second, Prometheus scraping HAProxy
# and the backends every second, and weightd writing the weights through
# HAProxy's runtime API. Half-way the fastest backend slows to a third of its
# capacity. Shows weightd's view live; at the end, the client's latency and
# a plot of the weights and the client-side p95.
make -j2 weightd realbackend openload >/dev/null
command -v haproxy >/dev/null || { echo "demo.sh: haproxy is missing (run contrib/install-deps.sh)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/prom-data"
trap cleanup EXIT
trap 'stopping=yes' INT TERM

api_port=$(free_port)
http_port=$(free_port)
hprom_port=$(free_port)
prom_port=$(free_port)
wd_port=$(free_port)
servers=""
jobs=""
backends=""
for b in "s1 4 20ms" "s2 4 40ms" "s3 2 40ms"; do
	set -- $b
	port=$(free_port)
	./realbackend -l "127.0.0.1:$port" -w "$2" -t "$3" -S "$port" 2>"$out/backend-$1.log" &
	PIDS="$PIDS $!"
	eval "port_$1=$port"
	servers="$servers
  server $1 127.0.0.1:$port weight 33"
	jobs="$jobs
      - { targets: ['127.0.0.1:$port'], labels: { server: '$1' } }"
	backends="$backends $1=http://127.0.0.1:$port"
done

real_haproxy_config "127.0.0.1:$api_port" "127.0.0.1:$http_port" "127.0.0.1:$hprom_port" "" \
	"backend app
  balance leastconn$servers" >"$out/haproxy.cfg"

cat >"$out/prometheus.yml" <<EOC
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: haproxy
    static_configs: [ { targets: ['127.0.0.1:$hprom_port'] } ]
  - job_name: backends
    static_configs:$jobs
  - job_name: weightd
    static_configs: [ { targets: ['127.0.0.1:$wd_port'] } ]
EOC

# Latency from the backends' own histograms (a 5 s window: fresh for every
# server whatever its traffic), errors and rate from HAProxy's exporter.
# shellcheck disable=SC2086
real_loop_config 1s 5s "127.0.0.1:$wd_port" "$out/audit.jsonl" "http://127.0.0.1:$prom_port" \
	"127.0.0.1:$api_port" $backends >"$out/weightd.conf"
./weightd -t -c "$out/weightd.conf" >/dev/null 2>"$out/check.log" || { cat "$out/check.log" >&2; exit 1; }

say "starting 3 backends, HAProxy (:$http_port, runtime API :$api_port), Prometheus (:$prom_port) and weightd (:$wd_port) in $out"
haproxy -db -f "$out/haproxy.cfg" >"$out/haproxy.log" 2>&1 &
PIDS="$PIDS $!"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prom-data" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn 2>"$out/prometheus.log" &
PIDS="$PIDS $!"
wait_http "http://127.0.0.1:$hprom_port/metrics" HAProxy
wait_http "http://127.0.0.1:$prom_port/-/ready" Prometheus
./weightd -c "$out/weightd.conf" 2>"$out/weightd.log" &
PIDS="$PIDS $!"
./openload -r 180 -d "${duration}s" -t 10s -o "$out/requests.csv" "http://127.0.0.1:$http_port/work" \
	>"$out/openload.out" 2>"$out/openload.log" &
load_pid=$!
PIDS="$PIDS $load_pid"

# weightd's latest decision per backend, from its audit log
view() {
	printf 'weightd demo on HAProxy   t = %4d s of %d   (Ctrl-C stops)%s\n\n' "$1" "$duration" "$2"
	printf '%-8s %7s %10s %8s %10s\n' backend weight "p95 (ms)" errors "req/s"
	tail -n 30 "$out/audit.jsonl" 2>/dev/null | awk '
		function num(k,   m) { return match($0, "\"" k "\":[-0-9.e]+") ? substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3) : "" }
		match($0, /"backend":"[^"]*"/) { b = substr($0, RSTART + 11, RLENGTH - 12); row[b] = $0; if (!(b in seen)) { seen[b] = 1; order[++n] = b } }
		END { for (i = 1; i <= n; i++) { $0 = row[order[i]]
			printf "%-8s %7s %10.1f %7.1f%% %10.1f\n", order[i], num("new"), 1000 * num("latency"), 100 * num("error_ratio"), num("rate") } }'
}
start=$(date +%s)
slowed=no
while [ "$stopping" = no ] && kill -0 "$load_pid" 2>/dev/null; do
	t=$(($(date +%s) - start))
	if [ "$slowed" = no ] && [ "$t" -ge $((duration / 2)) ]; then
		curl -fsS "http://127.0.0.1:$port_s1/control?service=60ms" >/dev/null
		slowed=yes
	fi
	note=""
	[ "$slowed" = no ] || note="   (s1 slowed from 20 to 60 ms at $((duration / 2)) s)"
	if [ "$live" = yes ]; then
		printf '\033[H\033[2J'
		view "$t" "$note"
	fi
	sleep 1
done
kill "$load_pid" 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
trap - INT TERM
cleanup

# ---- summary and plot ----------------------------------------------------------
echo
say "summary"
view "$(($(date +%s) - start))" ""
echo
echo "client side, every request: $(cat "$out/openload.out")"
half=$((duration / 2))
echo "client side, before the slowdown: $(./openload -s "$out/requests.csv" -b "$half")"
echo "client side, after it:            $(./openload -s "$out/requests.csv" -a "$half")"
# weights per tick from the audit, client p95 per 5 s from the requests
awk 'match($0, /"tick":[0-9]+/) { t = substr($0, RSTART + 7, RLENGTH - 7) }
	match($0, /"backend":"[^"]*"/) { b = substr($0, RSTART + 11, RLENGTH - 12) }
	match($0, /"new":[0-9]+/) { w[t, b] = substr($0, RSTART + 6, RLENGTH - 6); if (t > max) max = t }
	END { for (t = 1; t <= max; t++) print t, w[t, "s1"], w[t, "s2"], w[t, "s3"] }' \
	"$out/audit.jsonl" >"$out/weights.dat"
t=0
: >"$out/p95.dat"
while [ "$t" -lt "$duration" ]; do
	./openload -s "$out/requests.csv" -a "$t" -b $((t + 5)) |
		awk -v t="$t" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
			v["sent"] > 0 { print t + 2.5, 1000 * v["p95_s"] }' >>"$out/p95.dat"
	t=$((t + 5))
done
gnuplot <<EOG
set terminal pngcairo size 1000,500 noenhanced
set output '$out/demo.png'
set title 'weightd on HAProxy (leastconn): weights and client-side p95 (s1 slowed at ${half} s)'
set xlabel 'time (s)'
set ylabel 'weight'
set y2label 'client p95 over 5 s (ms)'
set y2tics
set ytics nomirror
set yrange [0:*]
set logscale y2
set key outside right
plot '$out/weights.dat' using 1:2 with steps lw 2 title 'weight s1', \
     '' using 1:3 with steps lw 2 title 'weight s2', \
     '' using 1:4 with steps lw 2 title 'weight s3', \
     '$out/p95.dat' using 1:2 axes x1y2 with linespoints lw 1 lc rgb 'black' title 'client p95 (ms)'
EOG
say "plot: $out/demo.png   logs and data: $out"
