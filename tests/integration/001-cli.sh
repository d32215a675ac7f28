#!/bin/sh
# 001-cli: the command line: --help, --version, -t, usage errors and exit codes.
. "$top_srcdir/tests/integration/common.sh"

"$WEIGHTD" --version >"$WORK/v" || fail "--version exit status"
grep -Eq '^weightd [0-9]+\.[0-9]+\.[0-9]+$' "$WORK/v" || fail "--version printed: $(cat "$WORK/v")"

"$WEIGHTD" --help >"$WORK/h" || fail "--help exit status"
for flag in --config --dry-run --once --check-config --verbose --quiet --log-format --help --version; do
	grep -q -- "$flag" "$WORK/h" || fail "--help does not list $flag"
done
ok "help and version"

rc=0; "$WEIGHTD" --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown flag: exit $rc, want 2"
rc=0; "$WEIGHTD" --log-format=xml -t -c "$top_srcdir/etc/weightd.conf" >/dev/null 2>"$WORK/e" || rc=$?
[ "$rc" -eq 2 ] || fail "bad --log-format: exit $rc, want 2"
grep -q "logfmt or json" "$WORK/e" || fail "bad --log-format message: $(cat "$WORK/e")"
rc=0; "$WEIGHTD" -t -c "$top_srcdir/etc/weightd.conf" extra >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "stray argument: exit $rc, want 2"
ok "usage errors exit 2"

"$WEIGHTD" -t -c "$top_srcdir/etc/weightd.conf" >"$WORK/t" || fail "-t on etc/weightd.conf failed"
grep -qx "$top_srcdir/etc/weightd.conf: ok" "$WORK/t" || fail "-t printed: $(cat "$WORK/t")"
ok "-t accepts etc/weightd.conf"

# Every error, each as FILE:LINE: message, and exit 2.
cat >"$WORK/bad.conf" <<'EOC'
interval = "10";
prometheus = { url = "http://127.0.0.1:9090"; };
output = { type = "file"; path = "/tmp/x.yml"; };
policy = { kp = -1.0; };
services = ( { name = "s"; latency_query = "rate(q[1m])";
  backends = ( { name = "a"; url = "http://a"; weight = 500; } ); } );
EOC
rc=0; "$WEIGHTD" -t -c "$WORK/bad.conf" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "-t on a bad config: exit $rc, want 2"
grep -q "^$WORK/bad.conf:1: interval: duration \"10\" has no unit" "$WORK/err" || fail "line 1 error missing: $(cat "$WORK/err")"
grep -q "^$WORK/bad.conf:4: policy.kp -1 is negative" "$WORK/err" || fail "line 4 error missing"
grep -q "^$WORK/bad.conf:6: backend \"a\": weight 500" "$WORK/err" || fail "line 6 error missing"
[ "$(wc -l <"$WORK/err")" -eq 3 ] || fail "want exactly 3 errors: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "-t printed ok for a bad config"
ok "-t prints every error with its line"

# Raw bytes that are not UTF-8 in a name (a Latin-1 file) and a name that
# would break the Redis key tree are refused by -t, not at the first write.
printf 'prometheus = { url = "http://127.0.0.1:9090"; };\noutput = { type = "file"; path = "/tmp/x.yml"; };\n' >"$WORK/latin1.conf"
printf 'services = ( { name = "caf\351"; latency_query = "q";\n  backends = ( { name = "a\351"; url = "http://a"; } ); },\n' >>"$WORK/latin1.conf"
printf '  { name = "team/app"; latency_query = "q"; backends = ( { name = "a"; url = "http://a"; } ); } );\n' >>"$WORK/latin1.conf"
rc=0; "$WEIGHTD" -t -c "$WORK/latin1.conf" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "-t on a Latin-1 config: exit $rc, want 2"
grep -q "^$WORK/latin1.conf:3: name is not valid UTF-8 (byte 4 of the string)" "$WORK/err" ||
	fail "non-UTF-8 service name not refused: $(cat "$WORK/err")"
grep -q "^$WORK/latin1.conf:4: service \"caf?\": name is not valid UTF-8 (byte 2 of the string)" "$WORK/err" ||
	fail "non-UTF-8 backend name not refused: $(cat "$WORK/err")"
grep -q "^$WORK/latin1.conf:5: service name \"team/app\" may use only letters" "$WORK/err" ||
	fail "service name with / not refused: $(cat "$WORK/err")"
ok "-t refuses names that are not UTF-8 or not Traefik service names"

# Starting with an invalid config exits 2 and says why.
rc=0; "$WEIGHTD" -c "$WORK/bad.conf" --once 2>"$WORK/err2" || rc=$?
[ "$rc" -eq 2 ] || fail "start with a bad config: exit $rc, want 2"
grep -q 'level=error msg="invalid config"' "$WORK/err2" || fail "start error: $(cat "$WORK/err2")"
rc=0; "$WEIGHTD" -c "$WORK/missing.conf" --once 2>"$WORK/err3" || rc=$?
[ "$rc" -eq 2 ] || fail "missing config: exit $rc, want 2"
grep -q "missing.conf: cannot open" "$WORK/err3" || fail "missing config message: $(cat "$WORK/err3")"
ok "invalid config at start exits 2"

# JSON logs are one object per line.
"$WEIGHTD" -c "$WORK/missing.conf" --log-format=json --once 2>"$WORK/json" || true
jq -e '.level == "error" and .msg == "invalid config" and (.ts | test("Z$"))' "$WORK/json" >/dev/null ||
	fail "JSON log line: $(cat "$WORK/json")"
ok "JSON log format"
