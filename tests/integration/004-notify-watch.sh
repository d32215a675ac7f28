#!/bin/sh
# 004-notify-watch: weightd under a service manager and without SIGHUP.
# - sd_notify: READY=1 once running, WATCHDOG=1 keep-alives while it sleeps
#   through a long interval, RELOADING=1 then READY=1 around a reload,
#   STOPPING=1 on SIGTERM (a real datagram socket stands in for systemd's).
# - --watch-config: a config replaced by rename is reloaded without a signal;
#   a broken one is rejected and the running config kept.
. "$top_srcdir/tests/integration/common.sh"
command -v python3 >/dev/null || skip "python3 not installed"

write_config() { # $1: number of services, $2: an extra line
	write_services_config "$1" 60s "$2"
}

python3 "$top_srcdir/tests/integration/notify_listen.py" "$WORK/notify.sock" "$WORK/notify.txt" &
track $!
wait_for "the notify socket" 10 test -S "$WORK/notify.sock"
notified() { grep -c "$1" "$WORK/notify.txt" 2>/dev/null || true; }
at_least() { [ "$(notified "$1")" -ge "$2" ]; }

write_config 1 ""
# A watchdog of 400 ms: weightd must ping about every 200 ms while its 60 s
# interval sleeps.
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=400000 \
	start_weightd "$WORK/weightd.conf" --dry-run --watch-config
wait_for "READY=1" 10 at_least 'READY=1' 1
ok "READY=1 once running"
wait_for "five WATCHDOG=1 during one 60 s interval" 20 at_least 'WATCHDOG=1' 5
ok "watchdog keep-alives while sleeping"

# A config replaced by rename is reloaded without SIGHUP.
write_config 2 ""
wait_log 'msg="config reloaded".* services=2' 10
log_has 'msg="config file changed"' || fail "no log line names the change"
wait_for "RELOADING=1 then READY=1" 10 at_least 'READY=1' 2
at_least 'RELOADING=1' 1 || fail "no RELOADING=1 before the reload"
ok "a changed file is reloaded without a signal, around RELOADING=1 / READY=1"

# A broken one is rejected and the running config kept.
write_config 3 'policy_typo = 1;'
wait_log 'msg="config reload failed; keeping the running config"' 10
kill -0 "$WEIGHTD_PID" || fail "weightd died on a broken config"
log_has 'msg="config reloaded".* services=3' && fail "a broken config was applied"
ok "a broken file is rejected, the running config kept"

# Untouched: no further reload.
n=$(grep -c 'msg="reloading config"' "$WORK/weightd.log")
write_config 4 ""
wait_log 'msg="config reloaded".* services=4' 10
[ "$(grep -c 'msg="reloading config"' "$WORK/weightd.log")" -eq $((n + 1)) ] ||
	fail "one change, more than one reload: $(grep 'reloading config' "$WORK/weightd.log")"
ok "one change, one reload"

stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "SIGTERM: exit $WEIGHTD_RC"
at_least 'STOPPING=1' 1 || fail "no STOPPING=1: $(cat "$WORK/notify.txt")"
ok "STOPPING=1 on SIGTERM"
