#!/bin/sh
# 003-sigterm-tick: SIGTERM while a tick waits on a Prometheus that never
# answers ends weightd with status 0, long before the query would time out.
. "$top_srcdir/tests/integration/common.sh"

FAKE_PROM_REQLOG="$WORK/queries.jsonl" start_fake_prom hang

cat >"$WORK/weightd.conf" <<EOC
interval = "1s";
listen = "";
prometheus = { url = "$FAKE_PROM_URL"; timeout = "60s"; };
output = { type = "file"; path = "$WORK/out.yml"; };
services = ( { name = "svc"; latency_query = "up";
  backends = ( { name = "a"; url = "http://a:1"; } ); } );
EOC
start_weightd "$WORK/weightd.conf" --dry-run
wait_for "weightd's query to reach the silent Prometheus" 20 test -s "$WORK/queries.jsonl"

kill -TERM "$WEIGHTD_PID"
# The query timeout is 60 s: an exit within 10 s proves the tick was aborted.
i=0
while kill -0 "$WEIGHTD_PID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "weightd still running 10s after SIGTERM during a tick"
	sleep 0.1
done
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC, want 0"
log_has 'msg="weightd stopping"' || fail "no stop log line"
ok "SIGTERM during a tick exits 0"
