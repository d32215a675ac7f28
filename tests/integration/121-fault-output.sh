#!/bin/sh
# 121-fault-output: the output directory turning read-only and the disk
# filling up under a running weightd. Each fails the write with one clear log
# line, leaves the last good file untouched (byte for byte, still valid), and
# the next tick after the fault goes writes again. Runs in its own mount
# namespace (unshare -m) so it can mount a small tmpfs and remount it.
if [ -z "${WEIGHTD_IN_NS:-}" ]; then
	if unshare -m --propagation private true 2>/dev/null; then
		WEIGHTD_IN_NS=1 exec unshare -m --propagation private sh "$0" "$@"
	fi
	echo "SKIP: 121-fault-output: unshare -m is not permitted here" >&2
	exit 77
fi
. "$top_srcdir/tests/integration/common.sh"

mkdir -p "$WORK/out"
mount -t tmpfs -o size=256k tmpfs "$WORK/out" || skip "cannot mount a tmpfs"
start_fake_prom
start_file_weightd

# Keep the weights moving so every tick wants to write.
flip() {
	if [ "$(cat "$WORK/mode")" = good ]; then set_prom_mode swap; else set_prom_mode good; fi
}

# check_fault NAME PATTERN BEFORE: the fault is on; the write fails with
# PATTERN (more than BEFORE such lines), the file stays as it was for several
# ticks with moving weights.
check_fault() {
	wait_new_log "output write failed.*$2" "$3"
	cp "$WORK/out/weightd.yml" "$WORK/held.yml"
	for i in 1 2 3; do
		flip
		wait_ticks 2
		cmp -s "$WORK/out/weightd.yml" "$WORK/held.yml" || fail "$1: the output changed during the fault"
	done
	yaml_ok "$WORK/out/weightd.yml" || fail "$1: the kept output does not parse"
	ls -a "$WORK/out" | grep -q '\.tmp$' && fail "$1: a temporary file was left behind"
	kill -0 "$WEIGHTD_PID" || fail "$1: weightd died"
}

# recovered NAME BEFORE: a new recovery line (more than BEFORE, counted before
# the fault was lifted: the next tick may recover before this runs).
recovered() {
	flip
	wait_new_log 'msg="output write recovered"' "$2"
	wait_for "$1: a new write" 20 sh -c "! cmp -s '$WORK/out/weightd.yml' '$WORK/held.yml'"
	yaml_ok "$WORK/out/weightd.yml" || fail "$1: the output after recovery does not parse"
	ok "$1"
}

# Read-only directory.
n=$(count_log 'output write failed.*Read-only file system')
mount -o remount,ro "$WORK/out"
flip
check_fault read-only 'Read-only file system' "$n"
r=$(count_log 'msg="output write recovered"')
mount -o remount,rw "$WORK/out"
recovered "read-only directory" "$r"

# Full disk.
n=$(count_log 'output write failed.*No space left on device')
dd if=/dev/zero of="$WORK/out/filler" bs=4k 2>/dev/null || true
flip
check_fault full-disk 'No space left on device' "$n"
r=$(count_log 'msg="output write recovered"')
rm -f "$WORK/out/filler"
recovered "full disk" "$r"

stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC"
umount "$WORK/out" 2>/dev/null || true
