#!/bin/sh
# 042-output-file-errors: a write that cannot happen fails with a clear
# one-line message, leaves the last good file byte for byte, and leaves no
# temporary file: a parent that is a regular file, a file size limit
# (RLIMIT_FSIZE, as a full disk), a read-only mount and a full tmpfs (ENOSPC;
# both need unshare -m), and, when not root, a directory without write access.
. "$top_srcdir/tests/integration/common.sh"

# expect_fail CONF 'write ...' PATTERN GOOD_COPY FILE: the write fails with
# PATTERN, FILE is still GOOD_COPY, no temporary file next to it.
expect_fail() {
	r=$(run_outdrv "$1" "$2")
	case $r in "error: "*$3*) ;; *) fail "want error /$3/, got: $r" ;; esac
	[ "$(echo "$r" | wc -l)" -eq 1 ] || fail "message is not one line: $r"
	cmp -s "$4" "$5" || fail "the last good file changed after: $r"
	d=$(dirname "$5")
	[ -z "$(ls -A "$d" | grep '\.tmp$')" ] || fail "temporary file left: $(ls -A "$d")"
	ok "$r"
}

# The parent of the path is a regular file.
echo "not a directory" >"$WORK/notadir"
write_output_config "$WORK/nd.conf" "type = \"file\"; path = \"$WORK/notadir/weightd.yml\";"
r=$(run_outdrv "$WORK/nd.conf" write)
case $r in "error: cannot create a temporary file in $WORK/notadir: Not a directory") ;; *) fail "ENOTDIR: $r" ;; esac
ok "$r"

# A file size limit: writing the temporary file fails with EFBIG. The 40
# extra servers make the document larger than one block of ulimit -f.
D=$WORK/dyn
F=$D/weightd.yml
mkdir "$D"
MANY=40 write_output_config "$WORK/big.conf" "type = \"file\"; path = \"$F\";"
[ "$(run_outdrv "$WORK/big.conf" write)" = written ] || fail "first write"
cp "$F" "$WORK/good"
r=$(ulimit -f 1 && run_outdrv "$WORK/big.conf" 'write app=60,40' || true)
case $r in "error: cannot write $D/.weightd.yml."*".tmp: File too large") ;; *) fail "EFBIG: $r" ;; esac
cmp -s "$F" "$WORK/good" || fail "the last good file changed"
[ "$(ls -A "$D")" = weightd.yml ] || fail "left behind: $(ls -A "$D")"
ok "$r"
[ "$(run_outdrv "$WORK/big.conf" 'write app=60,40')" = written ] || fail "recovery after EFBIG"
ok "the next write succeeds"

# Without root, a read-only directory.
if [ "$(id -u)" -ne 0 ]; then
	cp "$F" "$WORK/good"
	chmod a-w "$D"
	expect_fail "$WORK/big.conf" 'write app=70,30' "Permission denied" "$WORK/good" "$F"
	chmod u+w "$D"
fi

# A read-only mount and a full disk, in a private mount namespace.
if ! unshare -m true 2>/dev/null; then
	echo "note: unshare -m not permitted here: read-only mount and ENOSPC cases not run"
	exit 0
fi
M=$WORK/mnt
mkdir "$M"
write_output_config "$WORK/m.conf" "type = \"file\"; path = \"$M/weightd.yml\";"
MANY=40 write_output_config "$WORK/mbig.conf" "type = \"file\"; path = \"$M/weightd.yml\";"
cat >"$WORK/inner.sh" <<INNER
set -eu
fail() { echo "FAIL: 042 (mount namespace): \$*" >&2; exit 1; }
ok() { echo "ok: \$*"; }
WORK=$WORK top_srcdir=$top_srcdir top_builddir=$top_builddir OUTDRV=$OUTDRV
$(sed -n '/^run_outdrv()/,/^}/p' "$top_srcdir/tests/integration/common.sh")
$(sed -n '/^expect_fail()/,/^}/p' "$0")
mount -t tmpfs -o size=64k tmpfs "$M" || fail "mount tmpfs"
[ "\$(run_outdrv "$WORK/m.conf" write)" = written ] || fail "write on tmpfs"
cp "$M/weightd.yml" "$WORK/mgood"
mount -o remount,ro "$M" || fail "remount ro"
expect_fail "$WORK/m.conf" 'write app=70,30,0' "cannot create a temporary file in $M: Read-only file system" "$WORK/mgood" "$M/weightd.yml"
mount -o remount,rw "$M"
dd if=/dev/zero of="$M/fill" bs=1k 2>/dev/null || true
expect_fail "$WORK/mbig.conf" 'write app=70,30' "No space left on device" "$WORK/mgood" "$M/weightd.yml"
rm "$M/fill"
[ "\$(run_outdrv "$WORK/mbig.conf" 'write app=70,30')" = written ] || fail "recovery after ENOSPC"
ok "the next write succeeds once there is space"
umount "$M"
INNER
unshare -m sh "$WORK/inner.sh" || fail "mount namespace cases"
