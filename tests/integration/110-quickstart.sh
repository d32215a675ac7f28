#!/bin/sh
# 110-quickstart: the README's quick starts, run as written. Each code block
# the README marks with an HTML comment "<!-- quickstart: WHAT -->" is
# extracted and used for what the marker says; absolute paths move into a
# scratch directory and the example addresses onto free loopback ports. The
# parts are real (Prometheus, Redis, HAProxy, weightd and its systemd unit's
# commands) except Traefik, which these machines cannot install: weightd-sim
# --traefik-metrics stands in for it, its backends, its metrics entry point and
# its API. Asserts the README's promises: the pieces name each other
# consistently, weightd -t says ok, the dry run shows its decisions and writes
# nothing, the enabled weightd writes the file (valid under Traefik v3.7's
# schema) or the Redis keys Traefik reads, the simulated Traefik follows them
# and weightd sees that it did; HAProxy gets its weights through the runtime
# API. Every marked block is used.
. "$top_srcdir/tests/integration/common.sh"
command -v jq >/dev/null || skip "jq not installed"
python3 -c 'import yaml, jsonschema; yaml.CSafeLoader' 2>/dev/null ||
	skip "python3-yaml (with libyaml) and python3-jsonschema are needed"
CHECK="python3 $top_srcdir/tests/tools/output_check.py"
SCHEMA37=$top_srcdir/tests/fixtures/traefik-v3.7-file-provider.json
UNIT=$top_srcdir/contrib/systemd/weightd.service.in

# ---- the README's marked blocks ----------------------------------------------
# $WORK/qs/N.marker holds a block's marker, $WORK/qs/N.block its lines.
mkdir -p "$WORK/qs"
awk -v dir="$WORK/qs" '
	/^<!-- quickstart: .* -->$/ { sub(/^<!-- quickstart: /, ""); sub(/ -->$/, ""); marker = $0; next }
	/^```/ && inblock { inblock = 0; next }
	/^```/ && marker != "" { n++; inblock = 1; print marker >(dir "/" n ".marker"); close(dir "/" n ".marker");
		printf "" >(dir "/" n ".block"); marker = ""; next }
	inblock { print >>(dir "/" n ".block") }
	marker != "" && NF { marker = "" }    # a marker must sit right above its block
	END { print n + 0 >(dir "/count") }
' "$top_srcdir/README.md"
blocks=$(cat "$WORK/qs/count")
[ "$blocks" -ge 10 ] || fail "found only $blocks marked blocks in README.md"
[ "$(grep -c '^<!-- quickstart: ' "$top_srcdir/README.md")" -eq "$blocks" ] ||
	fail "a quickstart marker in README.md is not right above a code block"

# raw MARKER [N]: the Nth (default first) block marked MARKER, as written.
raw() {
	i=0
	k=0
	while [ "$i" -lt "$blocks" ]; do
		i=$((i + 1))
		if [ "$(cat "$WORK/qs/$i.marker")" = "$1" ]; then
			k=$((k + 1))
			if [ "$k" -eq "${2:-1}" ]; then
				echo "$i" >>"$WORK/qs/used"
				cat "$WORK/qs/$i.block"
				return 0
			fi
		fi
	done
	fail "README.md has no block number ${2:-1} marked \"quickstart: $1\""
}

# The scratch root and a port for each address the README uses.
Q=$WORK/root
mkdir -p "$Q"
SIM_PORT=$(free_port)
PROM_PORT=$(free_port)
LISTEN_PORT=$(free_port)
REDIS_PORT=$(free_port)
HAPROXY_PROM_PORT=$(free_port)

# moved: stdin with the paths under $Q and the example addresses on free
# ports: Traefik's metrics (8082) and API (8080) are the simulator's.
moved() {
	sed -e "s|/etc/|$Q/etc/|g" -e "s|/var/|$Q/var/|g" -e "s|/run/|$Q/run/|g" \
		-e "s|127\.0\.0\.1:8082|127.0.0.1:$SIM_PORT|g" -e "s|127\.0\.0\.1:8080|127.0.0.1:$SIM_PORT|g" \
		-e "s|127\.0\.0\.1:9090|127.0.0.1:$PROM_PORT|g" -e "s|127\.0\.0\.1:9477|127.0.0.1:$LISTEN_PORT|g" \
		-e "s|127\.0\.0\.1:6379|127.0.0.1:$REDIS_PORT|g" -e "s|127\.0\.0\.1:8405|127.0.0.1:$HAPROXY_PROM_PORT|g"
}

# put MARKER [N]: writes the block marked "file=PATH" to PATH, moved.
put() {
	path=${1#file=}
	mkdir -p "$Q$(dirname "$path")"
	raw "$1" "${2:-1}" | moved >"$Q$path"
}

# yget FILE EXPR: a value from a YAML file (EXPR indexes the document d).
yget() {
	python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# run_lines MARKER STEP: each line of the block, moved, run by sh with weightd
# (as the weightd user: as the test's user here) and redis-cli pointed at the
# build and the test's Redis; line i's stdout
# and stderr in $WORK/STEP.i.out and .err, its status in .rc.
run_lines() {
	i=0
	raw "$1" | moved >"$WORK/$2.lines"
	while IFS= read -r line; do
		i=$((i + 1))
		cmd=$(printf '%s\n' "$line" | sed -e "s|^sudo -u weightd weightd |$WEIGHTD |" \
			-e "s|^redis-cli |redis-cli -p $REDIS_PORT |")
		rc=0
		sh -c "$cmd" >"$WORK/$2.$i.out" 2>"$WORK/$2.$i.err" </dev/null || rc=$?
		echo "$rc" >"$WORK/$2.$i.rc"
	done <"$WORK/$2.lines"
}

# check_and_dry_run STEP OUT: the README's check and dry-run lines; -t says
# ok, the dry run decides for every backend (BACKENDS), shows the diff of what
# it would write and writes nothing (no OUT file).
check_and_dry_run() {
	run_lines run "$1"
	[ "$(cat "$WORK/$1.1.rc")" -eq 0 ] || fail "$1: weightd -t exit $(cat "$WORK/$1.1.rc"): $(cat "$WORK/$1.1.err")"
	grep -qx "$Q/etc/weightd/weightd.conf: ok" "$WORK/$1.1.out" || fail "$1: weightd -t printed $(cat "$WORK/$1.1.out")"
	grep -q '^queries per tick: ' "$WORK/$1.1.out" || fail "$1: weightd -t shows no query plan: $(cat "$WORK/$1.1.out")"
	ok "$1: weightd -t: ok, $(grep '^queries per tick: ' "$WORK/$1.1.out")"
	[ "$(cat "$WORK/$1.2.rc")" -eq 0 ] || fail "$1: the dry run exit $(cat "$WORK/$1.2.rc"): $(cat "$WORK/$1.2.err")"
	for b in $BACKENDS; do
		grep -Eq "^api +$b " "$WORK/$1.2.out" || fail "$1: the dry run shows no decision for $b: $(cat "$WORK/$1.2.out")"
	done
	grep -q '^+++ .*	weightd would write$' "$WORK/$1.2.out" ||
		fail "$1: the dry run shows no diff of what it would write: $(cat "$WORK/$1.2.out")"
	[ -z "${2:-}" ] || [ ! -e "$2" ] || fail "$1: the dry run wrote $2"
	ok "$1: the dry run decides for $(echo "$BACKENDS" | wc -w) backends, shows what it would write and writes nothing"
}

# qs_prepare: the README's preparation block: the user (which a test cannot
# create), the directories of the tmpfiles.d snippet under the scratch root,
# write access to Traefik's directory (which must exist by then).
qs_prepare() {
	raw prepare | moved >"$WORK/prepare"
	tmpfiles=$top_srcdir/contrib/systemd/tmpfiles.d/weightd.conf
	while IFS= read -r line; do
		case $line in
		'sudo systemd-sysusers weightd.conf && sudo systemd-tmpfiles --create weightd.conf')
			grep -q '^u weightd ' "$top_srcdir/contrib/systemd/sysusers.d/weightd.conf" ||
				fail "the sysusers.d snippet creates no weightd user"
			for d in $(awk '$1 == "d" { print $2 }' "$tmpfiles"); do
				mkdir -p "$Q$d"
			done ;;
		"sudo chgrp weightd $Q/etc/traefik/dynamic && sudo chmod g+w $Q/etc/traefik/dynamic")
			[ -d "$Q/etc/traefik/dynamic" ] || fail "the README prepares Traefik's directory before it exists" ;;
		*) fail "a preparation line the test does not know: $line" ;;
		esac
	done <"$WORK/prepare"
	for d in /var/lib/weightd /var/log/weightd; do
		[ -d "$Q$d" ] || fail "the preparation does not create $d"
	done
}

# qs_enable STEP: the README's enable block, then what it starts: the unit's
# ExecStartPre and ExecStart, with this build's weightd and the scratch root.
qs_enable() {
	raw enable >"$WORK/$1.enable"
	[ "$(cat "$WORK/$1.enable")" = 'sudo systemctl enable --now weightd' ] ||
		fail "$1: the README enables weightd differently now: $(cat "$WORK/$1.enable")"
	unit_cmd() {
		sed -n "s|^$1=||p" "$UNIT" | sed -e "s|@sbindir@/weightd|$WEIGHTD|" -e "s|@sysconfdir@|$Q/etc|"
	}
	pre=$(unit_cmd ExecStartPre)
	sh -c "$pre" >"$WORK/$1.pre" 2>&1 || fail "$1: ExecStartPre ($pre) failed: $(cat "$WORK/$1.pre")"
	start=$(unit_cmd ExecStart)
	case $start in "$WEIGHTD -c $Q/etc/weightd/weightd.conf") ;; *) fail "$1: ExecStart is now: $start" ;; esac
	: >"$WORK/weightd.log"
	start_weightd "$Q/etc/weightd/weightd.conf"
}

# weightd_metric SERIES: its value on weightd's /metrics ("" when absent).
weightd_metric() {
	curl -fsS --max-time 2 "http://127.0.0.1:$LISTEN_PORT/metrics" 2>/dev/null |
		awk -v s="$1" '$1 == s { print $2 }'
}

# start_prom_with FILE: a real Prometheus on PROM_PORT with FILE as its config.
start_prom_with() {
	PROM_URL=http://127.0.0.1:$PROM_PORT    # prom_ready's
	export PROM_URL
	rm -rf "$WORK/prom-data"
	prometheus --config.file="$1" --storage.tsdb.path="$WORK/prom-data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
	PROM_PID=$!
	track "$PROM_PID"
	wait_for "prometheus on port $PROM_PORT" 30 prom_ready
}
command -v prometheus >/dev/null || skip "prometheus not installed"

# ---- Traefik with the file provider -------------------------------------------
BACKENDS="10.0.0.11:8080 10.0.0.12:8080 10.0.0.13:8080"

put file=/etc/traefik/traefik.yml
T=$Q/etc/traefik/traefik.yml
put file=/etc/traefik/dynamic/routers.yml
put file=/etc/weightd/weightd.conf
raw prometheus >"$WORK/prometheus.readme.yml"
moved <"$WORK/prometheus.readme.yml" >"$WORK/prometheus.yml"

# The pieces name each other: Traefik watches the directory weightd writes
# into; Prometheus scrapes Traefik's metrics entry point; weightd reads back
# from Traefik's API entry point; the router points at weightd's service.
dir=$(yget "$T" 'd["providers"]["file"]["directory"]')
out=$(sed -n 's/^output *= .*path = "\([^"]*\)".*/\1/p' "$Q/etc/weightd/weightd.conf")
[ "$(dirname "$out")" = "$dir" ] || fail "weightd writes $out, Traefik watches $dir"
[ "$(dirname "$out")" = "$Q/etc/traefik/dynamic" ] || fail "the router file is not in Traefik's directory"
ep=$(yget "$T" 'd["metrics"]["prometheus"]["entryPoint"]')
metrics_addr=$(raw file=/etc/traefik/traefik.yml | python3 -c "import sys, yaml; print(yaml.safe_load(sys.stdin)['entryPoints']['$ep']['address'])")
target=$(yget "$WORK/prometheus.readme.yml" 'd["scrape_configs"][0]["static_configs"][0]["targets"][0]')
[ "$target" = "$metrics_addr" ] || fail "Prometheus scrapes $target, Traefik's metrics are on $metrics_addr"
api_addr=$(raw file=/etc/traefik/traefik.yml | python3 -c "import sys, yaml; d = yaml.safe_load(sys.stdin); assert d['api']['insecure']; print(d['entryPoints']['traefik']['address'])")
raw file=/etc/weightd/weightd.conf | grep -q "^traefik_api *= \"http://$api_addr\";" ||
	fail "weightd's traefik_api is not Traefik's API entry point $api_addr"
[ "$(yget "$Q/etc/traefik/dynamic/routers.yml" 'd["http"]["routers"]["api"]["service"]')" = api ] ||
	fail "the router does not point at service api"
grep -q 'name = "api";' "$Q/etc/weightd/weightd.conf" || fail "weightd does not manage service api"
ok "Traefik, Prometheus and weightd name each other's directory, entry points and service"

# The simulated Traefik: the three servers behind service api, following
# the directory's weightd.yml, serving Traefik's per-child metrics and API.
cat >"$WORK/qs.scn" <<'EOS'
seed = 7;
traefik = { service = "api"; };
load = { rate = 60.0; };
backends = (
  { name = "10.0.0.11:8080"; url = "http://10.0.0.11:8080"; capacity = 60.0; slots = 8; latency = "20ms"; weight = 1; },
  { name = "10.0.0.12:8080"; url = "http://10.0.0.12:8080"; capacity = 40.0; slots = 8; latency = "30ms"; weight = 1; },
  { name = "10.0.0.13:8080"; url = "http://10.0.0.13:8080"; capacity = 20.0; slots = 4; latency = "40ms"; weight = 1; }
);
EOS
SIM_LISTEN_PORT=$SIM_PORT start_sim "$WORK/qs.scn" -f "$out" --traefik-metrics
start_prom_with "$WORK/prometheus.yml"

qs_prepare
check_and_dry_run file "$out"
qs_enable file
wait_for "weightd's first write of $out" 20 test -s "$out"
$CHECK validate "$out" "$SCHEMA37" >"$WORK/validate" || fail "$out is not valid for Traefik v3.7"
python3 - "$out" $BACKENDS <<'EOP' || fail "$out: $(cat "$out")"
import sys, yaml
svcs = yaml.safe_load(open(sys.argv[1]))["http"]["services"]
children = svcs["api"]["weighted"]["services"]
for b in sys.argv[2:]:
    child = "api--" + b.replace(":", "-")
    assert any(c["name"] == child for c in children), "no child %s in the parent api" % child
    assert svcs[child]["loadBalancer"]["servers"] == [{"url": "http://" + b}], "child %s: %r" % (child, svcs[child])
assert sum(c["weight"] for c in children) == 100, children
EOP
# The directory as Traefik merges it: the router and weightd's services.
python3 - "$SCHEMA37" "$dir"/*.yml <<'EOP' || fail "the dynamic directory is not a valid configuration"
import json, sys, yaml, jsonschema
merged = {"http": {}}
for f in sys.argv[2:]:
    for k, v in (yaml.safe_load(open(f)) or {}).get("http", {}).items():
        merged["http"].setdefault(k, {}).update(v)
jsonschema.validate(merged, json.load(open(sys.argv[1])))
for name, r in merged["http"]["routers"].items():
    assert r["service"] in merged["http"]["services"], "router %s: no service %s" % (name, r["service"])
EOP
ok "weightd wrote the weighted service api over one child per server; with the router, valid for Traefik v3.7"
sim_follows() {
	for b in $BACKENDS; do
		w=$(sim_weight "$b")
		[ -n "$w" ] && [ "$w" -gt 0 ] || return 1
	done
}
wait_for "the simulated Traefik to follow the file" 20 sim_follows
applied() { [ "$(weightd_metric 'weightd_traefik_applied{service="api"}')" = 1 ]; }
wait_for "weightd to see that Traefik applied its weights" 60 applied
[ -s "$Q/var/log/weightd/audit.jsonl" ] || fail "no audit log at the README's path"
jq -e -s '[.[] | select(.service == "api")] | length >= 3' "$Q/var/log/weightd/audit.jsonl" >/dev/null ||
	fail "the audit log has no decision for api"
ok "Traefik follows the file, weightd reads it back, the audit log records each decision"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
stop_sim

# ---- Traefik with the Redis provider ------------------------------------------
command -v redis-server >/dev/null || skip "redis-server not installed"
start_redis
raw traefik-redis >"$WORK/traefik-redis.yml"
ep=$(yget "$WORK/traefik-redis.yml" 'd["providers"]["redis"]["endpoints"][0]')
root=$(yget "$WORK/traefik-redis.yml" 'd["providers"]["redis"]["rootKey"]')
raw "replace-line=output file=/etc/weightd/weightd.conf" >"$WORK/output.line"
grep -q "address = \"$ep\"" "$WORK/output.line" || fail "weightd's Redis is not Traefik's $ep"
[ "$root" = traefik ] || fail "Traefik's rootKey $root is not weightd's default root_key"
! grep -q 'root_key' "$WORK/output.line" || fail "the README sets root_key: check it against rootKey"
sed -i "s|^output .*|$(moved <"$WORK/output.line" | sed 's/[&|]/\\&/g')|" "$Q/etc/weightd/weightd.conf"
grep -q 'type = "redis"' "$Q/etc/weightd/weightd.conf" || fail "the output line was not replaced"

run_lines redis redis
n=$(wc -l <"$WORK/redis.lines")
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	[ "$(cat "$WORK/redis.$i.rc")" -eq 0 ] && grep -qx OK "$WORK/redis.$i.out" ||
		fail "redis step $i ($(sed -n "${i}p" "$WORK/redis.lines")): $(cat "$WORK/redis.$i.out" "$WORK/redis.$i.err")"
done
redis-cli -p "$REDIS_PORT" CONFIG GET notify-keyspace-events | tail -n 1 | grep -q 'K' ||
	fail "keyspace notifications are off after the README's CONFIG SET"
[ "$(redis-cli -p "$REDIS_PORT" GET traefik/http/routers/api/service)" = api ] || fail "the router's keys are missing"
ok "Redis: keyspace notifications on, the router's keys set"

SIM_LISTEN_PORT=$SIM_PORT start_sim "$WORK/qs.scn" --redis "127.0.0.1:$REDIS_PORT" --traefik-metrics

check_and_dry_run redis ""
[ -z "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'traefik/http/services/*')" ] || fail "the dry run wrote to Redis"
qs_enable redis
has_parent() {
	[ -n "$(redis-cli -p "$REDIS_PORT" GET traefik/http/services/api/weighted/services/0/name)" ]
}
wait_for "weightd's first write to Redis" 20 has_parent
$CHECK kvvalidate "$REDIS_PORT" traefik "$SCHEMA37" >"$WORK/kv" || fail "the Redis keys are not a valid Traefik v3.7 configuration"
[ "$(redis-cli -p "$REDIS_PORT" GET traefik/http/routers/api/service)" = api ] || fail "weightd's write removed the router"
! log_has 'notify-keyspace-events' || fail "weightd warns about keyspace notifications: $(grep notify-keyspace "$WORK/weightd.log")"
wait_for "the simulated Traefik to follow Redis" 20 sim_follows
ok "weightd wrote service api to Redis beside the router, valid for Traefik v3.7, and Traefik follows"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"

# ---- HAProxy ------------------------------------------------------------------
command -v haproxy >/dev/null || skip "haproxy not installed"
BACKENDS="api-1 api-2 api-3"
mkdir -p "$Q/run/haproxy"
raw haproxy-cfg | moved >"$WORK/haproxy.cfg"
haproxy -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy-check.log" 2>&1 ||
	fail "the README's haproxy.cfg is invalid: $(cat "$WORK/haproxy-check.log")"
haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
track "$HAPROXY_PID"
SOCK=$Q/run/haproxy/admin.sock
runtime_api() { python3 "$top_srcdir/tests/integration/haproxy_api.py" "$SOCK" "$1"; }
wait_for "HAProxy's runtime API" 10 sh -c "python3 '$top_srcdir/tests/integration/haproxy_api.py' '$SOCK' 'show info' | grep -q '^Pid: '"
wait_for "HAProxy's exporter" 10 http_ok "http://127.0.0.1:$HAPROXY_PROM_PORT/metrics"
# Prometheus scrapes the exporter: step 3's job with its address.
stop_prometheus
sed "s|127\.0\.0\.1:8082|127.0.0.1:8405|" "$WORK/prometheus.readme.yml" | moved >"$WORK/prometheus.yml"
start_prom_with "$WORK/prometheus.yml"

put file=/etc/weightd/weightd.conf 2
grep -q "address = \"$SOCK\"" "$Q/etc/weightd/weightd.conf" || fail "weightd's socket is not haproxy.cfg's"
check_and_dry_run haproxy ""
for s in $BACKENDS; do
	w=$(runtime_api "get weight api/$s")
	[ "${w%% *}" = 1 ] || fail "HAProxy's api/$s after the dry run: $w (want its start weight 1)"
done
qs_enable haproxy
weights_set() {
	[ "$(runtime_api 'get weight api/api-1' | cut -d' ' -f1)" = 34 ] &&
		[ "$(runtime_api 'get weight api/api-2' | cut -d' ' -f1)" = 33 ] &&
		[ "$(runtime_api 'get weight api/api-3' | cut -d' ' -f1)" = 33 ]
}
wait_for "weightd to set the weights the README promises (34, 33, 33)" 20 weights_set
ok "HAProxy: weightd set api/api-1..3 to 34/33/33 through the runtime API"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"

# Every marked block was used.
[ "$(sort -u "$WORK/qs/used" | wc -l)" -eq "$blocks" ] ||
	fail "README blocks never used by this test: $(seq 1 "$blocks" | grep -vxF -f "$WORK/qs/used" | tr '\n' ' ')"
ok "all $blocks marked README blocks ran"
