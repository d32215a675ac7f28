#!/bin/sh
# 130-output-haproxy: the HAProxy output against a real haproxy through its
# runtime API (TCP and UNIX socket): weights set, an unchanged tick sends
# nothing, a drain by "state drain" (the weight is kept, never 0) undone by
# "state ready", weights changed behind weightd's back and a restarted
# HAProxy both rewritten with a warning, and every refusal (a server HAProxy
# lacks, a url that is not the server, a static algorithm, HAProxy down)
# an error that changes nothing.
. "$top_srcdir/tests/integration/common.sh"

start_haproxy "
backend app
  balance roundrobin
  server s1 127.0.0.1:18001 weight 10
  server s2 127.0.0.1:18002 weight 10
  server s3 localhost:18003 weight 10
backend be_api
  balance leastconn
  server api-1 127.0.0.1:18011
  server api-2 127.0.0.1:18012
backend hashed
  balance source
  server h1 127.0.0.1:18021
  server h2 127.0.0.1:18022
"

# conf FILE OUTPUT [APP_EXTRA_BACKEND] [S1_URL]: service app (s1 s2 s3) and
# service api on HAProxy backend be_api with its own server names.
conf() {
	write_outdrv_config "$1" "$2" <<SERVICES
  { name = "app"; latency_query = "up";
    backends = (
      { name = "s1"; url = "${4:-http://127.0.0.1:18001}"; weight = 50; },
      { name = "s2"; weight = 30; },
      { name = "s3"; url = "http://localhost:18003/"; weight = 20; }${3:-}
    ); },
  { name = "api"; latency_query = "up"; haproxy_backend = "be_api";
    backends = (
      { name = "10.1.0.1:80"; haproxy_server = "api-1"; weight = 60; },
      { name = "10.1.0.2:80"; haproxy_server = "api-2"; weight = 40; }
    ); }
SERVICES
}
TCP="type = \"haproxy\"; address = \"$HAPROXY_API\"; timeout = \"2s\";"
conf "$WORK/a.conf" "$TCP"
"$WEIGHTD" -t -c "$WORK/a.conf" >/dev/null || fail "test config invalid"

weights() {
	echo "$(haproxy_weight app/s1) $(haproxy_weight app/s2) $(haproxy_weight app/s3) $(haproxy_weight be_api/api-1) $(haproxy_weight be_api/api-2)"
}

start_outdrv "$WORK/a.conf"
send_outdrv write
[ "$REPLY" = written ] || fail "first write: $REPLY"
[ "$(weights)" = "50 30 20 60 40" ] || fail "weights after the first write: $(weights)"
send_outdrv write
[ "$REPLY" = unchanged ] || fail "an unchanged tick sent commands: $REPLY"
ok "weights set through the runtime API; an unchanged tick sends nothing"

# Drain s2: "state drain", its weight untouched; then back with "state ready".
send_outdrv "write app=70,0,30"
[ "$REPLY" = written ] || fail "drain write: $REPLY"
[ "$(haproxy_admin app s2)" = 8 ] || fail "s2 admin state $(haproxy_admin app s2), not drain (8)"
[ "$(weights)" = "70 30 30 60 40" ] || fail "weights after the drain: $(weights) (s2 must keep 30)"
send_outdrv "write app=60,25,15"
[ "$REPLY" = written ] || fail "undrain write: $REPLY"
[ "$(haproxy_admin app s2)" = 0 ] || fail "s2 admin state $(haproxy_admin app s2) after undrain, not 0"
[ "$(weights)" = "60 25 15 60 40" ] || fail "weights after the undrain: $(weights)"
ok "drain by state drain (weight kept), undone by state ready"

# Someone changes a weight through the runtime API: rewritten, with a warning.
haproxy_api "set server app/s1 weight 5" >/dev/null
send_outdrv "write app=60,25,15"
[ "$REPLY" = written ] || fail "rewrite after a manual change: $REPLY"
[ "$(haproxy_weight app/s1)" = 60 ] || fail "s1 not rewritten: $(haproxy_weight app/s1)"
grep -q "weights are not those weightd wrote last" "$WORK/outdrv.log" ||
	fail "no warning for the manual change: $(cat "$WORK/outdrv.log")"
ok "a weight changed behind weightd's back is noticed and rewritten"

# HAProxy restarts: weights back to the config file's (10), rewritten at the
# next write, and the restart named in the log.
restart_haproxy
[ "$(haproxy_weight app/s1)" = 10 ] || fail "HAProxy did not restart with its config's weights"
send_outdrv "write app=60,25,15"
[ "$REPLY" = written ] || fail "write after the restart: $REPLY"
[ "$(weights)" = "60 25 15 60 40" ] || fail "weights after the restart: $(weights)"
grep -q "HAProxy restarted or reloaded" "$WORK/outdrv.log" ||
	fail "the restart went unnoticed: $(cat "$WORK/outdrv.log")"
ok "a restarted HAProxy is noticed and rewritten"

# HAProxy down: a clear error, and the next write after it is back goes through.
stop_haproxy
send_outdrv "write app=55,25,20"
case $REPLY in
"error: cannot connect to HAProxy's runtime API at $HAPROXY_API: Connection refused") ;;
*) fail "HAProxy down: $REPLY" ;;
esac
start_haproxy_again
send_outdrv "write app=55,25,20"
[ "$REPLY" = written ] || fail "write after HAProxy came back: $REPLY"
[ "$(weights)" = "55 25 20 60 40" ] || fail "weights after HAProxy came back: $(weights)"
stop_outdrv
ok "HAProxy down: one clear error; written when it is back"

# Refusals change nothing: a server HAProxy lacks (s4), a url that is not
# the server's address, a backend on a static algorithm.
before=$(weights)
conf "$WORK/s4.conf" "$TCP" ",
      { name = \"s4\"; weight = 10; }"
out=$(run_outdrv "$WORK/s4.conf" 'write app=40,30,20,10')
[ "$out" = 'error: service "app": HAProxy backend "app" has no server "s4"' ] ||
	fail "missing server: $out"
conf "$WORK/url.conf" "$TCP" "" "http://127.0.0.1:18009"
out=$(run_outdrv "$WORK/url.conf" 'write app=40,40,20')
case $out in
*'backend "s1": url http://127.0.0.1:18009 is 127.0.0.1:18009 but HAProxy'"'"'s server "s1" is at 127.0.0.1:18001'*) ;;
*) fail "url mismatch: $out" ;;
esac
[ "$(weights)" = "$before" ] || fail "a refused write changed weights: $before -> $(weights)"
ok "a missing server and a wrong url are refused before anything is sent"

write_outdrv_config "$WORK/hashed.conf" "$TCP" <<SERVICES
  { name = "hashed"; latency_query = "up";
    backends = ( { name = "h1"; weight = 70; }, { name = "h2"; weight = 30; } ); }
SERVICES
out=$(run_outdrv "$WORK/hashed.conf" write)
case $out in
'error: HAProxy '"$HAPROXY_API"': "set server hashed/h1 weight 70" refused: Backend is using a static LB algorithm'*) ;;
*) fail "static algorithm: $out" ;;
esac
ok "HAProxy's refusal is the error: $out"

# The UNIX socket, and the dry run prints the commands it would send.
conf "$WORK/unix.conf" "type = \"haproxy\"; address = \"$HAPROXY_SOCK\";"
[ "$(run_outdrv "$WORK/unix.conf" 'write app=34,33,33')" = written ] || fail "write over the UNIX socket"
[ "$(haproxy_weight app/s3)" = 33 ] || fail "UNIX socket write not applied"
printf 'write app=90,0,10\npreview\ndiff\nquit\n' | "$OUTDRV" -n "$WORK/unix.conf" >"$WORK/dry.all" 2>"$WORK/dry.log"
sed '/^\.$/q' "$WORK/dry.all" >"$WORK/dry.out"
sed '1,/^\.$/d' "$WORK/dry.all" >"$WORK/dry.diff"
cat >"$WORK/dry.want" <<'EOF'
written
set server app/s1 weight 90
set server app/s2 state drain
set server app/s3 weight 10
set server be_api/api-1 weight 60
set server be_api/api-2 weight 40
.
EOF
diff "$WORK/dry.want" "$WORK/dry.out" || fail "dry run preview"
# The diff against what HAProxy holds now, read with "show servers state".
[ "$(head -n 2 "$WORK/dry.diff" | tr '\t' ' ')" = "--- haproxy $HAPROXY_SOCK now
+++ haproxy $HAPROXY_SOCK weightd would write" ] || fail "the diff's headers: $(cat "$WORK/dry.diff")"
for l in '-set server app/s1 weight 34' '-set server app/s2 weight 33' '-set server app/s3 weight 33' \
	'+set server app/s1 weight 90' '+set server app/s2 state drain' '+set server app/s3 weight 10'; do
	grep -qxF -- "$l" "$WORK/dry.diff" || fail "the diff lacks \"$l\": $(cat "$WORK/dry.diff")"
done
[ "$(haproxy_weight app/s3)" = 33 ] || fail "the dry run changed HAProxy"
ok "UNIX socket; the dry run prints the commands and their diff against HAProxy, and changes nothing"
