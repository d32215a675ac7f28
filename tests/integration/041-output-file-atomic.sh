#!/bin/sh
# 041-output-file-atomic: during 1000 writes, a reader polling the file never
# sees a partial or empty document, and a directory watcher (inotify, as
# Traefik's directory mode; a polling lister without it) never sees a name
# ending in .yml/.yaml/.toml other than the target. No temporary file stays.
. "$top_srcdir/tests/integration/common.sh"
python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null || skip "python3-yaml (with libyaml) is needed"

D=$WORK/dynamic
F=$D/weightd.yml
mkdir "$D"
write_output_config "$WORK/c.conf" "type = \"file\"; path = \"$F\";"
[ "$(run_outdrv "$WORK/c.conf" write)" = written ] || fail "first write"

$CHECK poll "$F" "$WORK/poll.ready" "$WORK/stop" >"$WORK/poll.out" 2>"$WORK/poll.log" &
POLL=$!
track "$POLL"
$CHECK watch "$D" weightd.yml "$WORK/watch.ready" "$WORK/stop" >"$WORK/watch.out" 2>"$WORK/watch.log" &
WATCH=$!
track "$WATCH"
wait_for "the reader" 10 test -f "$WORK/poll.ready"
wait_for "the watcher" 10 test -f "$WORK/watch.ready"

r=$(run_outdrv "$WORK/c.conf" 'loop 1000')
[ "$r" = "loop written=1000 unchanged=0 failed=0" ] || fail "writes: $r"
touch "$WORK/stop"
wait "$POLL" || fail "reader: $(cat "$WORK/poll.log")"
untrack "$POLL"
wait "$WATCH" || fail "watcher: $(cat "$WORK/watch.log")"
untrack "$WATCH"

# The reader must have raced the writer (seen several versions), and the
# watcher must have seen the temporary files, or the test proves nothing.
docs=$(sed -n 's/.*docs=\([0-9]*\).*/\1/p' "$WORK/poll.out")
[ "${docs:-0}" -ge 2 ] || fail "the reader saw ${docs:-0} versions: $(cat "$WORK/poll.out")"
tmp=$(sed -n 's/.*tmpnames=\([0-9]*\).*/\1/p' "$WORK/watch.out")
[ "${tmp:-0}" -ge 1 ] || fail "the watcher saw no temporary file: $(cat "$WORK/watch.out")"
ok "reader: $(cat "$WORK/poll.out"), all whole documents"
ok "watcher: $(cat "$WORK/watch.out"), no temporary .yml/.yaml/.toml name"

[ "$(ls -A "$D")" = weightd.yml ] || fail "left in the directory: $(ls -A "$D")"
$CHECK validate "$F" "$SCHEMA" | grep -q '^app 0 10$' || fail "last write (t=999: weight 10) not on disk"
ok "no temporary file left; the last write is on disk"

# The checkers themselves catch what they look for.
rm -f "$WORK/stop" "$WORK/watch.ready" "$WORK/poll.ready"
$CHECK watch "$D" weightd.yml "$WORK/watch.ready" "$WORK/stop" >/dev/null 2>"$WORK/watch.log" &
WATCH=$!
track "$WATCH"
wait_for "the watcher" 10 test -f "$WORK/watch.ready"
touch "$D/.weightd.yml.tmp.yml"
touch "$WORK/stop"
wait "$WATCH" && fail "the watcher missed a .yml temporary name"
untrack "$WATCH"
grep -q "would parse it" "$WORK/watch.log" || fail "watcher message: $(cat "$WORK/watch.log")"
rm -f "$WORK/stop" "$D/.weightd.yml.tmp.yml"
head -c 100 "$F" >"$WORK/partial.yml"
$CHECK poll "$WORK/partial.yml" "$WORK/poll.ready" "$WORK/stop" >/dev/null 2>"$WORK/poll.log" &&
	fail "the reader accepted a truncated document"
ok "the watcher and the reader catch a bad name and a truncated document"
