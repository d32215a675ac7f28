#!/bin/sh
# 068-dry-run-redis-diff: against a real Redis and Prometheus, the dry run
# prints the Redis commands it would send as a diff against the keys Redis
# holds now (a changed weight: -SET old / +SET new; a drained server's keys:
# -SET / +DEL), reading them with read commands only (MONITOR) and leaving
# the keyspace as it was; a real run then leaves Redis as the diff says.
. "$top_srcdir/tests/integration/common.sh"

set_values "app a 0.1 0" "app b 0.3 0" "app c 0.2 0"
start_exporter_prometheus
start_redis --notify-keyspace-events KEA
R="redis-cli -p $REDIS_PORT"
WD_PORT=$(free_port)
conf() {
	write_obs_config "$WORK/weightd.conf" "{ name = \"app\"; label = \"backend\"; backends = (
    { name = \"a\"; url = \"http://a\"; }, { name = \"b\"; url = \"http://b\"; },
    { name = \"c\"; url = \"http://c\";$1 } ); }"
	sed -i "s|output = .*|output = { type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; root_key = \"tk\"; };|" \
		"$WORK/weightd.conf"
}
conf ""
"$WEIGHTD" -c "$WORK/weightd.conf" --once 2>>"$WORK/weightd.log" >/dev/null || fail "first write"
K=tk/http/services/app/loadBalancer/servers
[ "$($R get "$K/2/url")" = http://c ] || fail "c not written"

# b gets fast and c is drained: a dry run, watched by MONITOR.
set_values "app a 0.3 0" "app b 0.1 0" "app c 0.2 0"
b_fast() {
	[ "$(prom_query 'obs_latency_seconds{backend="b"}' | jq -r '.data.result[0].value[1]')" = 0.1 ]
}
wait_for "Prometheus to see b fast" 20 b_fast
conf " pin = 0;"
$CHECK kv "$REDIS_PORT" '*' >"$WORK/kv.before"
$R monitor >"$WORK/monitor.log" &
MON=$!
track "$MON"
wait_for "MONITOR" 5 grep -q OK "$WORK/monitor.log"
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run >"$WORK/dry.out" 2>>"$WORK/weightd.log" ||
	fail "weightd --once --dry-run failed"
$R ping >/dev/null
wait_for "MONITOR to see the ping" 5 grep -q '"ping"' "$WORK/monitor.log"
kill "$MON"
wait "$MON" 2>/dev/null || true
untrack "$MON"
sed -n '/^--- /,$p' "$WORK/dry.out" >"$WORK/dry.diff"
cat "$WORK/dry.diff"
[ "$(head -n 2 "$WORK/dry.diff" | tr '\t' ' ')" = "--- redis 127.0.0.1:$REDIS_PORT db 0 now
+++ redis 127.0.0.1:$REDIS_PORT db 0 weightd would write" ] || fail "the diff's headers"
old_b=$($R get "$K/1/weight")
grep -qx -- "-SET $K/1/weight $old_b" "$WORK/dry.diff" || fail "the diff does not remove b's weight $old_b"
grep -q -- "^+SET $K/1/weight [0-9]*\$" "$WORK/dry.diff" || fail "the diff does not set b's new weight"
grep -qx -- "-SET $K/2/url http://c" "$WORK/dry.diff" || fail "the diff does not show c's url as there now"
grep -qx -- "+DEL $K/2/url" "$WORK/dry.diff" || fail "the diff does not delete the drained server's url"
writes=$(grep '^[0-9]' "$WORK/monitor.log" | grep -Eiv '"(ping|config" "get|info|smembers|scan|get)"') || true
[ -z "$writes" ] || fail "the dry run sent more than reads: $writes"
grep -qi '"get" "'"$K"'/1/weight"' "$WORK/monitor.log" || fail "the dry run did not read b's weight"
$CHECK kv "$REDIS_PORT" '*' | cmp -s - "$WORK/kv.before" || fail "the dry run changed the keyspace"
ok "dry run: the Redis commands as a diff against the keys; reads only; keyspace unchanged"

# The real run leaves Redis as the diff's new side says.
"$WEIGHTD" -c "$WORK/weightd.conf" --once 2>>"$WORK/weightd.log" >/dev/null || fail "real run"
grep -E '^[+ ](SET|DEL) ' "$WORK/dry.diff" | while read -r verb key value; do
	case $verb in
	+SET | SET) [ "$($R get "$key")" = "$value" ] || fail "$key is $($R get "$key"), the diff said $value" ;;
	+DEL) [ "$($R exists "$key")" = 0 ] || fail "$key still there" ;;
	esac
done || exit 1
ok "the real run wrote what the dry run's diff said"
