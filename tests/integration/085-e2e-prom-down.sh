#!/bin/sh
# 085-e2e-prom-down: Prometheus killed mid-run: weightd holds the weights,
# writes nothing and the output stays as it was; Prometheus back: weightd
# resumes and steers again.
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/hetero.scn" <<'EOS'
seed = 25;
traefik = { service = "medical-imaging"; };
load = { rate = 100.0; };
buckets = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0];
backends = (
  { name = "server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 50; },
  # slower still at 35 s, after the outage: the weights must move again
  { name = "server2:8080"; capacity = ( ("0s", 60.0), ("35s", 35.0) ); slots = 8;
    latency = ( ("0s", "40ms"), ("35s", "80ms") ); weight = 50; }
);
EOS
start_loop_file "$WORK/hetero.scn" "server1:8080=50 server2:8080=50"
moved() {
	w=$(out_weight http://server1:8080 2>/dev/null)
	[ -n "$w" ] && [ "$w" -gt 52 ]
}
wait_for "weightd to move weight to server1" 40 moved

stop_prometheus
wait_log "Prometheus query failed" 10
cp "$OUT_FILE" "$WORK/held.yml"
held_mtime=$(stat -c %Y.%i "$OUT_FILE")
wait_truth_rows 12 20 # six more seconds: six ticks without Prometheus
kill -0 "$WEIGHTD_PID" || fail "weightd died without Prometheus"
cmp -s "$OUT_FILE" "$WORK/held.yml" || fail "the output changed while Prometheus was down"
[ "$(stat -c %Y.%i "$OUT_FILE")" = "$held_mtime" ] || fail "the output was rewritten"
[ "$(count_log 'Prometheus query failed')" -le 2 ] || fail "the failure is logged every tick"
ok "Prometheus down: weights held, nothing written"

start_prometheus "127.0.0.1:$SIM_PORT"
wait_log "Prometheus queries recovered" 30
cp "$WORK/held.yml" "$WORK/before-resume.yml"
wait_for "a write after the recovery" 60 sh -c "! cmp -s '$OUT_FILE' '$WORK/before-resume.yml'"
ok "Prometheus back: weightd resumes"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
