#!/bin/sh
# 046-state-restart: weightd restarted with a state file resumes the same
# weights and PID memory (it restores them and saves them back unchanged
# after a tick that holds, Prometheus being unreachable); unknown and invalid
# entries are skipped with a warning, never fatal; a broken file is ignored.
. "$top_srcdir/tests/integration/common.sh"

S=$WORK/state.json
mkdir "$WORK/dyn"
STATE_FILE=$S write_output_config "$WORK/c.conf" "type = \"file\"; path = \"$WORK/dyn/weightd.yml\";"

cat >"$S" <<'JSON'
{"version": 1, "services": {
  "app": {
    "s1": {"weight": 61.123456789012345, "out_weight": 61, "e1": 0.0333333333333333, "e2": -1e-09, "n_err": 2, "stale": 0},
    "s2": {"weight": 25.5, "out_weight": 26, "e1": -0.25, "e2": 0.125, "n_err": 2, "stale": 1},
    "s3": {"weight": 13.25, "out_weight": 13, "e1": 0.5, "e2": 0, "n_err": 1, "stale": 0}},
  "canary": {
    "app-v1@file": {"weight": 80, "out_weight": 80, "e1": 0.01, "e2": 0.02, "n_err": 2, "stale": 0},
    "app-v2@file": {"weight": 20, "out_weight": 20, "e1": -0.01, "e2": -0.02, "n_err": 2, "stale": 0}}}}
JSON
cp "$S" "$WORK/seed.json"

# One tick: Prometheus is unreachable, so every weight holds; the state file
# is saved after the tick.
"$WEIGHTD" --once -c "$WORK/c.conf" 2>"$WORK/weightd.log" && fail "a tick without Prometheus succeeded"
log_has 'msg="controller state restored".*backends=5' || fail "no restore: $(cat "$WORK/weightd.log")"
python3 - "$WORK/seed.json" "$S" <<'PY' || fail "the saved state differs from the restored one"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["version"] == 1
# stale counts ticks without data: the policy may count this one.
keys = ("weight", "out_weight", "e1", "e2", "n_err")
for s, backends in a["services"].items():
    for n, e in backends.items():
        got = b["services"][s][n]
        for k in keys:
            assert got[k] == e[k], (s, n, k, got[k], e[k])
PY
ok "restart: weights and PID memory restored and saved back identical"

# Unknown and invalid entries: a warning each, the rest restored.
cat >"$S" <<'JSON'
{"version": 1, "services": {
  "gone": {"x": {"weight": 1}},
  "app": {
    "s1": {"weight": "heavy", "out_weight": 61, "e1": 0, "e2": 0, "n_err": 2, "stale": 0},
    "s9": {"weight": 10, "out_weight": 10, "e1": 0, "e2": 0, "n_err": 0, "stale": 0},
    "s2": {"weight": 500, "out_weight": 500, "e1": 0.5, "e2": 0.25, "n_err": 2, "stale": 0}}}}
JSON
: >"$WORK/weightd.log"
"$WEIGHTD" --once -c "$WORK/c.conf" 2>"$WORK/weightd.log" || true
log_has 'level=warn msg="state file ignored in part".*service \\"gone\\" is not in the config' ||
	fail "unknown service: $(cat "$WORK/weightd.log")"
log_has 'backend \\"s9\\" is not in the config' || fail "unknown backend not warned"
log_has 'backend \\"s1\\": weight is not a non-negative number' || fail "invalid entry not warned"
log_has 'msg="controller state restored".*backends=1' || fail "the valid entry not restored"
python3 - "$S" <<'PY' || fail "state after partial restore"
import json, sys
s = json.load(open(sys.argv[1]))["services"]["app"]
# s1 skipped (its configured 50), s2 clamped to max_weight (100), s3 at its
# configured 20: then filled to total 100 as 50 : 100 : 20.
w = [s[b]["out_weight"] for b in ("s1", "s2", "s3")]
assert w == [29, 59, 12], w
assert s["s2"]["e2"] == 0.25, s["s2"]
PY
ok "unknown and invalid entries skipped with warnings; weights clamped and made to sum to total"

# A broken file: a warning, and weightd runs on (and replaces it).
printf '{"version": 1, "servi' >"$S"
: >"$WORK/weightd.log"
"$WEIGHTD" --once -c "$WORK/c.conf" 2>"$WORK/weightd.log" || true
log_has 'level=warn msg="state file ignored in part".*not valid JSON; starting from the configured weights' ||
	fail "broken file: $(cat "$WORK/weightd.log")"
log_has 'weightd starting' || fail "weightd did not start"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$S" || fail "the broken file was not replaced"
ok "a broken state file is ignored with a warning"
