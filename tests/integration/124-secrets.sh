#!/bin/sh
# 124-secrets: a bearer token, a basic-auth password and a Redis password are
# used (the servers see them) but appear nowhere weightd writes: not in its
# log, the audit log, /metrics, the state file or the output — not even when
# the server echoes the credential back in an error, or a password is wrong.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/fault-common.sh"

TOKEN=tok-S3cr3tBearer-7f1e9a
BASIC=pw-S3cr3tBasic-2c8d4b
RPASS=redis-S3cr3t-5a6b7c
BASIC_B64=$(printf 'weightd:%s' "$BASIC" | base64)
printf '%s\n' "$TOKEN" >"$WORK/token"
printf '%s\n' "$BASIC" >"$WORK/basic"
printf '%s\n' "$RPASS" >"$WORK/redis.pass"
printf 'wrong-password\n' >"$WORK/redis.wrong"

FAULT_REQLOG="$WORK/requests.jsonl" start_faultprom
REDIS_AUTH=$RPASS start_redis --requirepass "$RPASS"
mport=$(free_port)
FAULT_LISTEN="127.0.0.1:$mport"

# Everything weightd wrote, checked for every form of every secret.
assert_clean() {
	for f in "$WORK/weightd.log" "$WORK/weightd.all.log" "$WORK/weightd.out" "$WORK/audit.jsonl" "$WORK/state.json" \
		"$WORK/metrics.txt" "$WORK/out/weightd.yml"; do
		[ -f "$f" ] || continue
		for s in "$TOKEN" "$BASIC" "$BASIC_B64" "$RPASS"; do
			grep -qF -- "$s" "$f" && fail "$1: a secret appears in $(basename "$f")"
		done
	done
	ok "$1: no secret in the log, audit, metrics, state or output"
}

run_until_echo() { # $1: name; the server echoes the Authorization header
	set_mode echo401
	cat "$WORK/weightd.log" >>"$WORK/weightd.all.log" 2>/dev/null || true
	: >"$WORK/weightd.log" # this run's lines only, for the waits below
	start_weightd "$WORK/weightd.conf"
	wait_log 'Prometheus query failed.*HTTP 401' 20
	log_has 'body not shown: it echoes a credential' || fail "$1: the echoed credential was not withheld"
	set_mode good
	wait_log 'Prometheus queries recovered' 20
	wait_ticks 2
	curl -fsS "http://127.0.0.1:$mport/metrics" >"$WORK/metrics.txt" || fail "$1: /metrics"
	stop_weightd
}

# Bearer token, file output.
mkdir -p "$WORK/out"
write_fault_config "bearer_token_file = \"$WORK/token\";"
run_until_echo bearer
grep -qF "Bearer $TOKEN" "$WORK/requests.jsonl" || fail "the bearer token was not sent"
assert_clean "bearer token"

# Basic auth.
write_fault_config "username = \"weightd\"; password_file = \"$WORK/basic\";"
run_until_echo basic
grep -qF "Basic $BASIC_B64" "$WORK/requests.jsonl" || fail "basic auth was not sent"
assert_clean "basic auth"

# Redis: a wrong password fails clearly, the right one writes.
write_fault_config "" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; password_file = \"$WORK/redis.wrong\";"
cat "$WORK/weightd.log" >>"$WORK/weightd.all.log"
: >"$WORK/weightd.log"
start_weightd "$WORK/weightd.conf"
wait_log 'output write failed.*AUTH' 20
stop_weightd
log_has 'wrong-password' && fail "the wrong Redis password was logged"
write_fault_config "" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; password_file = \"$WORK/redis.pass\";"
start_weightd "$WORK/weightd.conf"
wait_for "a Redis write with the password" 20 sh -c \
	"redis-cli --no-auth-warning -a '$RPASS' -p $REDIS_PORT GET traefik/http/services/svc/loadBalancer/servers/0/weight | grep -q '^[0-9]'"
curl -fsS "http://127.0.0.1:$mport/metrics" >"$WORK/metrics.txt" || fail "redis: /metrics"
stop_weightd
assert_clean "Redis password"
