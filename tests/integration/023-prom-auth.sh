#!/bin/sh
# 023-prom-auth: authentication, TLS, tenancy headers and proxies.
# - A real Prometheus with TLS and basic auth (--web.config.file): queries
#   work with username + password_file + ca_file, and through weightd's own
#   config; a wrong password, a missing CA fail with one clear line;
#   insecure_skip_verify skips the check.
# - Bearer token and extra headers (X-Scope-OrgID) reach the server: recorded
#   by fakeprom.py standing in for a multi-tenant gateway (Mimir/Cortex), which
#   Debian does not package. A server that echoes the token in an error body
#   does not get it into weightd's error message.
# - http_proxy is honoured as libcurl does.
. "$top_srcdir/tests/integration/common.sh"
PROMQ="$top_builddir/tests/tools/promq"
command -v openssl >/dev/null || skip "openssl not installed"

# A self-signed certificate for 127.0.0.1, and the user "weightd" whose
# password is "weightd-test-password" (bcrypt, cost 4, made with Python's
# crypt.crypt(pw, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
	fail "cannot make a test certificate"
printf 'weightd-test-password\n' >"$WORK/password"
printf 'wrong-password-1234\n' >"$WORK/wrong"
cat >"$WORK/web.yml" <<EOW
tls_server_config:
  cert_file: $WORK/cert.pem
  key_file: $WORK/key.pem
basic_auth_users:
  weightd: \$2b\$04\$FGi2IRdbiJPM5K8TwIXUn.fq6rZcBFMzEcuSfAPJg6VNDCILdhtnK
EOW
PROM_WEB_CONFIG="$WORK/web.yml" PROM_SCHEME=https \
	PROM_CURL_OPTS="--cacert $WORK/cert.pem -u weightd:weightd-test-password" start_prometheus
Q='label_replace(vector(0.25), "instance", "a:1", "", "")'

"$PROMQ" -u weightd -p "$WORK/password" -c "$WORK/cert.pem" "$PROM_URL" "$Q" >"$WORK/ok.out" ||
	fail "basic auth over TLS failed: $(cat "$WORK/ok.out")"
grep -q '^  a:1 0.25$' "$WORK/ok.out" || fail "wrong answer: $(cat "$WORK/ok.out")"
ok "basic auth with a CA file"

"$PROMQ" -u weightd -p "$WORK/wrong" -c "$WORK/cert.pem" "$PROM_URL" up >"$WORK/401.out" &&
	fail "a wrong password was accepted"
grep -q '^err 0 query "up": HTTP 401 from Prometheus: Unauthorized$' "$WORK/401.out" ||
	fail "no clear 401 error: $(cat "$WORK/401.out")"
grep -q 'wrong-password' "$WORK/401.out" && fail "the password leaked into the error"
ok "wrong password: HTTP 401, no secret in the error"

"$PROMQ" -u weightd -p "$WORK/password" "$PROM_URL" up >"$WORK/noca.out" && fail "an unknown CA was trusted"
grep -q '^err 0 query "up": SSL certificate problem: self.signed certificate' "$WORK/noca.out" ||
	fail "no clear certificate error: $(cat "$WORK/noca.out")"
"$PROMQ" -k -u weightd -p "$WORK/password" "$PROM_URL" "$Q" >"$WORK/insecure.out" ||
	fail "insecure_skip_verify did not skip the check: $(cat "$WORK/insecure.out")"
ok "TLS: an unknown CA fails clearly; insecure_skip_verify skips the check"

# The same through weightd's config (secrets read from files by config.c).
cat >"$WORK/weightd.conf" <<EOC
interval = "2s";
listen = "";
prometheus = { url = "$PROM_URL"; timeout = "5s"; username = "weightd";
  password_file = "$WORK/password"; ca_file = "$WORK/cert.pem"; };
output = { type = "file"; path = "$WORK/out.yml"; };
services = ( { name = "svc"; latency_query = "label_replace(vector(0.25), \"instance\", \"a:1\", \"\", \"\")";
  backends = ( { name = "a:1"; url = "http://a:1"; } ); } );
EOC
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run >"$WORK/weightd.out" 2>"$WORK/weightd.log" ||
	fail "weightd --once with basic auth and a CA file failed"
ok "weightd's config: username, password_file, ca_file"

# Bearer token and tenancy headers, as a gateway sees them.
FAKE_PROM_REQLOG="$WORK/requests.log" start_fake_prom good
port=$FAKE_PROM_PORT
printf 'tok-3f9a0c7e-secret\n' >"$WORK/token"
"$PROMQ" -b "$WORK/token" -H "X-Scope-OrgID: team-a" "http://127.0.0.1:$port/prefix/" 'rate(x{a="b c"}[1m])' \
	>"$WORK/bearer.out" || fail "bearer query failed: $(cat "$WORK/bearer.out")"
req=$(tail -n 1 "$WORK/requests.log")
check() { # check JQ_EXPR WANT
	got=$(printf '%s' "$req" | jq -r "$1")
	[ "$got" = "$2" ] || fail "$1 is \"$got\", want \"$2\""
}
check .method POST
check .path /prefix/api/v1/query
check '.headers["Authorization"]' "Bearer tok-3f9a0c7e-secret"
check '.headers["X-Scope-OrgID"]' team-a
check '.headers["Content-Type"]' application/x-www-form-urlencoded
check .body 'query=rate%28x%7Ba%3D%22b%20c%22%7D%5B1m%5D%29'
ok "POST form body, bearer token and X-Scope-OrgID reach the server"

# A gateway that refuses and echoes the token: the error masks it.
FAKE_PROM_MODEFILE="$WORK/echo.mode" FAKE_PROM_REQLOG="$WORK/echo.log" start_fake_prom echo403
eport=$FAKE_PROM_PORT
"$PROMQ" -b "$WORK/token" "http://127.0.0.1:$eport" up >"$WORK/echo.out" && fail "a 403 was accepted"
cat "$WORK/echo.out"
grep -q '^err 0 query "up": HTTP 403 from Prometheus: denied: Bearer <\*\*\*>$' "$WORK/echo.out" ||
	fail "no masked 403 error"
grep -qE 'tok-3|3f9a0|c7e-s|secre' "$WORK/echo.out" && fail "part of the bearer token leaked into the error"
# (this token ends in "secret": the mark is "<***>", not "<secret>")
ok "a token echoed by the server is masked in the error"

# http_proxy: libcurl sends the request to the proxy with the absolute URL.
: >"$WORK/requests.log"
env -u no_proxy -u NO_PROXY http_proxy="http://127.0.0.1:$port" \
	"$PROMQ" "http://prometheus.weightd-test.invalid:9090" up >"$WORK/proxy.out" ||
	fail "query through http_proxy failed: $(cat "$WORK/proxy.out")"
req=$(tail -n 1 "$WORK/requests.log")
check .path "http://prometheus.weightd-test.invalid:9090/api/v1/query"
ok "http_proxy is honoured"
