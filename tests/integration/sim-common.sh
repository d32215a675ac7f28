# sim-common.sh: helpers for the tests that run weightd-sim (sourced after
# common.sh, POSIX sh).
SIM="$top_builddir/weightd-sim"

# start_sim SCENARIO [args...]: runs weightd-sim on a free port with its ground
# truth in $WORK/truth.csv and its log in $WORK/sim.log; waits for /metrics.
# Sets SIM_PORT, SIM_PID.
start_sim() {
	scn=$1
	shift
	SIM_PORT=$(free_port)
	"$SIM" -s "$scn" -l "127.0.0.1:$SIM_PORT" --poll 100ms -o "$WORK/truth.csv" "$@" \
		>"$WORK/sim.out" 2>>"$WORK/sim.log" &
	SIM_PID=$!
	track "$SIM_PID"
	wait_for "weightd-sim /metrics" 10 http_ok "http://127.0.0.1:$SIM_PORT/metrics"
}

# stop_sim: SIGTERM; fails the test unless weightd-sim exits 0.
stop_sim() {
	kill -TERM "$SIM_PID"
	wait "$SIM_PID" || fail "weightd-sim exit status $? on SIGTERM"
	untrack "$SIM_PID"
}

# share BACKEND: its traffic share in the newest interval of the ground truth.
share() {
	grep ",$1," "$WORK/truth.csv" | tail -n 1 | cut -d, -f6
}

# share_is BACKEND MIN MAX: the newest share lies in [MIN, MAX].
share_is() {
	awk -v s="$(share "$1")" -v lo="$2" -v hi="$3" 'BEGIN { exit !(s >= lo && s <= hi) }'
}

# truth_rows: lines in the ground truth so far.
truth_rows() {
	wc -l <"$WORK/truth.csv"
}

# wait_truth_rows N TIMEOUT: until the ground truth has N more lines than now.
wait_truth_rows() {
	want=$(($(truth_rows) + $1))
	wait_for "$1 more ground-truth rows" "$2" sh -c "[ \$(wc -l <'$WORK/truth.csv') -ge $want ]"
}
