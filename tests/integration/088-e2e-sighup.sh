#!/bin/sh
# 088-e2e-sighup: a pin and then a freeze, sent with SIGHUP, apply from the
# next tick; a broken config on SIGHUP is ignored and the loop goes on.
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/hetero.scn" <<'EOS'
seed = 28;
traefik = { service = "medical-imaging"; };
load = { rate = 100.0; };
backends = (
  { name = "server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 34; },
  { name = "server2:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 33; },
  { name = "server3:8080"; capacity = 40.0; slots = 8; latency = "80ms"; weight = 33; }
);
EOS
start_loop_file "$WORK/hetero.scn" "server1:8080=34 server2:8080=33 server3:8080=33"
wait_for "weightd's first write" 20 test -s "$OUT_FILE"

weight_is() {
	[ "$(sim_weight "$1")" = "$2" ]
}
# pin server2 at 10
sed 's/\(name = "server2:8080";.*weight = 33;\)/\1 pin = 10;/' "$WORK/weightd.conf" >"$WORK/pin.conf"
grep -q "pin = 10" "$WORK/pin.conf" || fail "could not write the pin"
cp "$WORK/pin.conf" "$WORK/weightd.conf"
kill -HUP "$WEIGHTD_PID"
wait_log "config reloaded" 5
wait_for "server2 pinned at 10" 5 weight_is server2:8080 10
ok "a pin applies on the next tick"

# freeze the service: the weights hold while server3 stays slow
sed 's/^    kind  = "servers";/    kind  = "servers"; freeze = true;/' "$WORK/pin.conf" >"$WORK/weightd.conf"
kill -HUP "$WEIGHTD_PID"
wait_for "the second reload" 5 sh -c "[ \$(grep -c 'config reloaded' '$WORK/weightd.log') -ge 2 ]"
wait_truth_rows 6 10 # let the last pre-freeze tick land
cp "$OUT_FILE" "$WORK/frozen.yml"
wait_truth_rows 15 15
cmp -s "$OUT_FILE" "$WORK/frozen.yml" || fail "weights moved while frozen"
ok "a freeze holds the weights"

# a broken config: rejected whole, the frozen loop goes on
printf 'interval = "1s"\nservices = ( {\n' >"$WORK/weightd.conf"
kill -HUP "$WEIGHTD_PID"
wait_log "config reload failed" 5
wait_truth_rows 9 10
kill -0 "$WEIGHTD_PID" || fail "weightd died on a broken config"
cmp -s "$OUT_FILE" "$WORK/frozen.yml" || fail "the old (frozen) config was not kept"
weight_is server2:8080 10 || fail "the pin was lost"
ok "a broken config on SIGHUP is ignored"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
