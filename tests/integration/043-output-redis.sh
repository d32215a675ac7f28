#!/bin/sh
# 043-output-redis: the Redis output against a real redis-server: Traefik's
# KV layout and values, a removed backend's and a removed service's keys
# deleted in the same MULTI/EXEC as the MSET (found again after a restart
# through weightd's record of the keys it wrote), keys weightd did not write
# left alone even under a managed service, db selection, the
# notify-keyspace-events warning, and AUTH with requirepass and an ACL user.
. "$top_srcdir/tests/integration/common.sh"

start_redis --notify-keyspace-events KEA
R="redis-cli -p $REDIS_PORT"
OUT="type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\";"
write_output_config "$WORK/a.conf" "$OUT"
"$WEIGHTD" -t -c "$WORK/a.conf" >/dev/null || fail "test config invalid"

# An operator's own settings under the managed services (weightd renders
# only servers, weighted children and the options its config gives), and
# keys of things weightd does not manage. Each "once" is a fresh weightd
# process: every step below is also a restart.
OPERATOR='traefik/http/services/app/loadBalancer/passHostHeader = false
traefik/http/services/app/loadBalancer/serversTransport = tls@file
traefik/http/services/app/loadBalancer/sticky/cookie/name = affinity
traefik/http/services/app/loadBalancer/healthCheck/headers/X-Probe = weightd
traefik/http/services/canary/weighted/sticky/cookie/name = canary-affinity
traefik/http/services/app/loadBalancer/responseForwarding/flushInterval = 100ms'
echo "$OPERATOR" | while read -r k _ v; do $R set "$k" "$v" >/dev/null; done
$R set traefik/http/routers/r/rule 'Host(`x`)' >/dev/null
$R set traefik/http/services/other/loadBalancer/servers/0/url http://other:1 >/dev/null

[ "$(run_outdrv "$WORK/a.conf" write)" = written ] || fail "first write: $(cat "$WORK/outdrv.log")"
$CHECK kv "$REDIS_PORT" 'traefik/*' >"$WORK/kv"
cat >"$WORK/want" <<'WANT'
traefik/http/routers/r/rule = Host(`x`)
traefik/http/services/app/loadBalancer/healthCheck/headers/X-Probe = weightd
traefik/http/services/app/loadBalancer/healthCheck/interval = 10s
traefik/http/services/app/loadBalancer/healthCheck/path = /health
traefik/http/services/app/loadBalancer/healthCheck/timeout = 3s
traefik/http/services/app/loadBalancer/passHostHeader = false
traefik/http/services/app/loadBalancer/responseForwarding/flushInterval = 100ms
traefik/http/services/app/loadBalancer/servers/0/url = http://10.0.0.1:8080
traefik/http/services/app/loadBalancer/servers/0/weight = 50
traefik/http/services/app/loadBalancer/servers/1/url = http://10.0.0.2:8080
traefik/http/services/app/loadBalancer/servers/1/weight = 30
traefik/http/services/app/loadBalancer/servers/2/url = http://10.0.0.3:8080
traefik/http/services/app/loadBalancer/servers/2/weight = 20
traefik/http/services/app/loadBalancer/serversTransport = tls@file
traefik/http/services/app/loadBalancer/sticky/cookie/name = affinity
traefik/http/services/canary/weighted/services/0/name = app-v1@file
traefik/http/services/canary/weighted/services/0/weight = 90
traefik/http/services/canary/weighted/services/1/name = app-v2@file
traefik/http/services/canary/weighted/services/1/weight = 10
traefik/http/services/canary/weighted/sticky/cookie/name = canary-affinity
traefik/http/services/other/loadBalancer/servers/0/url = http://other:1
WANT
diff "$WORK/want" "$WORK/kv" || fail "keyspace after the first write"
grep -q 'level=warn' "$WORK/outdrv.log" && fail "unexpected warning: $(cat "$WORK/outdrv.log")"
ok "Traefik KV layout and values; operator keys under managed services and other keys kept"

# Drain s2 and set new weights: servers renumber without gaps, the old
# servers/2 keys go, all in one transaction with the MSET.
$R monitor >"$WORK/monitor.log" &
MON=$!
track "$MON"
wait_for "MONITOR" 5 grep -q OK "$WORK/monitor.log"
[ "$(run_outdrv "$WORK/a.conf" 'write app=70,0,30')" = written ] || fail "drain write"
# A removed backend (s3) and a removed service (canary): a new config, as a
# reload or a restart would bring; the service is found through weightd's
# record of what it manages.
NO_S3=1 NO_CANARY=1 write_output_config "$WORK/b.conf" "$OUT"
[ "$(run_outdrv "$WORK/b.conf" 'write app=55,45')" = written ] || fail "write after removal"
$R ping >/dev/null
wait_for "MONITOR to see the ping" 5 grep -q '"ping"' "$WORK/monitor.log"
kill "$MON"
wait "$MON" 2>/dev/null || true
untrack "$MON"
$CHECK kv "$REDIS_PORT" 'traefik/*' >"$WORK/kv"
cat >"$WORK/want" <<'WANT'
traefik/http/routers/r/rule = Host(`x`)
traefik/http/services/app/loadBalancer/healthCheck/headers/X-Probe = weightd
traefik/http/services/app/loadBalancer/healthCheck/interval = 10s
traefik/http/services/app/loadBalancer/healthCheck/path = /health
traefik/http/services/app/loadBalancer/healthCheck/timeout = 3s
traefik/http/services/app/loadBalancer/passHostHeader = false
traefik/http/services/app/loadBalancer/responseForwarding/flushInterval = 100ms
traefik/http/services/app/loadBalancer/servers/0/url = http://10.0.0.1:8080
traefik/http/services/app/loadBalancer/servers/0/weight = 55
traefik/http/services/app/loadBalancer/servers/1/url = http://10.0.0.2:8080
traefik/http/services/app/loadBalancer/servers/1/weight = 45
traefik/http/services/app/loadBalancer/serversTransport = tls@file
traefik/http/services/app/loadBalancer/sticky/cookie/name = affinity
traefik/http/services/canary/weighted/sticky/cookie/name = canary-affinity
traefik/http/services/other/loadBalancer/servers/0/url = http://other:1
WANT
diff "$WORK/want" "$WORK/kv" || fail "keyspace after the removal"
$R smembers weightd:traefik:keys | sort >"$WORK/record"
grep -v -e routers -e other -e X-Probe -e passHost -e serversTransport -e sticky -e responseForwarding "$WORK/want" |
	sed 's/ = .*//' >"$WORK/want-record"
diff "$WORK/want-record" "$WORK/record" || fail "the record of written keys"
ok "operator keys survive a backend and a service removal; the record holds exactly what weightd wrote"

# A record naming keys outside what weightd renders (edited by hand, or
# written by a buggy version) deletes nothing outside it.
$R sadd weightd:traefik:keys traefik/http/routers/r/rule \
	traefik/http/services/app/loadBalancer/responseForwarding/flushInterval >/dev/null
[ "$(run_outdrv "$WORK/b.conf" 'write app=50,50')" = written ] || fail "write after a tampered record"
[ "$($R get traefik/http/routers/r/rule)" = 'Host(`x`)' ] || fail "a router was deleted"
[ "$($R get traefik/http/services/app/loadBalancer/responseForwarding/flushInterval)" = 100ms ] ||
	fail "responseForwarding deleted"
ok "only keys weightd renders are ever deleted"

# In MONITOR's log, each DEL of managed keys sits between a MULTI and an EXEC
# that also hold the MSET (a deletion alone would go unseen: traefik#11864).
awk '
	/"MULTI"/ { inx = 1; mset = 0; del = 0; next }
	/"MSET"/ && inx { mset = 1 }
	/"DEL" "traefik\// { if (!inx) { print "DEL outside a transaction"; bad = 1 } del++ }
	/"EXEC"/ { if (del && !mset) { print "DEL without MSET"; bad = 1 } if (del) dels++; inx = 0 }
	END { if (dels != 2) { print "want 2 transactions with a DEL, got " dels; bad = 1 } exit bad }
' "$WORK/monitor.log" || fail "transactions: $(grep -v SCAN "$WORK/monitor.log" | cut -c1-160)"
grep '"DEL" "traefik/' "$WORK/monitor.log" | head -n 1 | grep -q 'servers/2/url' || fail "first DEL lacks servers/2"
grep '"DEL" "traefik/' "$WORK/monitor.log" | tail -n 1 | grep -q 'canary/weighted/services/0/name' ||
	fail "second DEL lacks the canary keys"
ok "removed backends and services deleted in the same MULTI/EXEC as the MSET"

# db selection.
write_output_config "$WORK/db.conf" "$OUT db = 3;"
[ "$(run_outdrv "$WORK/db.conf" write)" = written ] || fail "write to db 3"
[ "$($R -n 3 get traefik/http/services/app/loadBalancer/servers/0/weight)" = 50 ] || fail "db 3 not written"
[ "$($R -n 0 get traefik/http/services/app/loadBalancer/servers/0/weight)" = 50 ] || fail "db 0 changed"
ok "output.db selects the database"

# notify-keyspace-events off: a warning naming the setting.
$R config set notify-keyspace-events "" >/dev/null
: >"$WORK/outdrv.log"
run_outdrv "$WORK/db.conf" 'write app=10,10,80' >/dev/null
grep -q 'level=warn msg="Redis notify-keyspace-events lacks K and A' "$WORK/outdrv.log" ||
	fail "no notify-keyspace-events warning: $(cat "$WORK/outdrv.log")"
$R config set notify-keyspace-events 'K$g' >/dev/null
: >"$WORK/outdrv.log"
run_outdrv "$WORK/db.conf" 'write app=11,10,79' >/dev/null
grep -q 'level=warn' "$WORK/outdrv.log" && fail "K\$g is enough, but: $(cat "$WORK/outdrv.log")"
ok "notify-keyspace-events checked at connect"
stop_redis

# requirepass, the password from a file.
printf 's3cret-pw\n' >"$WORK/pw"
REDIS_PORT=$(free_port)
REDIS_AUTH=s3cret-pw
start_redis --requirepass s3cret-pw
R="redis-cli -p $REDIS_PORT --no-auth-warning -a s3cret-pw"
OUT="type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\";"
write_output_config "$WORK/pw.conf" "$OUT password_file = \"$WORK/pw\";"
[ "$(run_outdrv "$WORK/pw.conf" write)" = written ] || fail "write with requirepass: $(cat "$WORK/outdrv.log")"
[ "$($R get traefik/http/services/app/loadBalancer/servers/1/weight)" = 30 ] || fail "requirepass: key"
write_output_config "$WORK/nopw.conf" "$OUT"
r=$(run_outdrv "$WORK/nopw.conf" write)
case $r in "error: Redis 127.0.0.1:$REDIS_PORT: "*"NOAUTH"*) ;; *) fail "without password: $r" ;; esac
ok "requirepass with password_file; without it: $r"
stop_redis

# An ACL user that may not run CONFIG: a warning that the check was impossible.
# (The default user, with the same password, serves the readiness check.)
REDIS_PORT=$(free_port)
start_redis --user default on '>s3cret-pw' '~*' '+@all' --user weightd on '>s3cret-pw' '~traefik/*' '~weightd:*' '+@all' '-config'
R="redis-cli -p $REDIS_PORT --no-auth-warning --user weightd --pass s3cret-pw"
OUT="type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; username = \"weightd\";"
write_output_config "$WORK/acl.conf" "$OUT password_file = \"$WORK/pw\";"
: >"$WORK/outdrv.log"
[ "$(run_outdrv "$WORK/acl.conf" write)" = written ] || fail "write as ACL user: $(cat "$WORK/outdrv.log")"
[ "$($R get traefik/http/services/canary/weighted/services/0/weight)" = 90 ] || fail "ACL: key"
grep -q 'could not check Redis notify-keyspace-events' "$WORK/outdrv.log" ||
	fail "no warning when CONFIG is forbidden: $(cat "$WORK/outdrv.log")"
printf 'wrong\n' >"$WORK/badpw"
write_output_config "$WORK/bad.conf" "$OUT password_file = \"$WORK/badpw\";"
r=$(run_outdrv "$WORK/bad.conf" write)
case $r in "error: Redis 127.0.0.1:$REDIS_PORT: AUTH"*"WRONGPASS"*) ;; *) fail "wrong password: $r" ;; esac
grep -rq 's3cret-pw' "$WORK/outdrv.log" && fail "the password reached the log"
echo "$r" | grep -q wrong && fail "the password is in the message"
ok "ACL user AUTH; CONFIG forbidden warned; wrong password: $r"
