#!/bin/sh
# queries-per-tick.sh BUILDDIR RESULTS: how many queries one tick sends to
# Prometheus, and how large they are, for fleets of 1, 10 and 1,000 services
# of 3 backends, as `weightd -t` plans them:
#  - custom, per service: each service's own three queries (${service} in the
#    templates makes every text distinct);
#  - custom, shared: every service with the same three texts (sent once);
#  - metrics = "traefik": the built-in fleet-wide queries.
# Writes RESULTS/queries-per-tick.md.
set -eu
build=$1
out=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weightd-qpt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# conf N FLAVOUR: a config of N services.
conf() {
	{
		echo 'prometheus = { url = "http://127.0.0.1:9090"; };'
		echo 'output = { type = "file"; path = "/tmp/weightd-qpt.yml"; };'
		case $2 in
		traefik) echo 'metrics = "traefik";' ;;
		per-service) echo 'policy = {
  latency_query = "histogram_quantile(0.95, sum by (le, instance) (rate(http_request_duration_seconds_bucket{service=\"${service}\"}[1m])))";
  error_query = "sum by (instance) (rate(http_requests_total{service=\"${service}\",code=~\"5..\"}[1m])) / sum by (instance) (rate(http_requests_total{service=\"${service}\"}[1m]))";
  rate_query = "sum by (instance) (rate(http_requests_total{service=\"${service}\"}[1m]))"; };' ;;
		shared) echo 'policy = {
  latency_query = "histogram_quantile(0.95, sum by (le, instance) (rate(http_request_duration_seconds_bucket[1m])))";
  error_query = "sum by (instance) (rate(http_requests_total{code=~\"5..\"}[1m])) / sum by (instance) (rate(http_requests_total[1m]))";
  rate_query = "sum by (instance) (rate(http_requests_total[1m]))"; };' ;;
		esac
		echo 'services = ('
		i=1
		while [ "$i" -le "$1" ]; do
			[ "$i" -gt 1 ] && echo ','
			echo "{ name = \"svc$i\"; backends = ( { name = \"10.0.$((i / 250)).$((i % 250)):8080\"; url = \"http://a$i\"; },"
			echo "  { name = \"10.1.$((i / 250)).$((i % 250)):8080\"; url = \"http://b$i\"; }, { name = \"10.2.$((i / 250)).$((i % 250)):8080\"; url = \"http://c$i\"; } ); }"
			i=$((i + 1))
		done
		echo ');'
	} >"$tmp/c.conf"
}

{
	echo "| services | custom, per service | custom, shared texts | metrics = \"traefik\" | traefik: largest query |"
	echo "|---:|---:|---:|---:|---:|"
	for n in 1 10 1000; do
		row="| $n"
		for f in per-service shared traefik; do
			conf "$n" "$f"
			"$build/weightd" -t -c "$tmp/c.conf" >"$tmp/t"
			q=$(sed -n 's/^queries per tick: //p' "$tmp/t")
			row="$row | $q"
		done
		bytes=$(grep -v '^#\|^queries per tick' "$tmp/t" | awk '{ if (length($0) > m) m = length($0) } END { print m }')
		echo "$row | $bytes bytes |"
	done
} >"$out/queries-per-tick.md"
cat "$out/queries-per-tick.md"
