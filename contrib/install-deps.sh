#!/bin/sh
# install-deps.sh: installs every Debian package weightd needs to build, test,
# run the demo and the benchmarks. Idempotent: does nothing when all are present.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
libcurl4-openssl-dev libcjson-dev libhiredis-dev libconfig-dev libyaml-dev
libmicrohttpd-dev libcunit1-dev libsystemd-dev
prometheus redis-server curl jq gnuplot-nox python3 python3-jsonschema python3-yaml
valgrind groff-base man-db faketime haproxy"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# Debian's packages may start their own Prometheus and Redis; they are left
# alone. weightd's tests and demo start their own servers on free loopback
# ports, so a monitoring host keeps its services running.
