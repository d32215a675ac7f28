#!/bin/sh
# 124-secrets: a bearer token, a basic-auth password and a Redis password are
# used (the servers see them) but appear nowhere weightd writes: not in its
# log, the audit log, /metrics, /healthz, the state file or the output — not
# even when the server echoes the credential back in an error, a Prometheus
# error message, a body that is not JSON or a warning, at every offset around
# the cuts of the messages, or when a password is wrong. Not the whole secret
# and no part of it: no 5 bytes of a secret appear anywhere.
. "$top_srcdir/tests/integration/common.sh"

TOKEN=tok-S3cr3tT0ken-7f1e9a
BASIC=pw-S3cr3tPassw-2c8d4b
RPASS=kv-H1dd3n-5a6b7c
BASIC_B64=$(printf 'weightd:%s' "$BASIC" | base64)
SHORT='Zq7#k' # a short password: masking it near the end of a message once corrupted memory
SHORT_B64=$(printf 'weightd:%s' "$SHORT" | base64)
printf '%s\n' "$TOKEN" >"$WORK/token"
printf '%s\n' "$BASIC" >"$WORK/basic"
printf '%s\n' "$SHORT" >"$WORK/short"
printf '%s\n' "$RPASS" >"$WORK/redis.pass"
printf 'wrong-password\n' >"$WORK/redis.wrong"

FAKE_PROM_REQLOG="$WORK/requests.jsonl" start_fake_prom
REDIS_AUTH=$RPASS start_redis --requirepass "$RPASS"
mport=$(free_port)
FAULT_LISTEN="127.0.0.1:$mport"

# Every 5-byte part of each form of every secret, one a line.
for s in "$TOKEN" "$BASIC" "$BASIC_B64" "$SHORT" "$SHORT_B64" "$RPASS"; do
	i=0
	while [ $((i + 5)) -le ${#s} ]; do
		printf '%s\n' "$s" | cut -c $((i + 1))-$((i + 5))
		i=$((i + 1))
	done
done >"$WORK/fragments"

# Everything weightd wrote, checked for every part of every secret.
assert_clean() {
	for f in "$WORK/weightd.log" "$WORK/weightd.all.log" "$WORK/weightd.out" "$WORK/audit.jsonl" "$WORK/state.json" \
		"$WORK/metrics.txt" "$WORK/healthz.txt" "$WORK/out/weightd.yml"; do
		[ -f "$f" ] || continue
		if found=$(grep -oF -f "$WORK/fragments" "$f"); then
			fail "$1: part of a secret appears in $(basename "$f"): $(echo "$found" | head -3 | tr '\n' ' ')"
		fi
	done
	ok "$1: no 5 bytes of a secret in the log, audit, metrics, /healthz, state or output"
}

# Each echo mode for 12 ticks (a request's padding shifts the credentials by
# a byte, so they sit at every offset around the cuts), /healthz read at each.
run_echo_modes() { # $1: name
	cat "$WORK/weightd.log" >>"$WORK/weightd.all.log"
	: >"$WORK/weightd.log"
	start_weightd "$WORK/weightd.conf" --log-format=json
	wait_ticks 1
	for mode in echoapi echojunk echowarn; do
		set_prom_mode $mode
		n=0
		while [ $n -lt 12 ]; do
			wait_ticks 1
			curl -sS "http://127.0.0.1:$mport/healthz" >>"$WORK/healthz.txt" || fail "$1: /healthz"
			n=$((n + 1))
		done
	done
	set_prom_mode good
	wait_ticks 2
	curl -fsS "http://127.0.0.1:$mport/metrics" >"$WORK/metrics.txt" || fail "$1: /metrics"
	stop_weightd
	[ "$WEIGHTD_RC" -eq 0 ] || fail "$1: weightd exited with $WEIGHTD_RC: $(grep -m3 -E 'ERROR|Sanitizer' "$WORK/weightd.log")"
	grep -q '<secret>' "$WORK/weightd.log" || fail "$1: no credential was masked in the log"
	jq -e . "$WORK/weightd.log" >/dev/null || fail "$1: a log line is not JSON"
}

run_until_echo() { # $1: name; the server echoes the Authorization header
	set_prom_mode echo401
	cat "$WORK/weightd.log" >>"$WORK/weightd.all.log" 2>/dev/null || true
	: >"$WORK/weightd.log" # this run's lines only, for the waits below
	start_weightd "$WORK/weightd.conf"
	wait_log 'Prometheus query failed.*HTTP 401' 20
	log_has 'HTTP 401 from Prometheus: unauthorized: got .*<secret>' || fail "$1: the echoed credential was not masked"
	set_prom_mode good
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

# Every form of echo, at every offset, with each kind of credential.
write_fault_config "bearer_token_file = \"$WORK/token\";"
run_echo_modes "bearer echoes"
assert_clean "bearer echoes"
write_fault_config "username = \"weightd\"; password_file = \"$WORK/basic\";"
run_echo_modes "basic echoes"
assert_clean "basic echoes"
write_fault_config "username = \"weightd\"; password_file = \"$WORK/short\";"
run_echo_modes "short password echoes"
assert_clean "short password echoes"

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
