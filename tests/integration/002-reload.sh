#!/bin/sh
# 002-reload: SIGHUP with a broken config keeps the old one (the error names its
# line); SIGHUP with a good one switches; SIGTERM ends with status 0.
. "$top_srcdir/tests/integration/common.sh"

write_config() { # $1: number of services, $2: extra top-level line
	write_services_config "$1" 200ms "$2" 'up{job=\"${service}\"}'
}

write_config 1 ""
start_weightd "$WORK/weightd.conf" --dry-run
wait_log 'msg="weightd starting"' 10

# A broken config: rejected whole, the error names file and line, the loop goes on.
write_config 2 'policy_typo = 1;'
kill -HUP "$WEIGHTD_PID"
wait_log 'msg="config reload failed; keeping the running config"' 10
log_has "weightd.conf:2: unknown key \\\\\"policy_typo\\\\\"" || fail "reload error lacks file:line: $(grep reload "$WORK/weightd.log")"
kill -0 "$WEIGHTD_PID" || fail "weightd died on a broken config"
log_has 'msg="config reloaded"' && fail "a broken config was applied"
ok "broken config rejected, daemon alive"

# A good config: switched in.
write_config 3 ""
kill -HUP "$WEIGHTD_PID"
wait_log 'msg="config reloaded".* services=3' 10
kill -0 "$WEIGHTD_PID" || fail "weightd died on reload"
ok "good config applied"

stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "SIGTERM: exit $WEIGHTD_RC, want 0"
log_has 'msg="weightd stopping"' || fail "no stop log line"
ok "SIGTERM exits 0"
