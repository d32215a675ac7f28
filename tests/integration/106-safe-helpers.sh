#!/bin/sh
# 106-safe-helpers: the scripts an operator runs on a real host touch nothing
# of theirs. install-deps.sh installs and never stops or disables a service;
# demo.sh refuses an --out directory it did not create and, on a directory of
# its own, deletes only the files it writes.
. "$top_srcdir/tests/integration/common.sh"

# install-deps.sh with every package reported missing: record each command
# it runs through stand-ins for dpkg-query, apt-get, systemctl and service.
mkdir -p "$WORK/bin"
for c in apt-get systemctl service sudo; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$c" "$WORK" >"$WORK/bin/$c"
done
printf '#!/bin/sh\nexit 1\n' >"$WORK/bin/dpkg-query"
chmod +x "$WORK/bin/"*
PATH="$WORK/bin:$PATH" sh "$top_srcdir/contrib/install-deps.sh" >"$WORK/deps.log" 2>&1 ||
	fail "install-deps.sh failed: $(cat "$WORK/deps.log")"
grep -q '^apt-get install' "$WORK/calls" || fail "install-deps.sh did not install: $(cat "$WORK/calls")"
if grep -v '^apt-get\|^sudo apt-get' "$WORK/calls"; then
	fail "install-deps.sh ran more than apt-get (above)"
fi
grep -nE '\b(systemctl|service|killall|pkill)\b' "$top_srcdir/contrib/install-deps.sh" | grep -v '^[0-9]*:#' &&
	fail "install-deps.sh names a service manager (above)"
ok "install-deps.sh only installs packages"

# demo.sh on a directory it did not make: refused before anything runs, and
# everything in it is kept.
mkdir -p "$WORK/mine/sub"
echo precious >"$WORK/mine/notes.txt"
echo precious >"$WORK/mine/sub/weightd.conf"
echo precious >"$WORK/mine/weightd.conf"
set +e
sh "$top_srcdir/contrib/demo.sh" --no-install --no-live --duration 1 --out "$WORK/mine" \
	>"$WORK/demo.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "demo.sh --out on a foreign directory: exit $rc, want 2: $(cat "$WORK/demo.log")"
grep -q 'not made by demo.sh' "$WORK/demo.log" || fail "demo.sh gave no reason: $(cat "$WORK/demo.log")"
for f in notes.txt sub/weightd.conf weightd.conf; do
	[ "$(cat "$WORK/mine/$f")" = precious ] || fail "demo.sh touched $f"
done
ok "demo.sh refuses a directory it did not create and keeps its files"

# A relative --out is checked where it will be used.
(cd "$WORK" && sh "$top_srcdir/contrib/demo.sh" --no-install --no-live --duration 1 --out mine \
	>"$WORK/demo2.log" 2>&1) && fail "demo.sh accepted a relative foreign --out"
grep -q 'not made by demo.sh' "$WORK/demo2.log" || fail "relative --out: $(cat "$WORK/demo2.log")"
ok "a relative --out is refused the same way"
