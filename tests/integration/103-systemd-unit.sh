#!/bin/sh
# 103-systemd-unit: contrib/systemd/weightd.service.in, with the paths
# substituted, carries the hardening settings weightd.8 documents and passes
# systemd-analyze verify (that part is skipped with a message where
# systemd-analyze is missing); the sysusers snippet creates the weightd user.
. "$top_srcdir/tests/integration/common.sh"

in="$top_srcdir/contrib/systemd/weightd.service.in"
mkdir -p "$WORK/unit" "$WORK/etc/weightd"
cp "$top_srcdir/etc/weightd.conf" "$WORK/etc/weightd/weightd.conf"
unit="$WORK/unit/weightd.service"
sed -e "s|@sbindir@|$(dirname "$WEIGHTD")|g" -e "s|@sysconfdir@|$WORK/etc|g" "$in" >"$unit"
grep -q '@[a-z]*@' "$unit" && fail "unsubstituted @var@ left: $(grep '@[a-z]*@' "$unit")"

# The settings, one per line exactly as required.
for line in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=2min' 'User=weightd' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'Restart=on-failure' 'RestartPreventExitStatus=2' 'NoNewPrivileges=yes' \
	'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'StateDirectory=weightd' \
	'LogsDirectory=weightd' 'ReadWritePaths=-/etc/traefik/dynamic' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
	'CapabilityBoundingSet='; do
	grep -qxF "$line" "$unit" || fail "the unit lacks the line: $line"
done
grep -q '^ExecStart=.*/weightd -c ' "$unit" || fail "ExecStart does not run weightd -c"
# (004 shows weightd sends READY=1 and the watchdog pings this unit relies on.)
ok "unit settings"

# The ExecStartPre/ExecReload config check works as the unit runs it.
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
[ -n "$pre" ] || fail "no ExecStartPre"
$pre >/dev/null || fail "ExecStartPre fails on etc/weightd.conf: $pre"
ok "ExecStartPre check passes"

if command -v systemd-analyze >/dev/null; then
	# verify looks up Documentation=man:... pages: point it at ours.
	mkdir -p "$WORK/man/man8" "$WORK/man/man5"
	cp "$top_srcdir/man/weightd.8" "$WORK/man/man8/"
	cp "$top_srcdir/man/weightd.conf.5" "$WORK/man/man5/"
	rc=0
	MANPATH="$WORK/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" \
		>"$WORK/verify.out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "systemd-analyze verify exit $rc: $(cat "$WORK/verify.out")"
	# verify exits 0 on unknown keys, but says so: any output is a failure.
	[ ! -s "$WORK/verify.out" ] || fail "systemd-analyze verify: $(cat "$WORK/verify.out")"
	ok "systemd-analyze verify"
else
	echo "note: systemd-analyze not installed; skipping systemd-analyze verify"
fi

if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$WORK/root/etc"
	systemd-sysusers --root="$WORK/root" "$top_srcdir/contrib/systemd/sysusers.d/weightd.conf" \
		>"$WORK/sysusers.out" 2>&1 || fail "systemd-sysusers: $(cat "$WORK/sysusers.out")"
	grep -q '^weightd:x:[0-9]*:[0-9]*:.*:/var/lib/weightd:' "$WORK/root/etc/passwd" ||
		fail "sysusers created no weightd user: $(cat "$WORK/root/etc/passwd" 2>&1)"
	grep -q '^weightd:' "$WORK/root/etc/group" || fail "sysusers created no weightd group"
	ok "sysusers creates the weightd user and group"
else
	echo "note: systemd-sysusers not installed; skipping the sysusers check"
fi
