#!/bin/sh
# 123-sighup-clock: a storm of SIGHUPs while ticking (no crash, no memory
# growth, the loop goes on with the right config), and the wall clock jumping
# a year forward and back under libfaketime (ticks run on CLOCK_MONOTONIC, so
# they go on at their pace; the audit's wall-clock timestamps show the jump).
. "$top_srcdir/tests/integration/common.sh"

start_fake_prom
start_file_weightd
wait_ticks 2

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$WEIGHTD_PID/status"; }
storm() {
	i=0
	while [ "$i" -lt 300 ]; do
		kill -HUP "$WEIGHTD_PID" || fail "weightd died during the SIGHUP storm"
		i=$((i + 1))
	done
}
storm
wait_ticks 3
rss1=$(rss)
reloads1=$(count_log 'msg="config reloaded"')
storm
wait_ticks 3
storm
wait_ticks 3
rss2=$(rss)
reloads2=$(count_log 'msg="config reloaded"')
kill -0 "$WEIGHTD_PID" || fail "weightd died after the SIGHUP storms"
[ "$reloads1" -ge 1 ] && [ "$reloads2" -gt "$reloads1" ] || fail "reloads: $reloads1 then $reloads2"
log_has 'config reload failed' && fail "a reload of an unchanged config failed"
# 600 more SIGHUPs (each at most one reload) must not grow the heap: allow
# 1 MiB. Under AddressSanitizer freed memory sits in a quarantine, so RSS says
# nothing there; LeakSanitizer checks at exit instead (a leak fails the exit
# status checked below).
if ldd "$WEIGHTD" 2>/dev/null | grep -q libasan; then
	echo "ASan build: RSS ${rss1} -> ${rss2} kB not compared; LeakSanitizer checks at exit"
else
	[ $((rss2 - rss1)) -lt 1024 ] || fail "RSS grew from ${rss1} kB to ${rss2} kB over two storms"
fi
yaml_ok "$WORK/out/weightd.yml" || fail "output invalid after the storms"
ok "900 SIGHUPs: $reloads2 reloads, RSS ${rss1} -> ${rss2} kB, ticking on"

# The config stays right through a storm: a changed config swapped in halfway
# through one is the config running after it; a broken one is rejected whole
# and the good one runs on.
storm_swap() { # storm_swap FILE: 300 SIGHUPs, FILE becomes the config after 150
	i=0
	while [ "$i" -lt 300 ]; do
		kill -HUP "$WEIGHTD_PID" || fail "weightd died during the SIGHUP storm"
		[ "$i" -eq 150 ] && cp "$1" "$WORK/weightd.conf.new" && mv "$WORK/weightd.conf.new" "$WORK/weightd.conf"
		i=$((i + 1))
	done
}
out_weights() {
	python3 -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
print(" ".join(str(s["weight"]) for s in d["http"]["services"]["svc"]["loadBalancer"]["servers"]))' \
		"$WORK/out/weightd.yml"
}
b_weight_is() { [ "$(out_weights | cut -d' ' -f2)" = "$1" ]; }
b_weight_moved_from() { ! b_weight_is "$1"; }
cp "$WORK/weightd.conf" "$WORK/good.conf"
sed 's|{ name = "b:1"; url = "http://b:1"; }|{ name = "b:1"; url = "http://b:1"; pin = 30; }|' \
	"$WORK/good.conf" >"$WORK/pinned.conf"
grep -q 'pin = 30' "$WORK/pinned.conf" || fail "could not make the pinned config"
storm_swap "$WORK/pinned.conf"
wait_for "the pin after the storm" 20 b_weight_is 30
wait_ticks 3
[ "$(out_weights)" = "70 30" ] || fail "after a storm with a new config: $(out_weights)"
ok "a config changed mid-storm is the one running after it ($(out_weights))"

head -n 5 "$WORK/pinned.conf" >"$WORK/broken.conf"
failed0=$(count_log 'msg="config reload failed')
storm_swap "$WORK/broken.conf"
wait_for "the broken config rejected" 20 log_count_above 'msg="config reload failed' "$failed0"
wait_ticks 3
[ "$(out_weights)" = "70 30" ] || fail "after a storm with a broken config: $(out_weights)"
kill -0 "$WEIGHTD_PID" || fail "weightd died on a broken config in a storm"
storm_swap "$WORK/good.conf"
wait_for "the pin lifted" 20 b_weight_moved_from 30
ok "a broken config mid-storm is rejected, the good one runs on; the next storm lifts the pin"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC after the storms"

# The clock: libfaketime moves the wall clock, not CLOCK_MONOTONIC.
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$lib" ] || skip "libfaketime is not installed (apt-get install faketime)"
echo "+0" >"$WORK/faketime"
: >"$WORK/audit.jsonl"
LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE="$WORK/faketime" FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0" \
	start_weightd "$WORK/weightd.conf"
wait_ticks 3
year() { tail -n 1 "$WORK/audit.jsonl" | jq -r '.ts[0:4]'; }
y0=$(year)

echo "+365d" >"$WORK/faketime"
wait_ticks 2
t=$(last_tick)
wait_ticks 5
y1=$(year)
[ "$y1" -eq $((y0 + 1)) ] || fail "the wall clock did not jump forward (audit year $y0 -> $y1)"
jq -s '[.[].tick] | unique | . as $t | [range(1; length)] | all($t[.] == $t[. - 1] + 1)' \
	"$WORK/audit.jsonl" | grep -q true || fail "tick numbers skipped after the forward jump"
ok "wall clock a year ahead: ticks go on ($t -> $(last_tick)), numbered without gaps"

echo "-365d" >"$WORK/faketime"
wait_ticks 2
y2=$(year)
[ "$y2" -eq $((y0 - 1)) ] || fail "the wall clock did not jump back (audit year $y2)"
t=$(last_tick)
wait_ticks 5
ok "wall clock a year behind: ticks go on ($t -> $(last_tick))"
yaml_ok "$WORK/out/weightd.yml" || fail "output invalid after the clock jumps"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "exit status $WEIGHTD_RC after the clock jumps"
