#!/bin/sh
# 104-install: make install (into a DESTDIR) puts the operator's files where a
# distribution would: man pages, the config, examples with their placeholder
# secrets, the systemd unit (with the build's paths), sysusers and tmpfiles
# snippets, alerting rules, Kubernetes manifests and the Dockerfile; make
# uninstall removes them again.
. "$top_srcdir/tests/integration/common.sh"

[ -f "$top_builddir/Makefile" ] || skip "no configured build directory"
command -v make >/dev/null || skip "make not installed"
dest="$WORK/dest"
# A make of our own, not a job of the make running the tests.
run_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" "$@" DESTDIR="$dest" \
		>"$WORK/make.log" 2>&1 || fail "make $*: $(tail -n 20 "$WORK/make.log")"
}
run_make install
# Ask make for the directories, fully expanded.
printf 'ops-print-dirs:\n\t@echo $(prefix) $(sbindir) $(sysconfdir) $(docdir) $(pkgdatadir) $(mandir)\n' >"$WORK/dirs.mk"
dirs=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$top_builddir" \
	-f Makefile -f "$WORK/dirs.mk" ops-print-dirs) || fail "cannot read the install directories"
set -- $dirs
[ $# -eq 6 ] || fail "install directories: $dirs"
prefix=$1 sbindir=$2 sysconfdir=$3
root="$dest$prefix"
docdir="$dest$4"
pkgdatadir="$dest$5"
mandir="$dest$6"

for f in "$dest$sbindir/weightd" \
	"$mandir/man8/weightd.8" "$mandir/man5/weightd.conf.5" \
	"$dest$sysconfdir/weightd/weightd.conf" "$docdir/README.md" \
	"$docdir/examples/medical-imaging-file.conf" "$docdir/examples/canary-redis.conf" \
	"$docdir/examples/mimir-multitenant.conf" "$docdir/examples/secrets/README" \
	"$docdir/examples/secrets/redis.password" "$docdir/examples/secrets/mimir.token" \
	"$root/lib/systemd/system/weightd.service" "$root/lib/sysusers.d/weightd.conf" \
	"$root/lib/tmpfiles.d/weightd.conf" \
	"$pkgdatadir/prometheus/weightd-rules.yml" "$pkgdatadir/prometheus/weightd-rules.test.yml" \
	"$pkgdatadir/kubernetes/redis/weightd-redis.yaml" "$pkgdatadir/kubernetes/file-sidecar/weightd-file-sidecar.yaml" \
	"$pkgdatadir/docker/Dockerfile" "$pkgdatadir/grafana/weightd.json"; do
	[ -s "$f" ] || fail "not installed: ${f#"$dest"}"
done
ok "every file installed"

unit="$root/lib/systemd/system/weightd.service"
grep -qxF "ExecStart=$sbindir/weightd -c $sysconfdir/weightd/weightd.conf" "$unit" ||
	fail "installed unit's ExecStart: $(grep '^ExecStart=' "$unit")"
grep -q '@[a-z]*@' "$unit" && fail "installed unit has unsubstituted @var@"
ok "the installed unit runs $sbindir/weightd"

# The installed examples still pass -t (secrets from the installed placeholders).
for f in "$docdir"/examples/*.conf; do
	sed "s|/etc/weightd/secrets/|$docdir/examples/secrets/|g" "$f" >"$WORK/x.conf"
	"$dest$sbindir/weightd" -t -c "$WORK/x.conf" >/dev/null 2>"$WORK/x.err" ||
		fail "installed $(basename "$f") fails -t: $(cat "$WORK/x.err")"
done
ok "installed examples pass -t"

# The config is the operator's: a second install keeps an edited one, and
# uninstall removes it only while it is still the shipped one.
conf="$dest$sysconfdir/weightd/weightd.conf"
printf '# edited by the operator\n' >>"$conf"
cp "$conf" "$WORK/edited.conf"
run_make install
cmp -s "$conf" "$WORK/edited.conf" || fail "a second make install overwrote the edited config"
ok "a second make install keeps the edited config"
run_make uninstall
cmp -s "$conf" "$WORK/edited.conf" || fail "make uninstall removed or changed the edited config"
rm -f "$conf"
left=$(find "$dest" -type f | head -n 5)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removes everything but the edited config"

run_make install
run_make uninstall
left=$(find "$dest" -type f | head -n 5)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removes everything, the unedited config included"
