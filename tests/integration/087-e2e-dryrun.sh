#!/bin/sh
# 087-e2e-dryrun: with --dry-run the output is never touched while the audit
# log shows the decisions weightd would have applied.
. "$top_srcdir/tests/integration/common.sh"

cat >"$WORK/hetero.scn" <<'EOS'
seed = 27;
traefik = { service = "medical-imaging"; };
load = { rate = 100.0; };
backends = (
  { name = "server1:8080"; capacity = 100.0; slots = 8; latency = "40ms"; weight = 50; },
  { name = "server2:8080"; capacity = 50.0; slots = 8; latency = "80ms"; weight = 50; }
);
EOS
mkdir -p "$WORK/dynamic"
OUT_FILE="$WORK/dynamic/weightd.yml"
start_sim "$WORK/hetero.scn" -f "$OUT_FILE"
start_prometheus "127.0.0.1:$SIM_PORT"
write_loop_config "type = \"file\"; path = \"$OUT_FILE\";" "server1:8080=50 server2:8080=50"
start_weightd "$WORK/weightd.conf" --dry-run
would_move() {
	[ -s "$WORK/audit.jsonl" ] &&
		jq -e -s 'map(select(.action == "dry_run" and .new != .old)) | length > 0' \
			"$WORK/audit.jsonl" >/dev/null
}
wait_for "a dry-run decision that moves a weight" 40 would_move
wait_truth_rows 10 10
[ ! -e "$OUT_FILE" ] || fail "dry run created the output"
[ -z "$(ls -A "$WORK/dynamic")" ] || fail "dry run left files beside the output: $(ls -A "$WORK/dynamic")"
[ "$(sim_weight server1:8080)" = 50 ] || fail "the balancer's weights moved in a dry run"
jq -e -s 'map(select(.action == "applied")) | length == 0' "$WORK/audit.jsonl" >/dev/null ||
	fail "dry run audited an applied decision"
ok "dry run: decisions audited, output untouched"
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
