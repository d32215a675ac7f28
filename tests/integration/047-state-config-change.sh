#!/bin/sh
# 047-state-config-change: weightd stopped, its config changed (a backend
# added; total, bounds and a pin changed), and restarted with the state file
# of the old config, against a real Prometheus where one service has data and
# the others' queries fail. The first tick writes the output (the live service has
# data), so the quiet services' weights are written as restored: they must
# already be valid for the new config -- summing to its total, within its
# bounds, the pin applied -- not the old weights carried over.
. "$top_srcdir/tests/integration/common.sh"

start_backends_prometheus
# The quiet services' query fails in Prometheus itself (an unknown function):
# their ticks have no data, so their weights are held as they are.
NODATA='no_such_function(up)'
mkdir "$WORK/out"

# conf QUIET_BACKENDS GROWN_POLICY G2_PIN G1_WEIGHT: the live service (data
# for both its backends), "quiet" with the given backends and "grown" with
# the given policy, pin and weight; neither of these two has data.
conf() {
	WD_STATE_FILE=$WORK/state.json write_live_config "$WORK/weightd.conf" 1s \
		"type = \"file\"; path = \"$WORK/out/weightd.yml\";" <<EOS
$(live_service),
 { name = "quiet"; label = "instance"; latency_query = "$NODATA"; backends = ( $1 ); },
 { name = "grown"; label = "instance"; latency_query = "$NODATA"; policy = { $2 }; backends = (
   { name = "g1:80"; url = "http://g1:80"; weight = $4; },
   { name = "g2:80"; url = "http://g2:80"; weight = 30; $3 },
   { name = "g3:80"; url = "http://g3:80"; weight = 10; } ); }
EOS
}

# weights SERVICE: its weights in the output, space-separated.
weights() { file_weights "$WORK/out/weightd.yml" "$1"; }

# The old config: quiet has two backends at 70 and 30, grown total 100.
conf '{ name = "q1:80"; url = "http://q1:80"; weight = 70; },
   { name = "q2:80"; url = "http://q2:80"; weight = 30; }' 'total = 100;' '' 60
"$WEIGHTD" --once -c "$WORK/weightd.conf" 2>"$WORK/weightd.log" || true
[ "$(weights quiet)" = "70 30" ] || fail "old config: quiet has $(weights quiet): $(cat "$WORK/weightd.log")"
[ "$(weights grown)" = "60 30 10" ] || fail "old config: grown has $(weights grown)"
jq -e '.services.quiet["q1:80"].out_weight == 70' "$WORK/state.json" >/dev/null ||
	fail "the state of the old config was not saved"
ok "old config written and its state saved"

# The new config: a backend added to quiet; grown's total 50, max_weight 40
# and g2 pinned at 5.
conf '{ name = "q1:80"; url = "http://q1:80"; weight = 70; },
   { name = "q2:80"; url = "http://q2:80"; weight = 30; },
   { name = "q3:80"; url = "http://q3:80"; weight = 33; }' \
	'total = 50; max_weight = 40;' 'pin = 5;' 35
: >"$WORK/weightd.log"
"$WEIGHTD" --once -c "$WORK/weightd.conf" 2>"$WORK/weightd.log" || true
log_has 'msg="controller state restored"' || fail "nothing restored: $(cat "$WORK/weightd.log")"
set -- $(weights live)
[ $(($1 + $2)) -eq 100 ] || fail "live: $*"
set -- $(weights quiet)
[ $# -eq 3 ] && [ $(($1 + $2 + $3)) -eq 100 ] || fail "quiet after a backend was added: $*"
[ "$1" -gt "$2" ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] || fail "quiet lost its proportions: $*"
ok "a backend added while stopped: quiet written as $* (total 100)"
set -- $(weights grown)
[ $(($1 + $2 + $3)) -eq 50 ] || fail "grown after total 50: $*"
[ "$2" -eq 5 ] || fail "grown: the pin 5 on g2 not applied: $*"
[ "$1" -le 40 ] && [ "$3" -le 40 ] || fail "grown: above max_weight 40: $*"
ok "total, bounds and a pin changed while stopped: grown written as $* (total 50)"
jq -e '[.services.quiet[].out_weight] | add == 100' "$WORK/state.json" >/dev/null ||
	fail "the saved state does not sum to total: $(cat "$WORK/state.json")"
ok "the saved state is the valid one"
