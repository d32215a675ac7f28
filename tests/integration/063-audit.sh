#!/bin/sh
# 063-audit: every audit line is a JSON object with every documented field, for
# each action (applied, held, pinned, frozen, ejected, stale, dry_run); the
# backend state changes are logged once each; SIGHUP after log rotation moves
# the audit to a fresh file.
. "$top_srcdir/tests/integration/common.sh"
command -v jq >/dev/null || skip "jq not installed"

# s has no series: held, then stale. x fails: ejected.
set_values "steer a 0.1 0" "steer b 0.4 0" "steer p 0.2 0" "steer x 0.1 0.9" \
	"still f1 0.1 0" "still f2 0.3 0"
start_exporter_prometheus

WD_PORT=$(free_port)
services='{ name = "steer"; label = "backend"; backends = (
    { name = "a"; url = "http://a:80"; }, { name = "b"; url = "http://b:80"; },
    { name = "p"; url = "http://p:80"; pin = 20; }, { name = "x"; url = "http://x:80"; },
    { name = "s"; url = "http://s:80"; } ); },
  { name = "still"; label = "backend"; freeze = true; backends = (
    { name = "f1"; url = "http://f1:80"; }, { name = "f2"; url = "http://f2:80"; } ); }'
write_obs_config "$WORK/weightd.conf" "$services"
start_weightd "$WORK/weightd.conf"

applied() { audit_has steer a applied || audit_has steer b applied; }
wait_for "an applied record" 20 applied
wait_for "a held record for s" 10 audit_has steer s held
wait_for "a stale record for s" 10 audit_has steer s stale
wait_for "a pinned record for p" 10 audit_has steer p pinned
wait_for "an ejected record for x" 10 audit_has steer x ejected
wait_for "a frozen record for f1" 10 audit_has still f1 frozen
ok "applied, held, stale, pinned, ejected and frozen records"

# all(): every record of that kind, not just the last one.
audit_all() { # FILTER CONDITION
	jq -s -e "[.[] | select($1)] | length > 0 and all($2)" "$WORK/audit.log" >/dev/null
}
audit_all '.backend == "x" and .action == "ejected"' '.error_ratio == 0.9 and .latency == 0.1 and .new == 1' ||
	fail "ejected records lack their measurements or are above min_weight"
audit_all '.backend == "s" and .action == "stale"' '.latency == null and .error_ratio == null' ||
	fail "a backend without data has measurements"
audit_all '.backend == "p"' '.action == "pinned" and .new == 20' || fail "pinned p is not always 20"
audit_all '.service == "still"' '.action == "frozen" and .new == .old' || fail "frozen service moved"

# Recovery: x stops failing, s gets data.
set_values "steer a 0.1 0" "steer b 0.4 0" "steer p 0.2 0" "steer x 0.1 0" "steer s 0.2 0" \
	"still f1 0.1 0" "still f2 0.3 0"
wait_log 'msg="backend returned from ejection".* backend=x' 20
wait_log 'msg="backend recovered: its data is back".* backend=s' 20
for pat in 'msg="backend ejected.* backend=x' 'msg="backend stale.* backend=s' \
	'msg="backend returned from ejection".* backend=x' 'msg="backend recovered.* backend=s'; do
	[ "$(count_log "$pat")" -eq 1 ] || fail "/$pat/ logged $(count_log "$pat") times, want once"
done
ok "ejected, returned, stale and recovered are logged once each"

# Rotation: move the file away and SIGHUP; new records go to a fresh file.
mv "$WORK/audit.log" "$WORK/audit.log.1"
kill -HUP "$WEIGHTD_PID"
wait_log 'msg="config reloaded"' 10
wait_for "the fresh audit file" 10 test -s "$WORK/audit.log"
rotated=$(wc -l <"$WORK/audit.log.1")
fresh=$(wc -l <"$WORK/audit.log")
grows() { [ "$(wc -l <"$WORK/audit.log")" -gt $((fresh + 14)) ]; }
wait_for "records in the fresh file" 10 grows
[ "$(wc -l <"$WORK/audit.log.1")" -eq "$rotated" ] || fail "records still go to the rotated file"
ok "SIGHUP reopens the audit log after rotation"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exited $WEIGHTD_RC"

# A dry run audits dry_run instead of applied.
"$WEIGHTD" -c "$WORK/weightd.conf" --once --dry-run >"$WORK/table.txt" 2>>"$WORK/weightd.log" ||
	fail "--once --dry-run exited $?"
audit_has steer a dry_run || fail "no dry_run record"

n=$(check_audit_lines "$WORK/audit.log.1") || fail "bad audit line in the rotated file"
m=$(check_audit_lines "$WORK/audit.log") || fail "bad audit line"
ok "all $((n + m)) audit lines are JSON with every field"
for a in applied held pinned frozen ejected stale dry_run; do
	cat "$WORK/audit.log.1" "$WORK/audit.log" | jq -s -e --arg a "$a" 'any(.[]; .action == $a)' >/dev/null ||
		fail "no $a record"
done
ok "every action appears"
