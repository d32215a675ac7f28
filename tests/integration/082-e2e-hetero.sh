#!/bin/sh
# 082-e2e-hetero: the whole loop (weightd-sim -> Prometheus -> weightd -> YAML
# file -> weightd-sim) on servers of capacity 100, 70 and 30 at 70 % load:
# the weights end ordered like the capacities, and the fleet's p95 ends well
# below what equal weights give.
. "$top_srcdir/tests/integration/common.sh"

hetero_scenario "$WORK/hetero.scn"
equal=$(equal_p95 "$WORK/hetero.scn") || fail "baseline run failed"
start_loop_file "$WORK/hetero.scn" "$HETERO_START"
hetero_steers "$equal" weightd
stop_weightd
[ "$WEIGHTD_RC" -eq 0 ] || fail "weightd exit status $WEIGHTD_RC"
