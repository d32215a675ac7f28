#!/bin/sh
# 022-prom-timeout: a server that answers after prometheus.timeout fails the
# query within the timeout plus a small margin, and five such queries in one
# batch run concurrently: together they take about one timeout, not five.
# (The timeout is the contract under test; the margins are generous.)
. "$top_srcdir/tests/integration/common.sh"
PROMQ="$top_builddir/tests/tools/promq"

# Never answers a query: a 2 s timeout must end each one.
FAKE_PROM_REQLOG="$WORK/requests.log" start_fake_prom hang
URL=$FAKE_PROM_URL

elapsed() { sed -n 's/^elapsed_ms //p' "$1"; }

"$PROMQ" -t 2000 "$URL" up >"$WORK/one.out" && fail "a query past the timeout succeeded"
cat "$WORK/one.out"
grep -qF 'err 0 query "up": no answer within prometheus.timeout (2s)' "$WORK/one.out" ||
	fail "no timeout error naming the query"
ms=$(elapsed "$WORK/one.out")
[ "$ms" -ge 1900 ] && [ "$ms" -lt 3000 ] || fail "one slow query took ${ms} ms; want 2000 ms + margin"
ok "a slow query fails after ${ms} ms (timeout 2000 ms)"

: >"$WORK/requests.log"
"$PROMQ" -t 2000 "$URL" 'q1' 'q2' 'q3' 'q4' 'q5' >"$WORK/five.out" && fail "slow queries succeeded"
cat "$WORK/five.out"
[ "$(grep -c '^err [0-4] query "q[1-5]": no answer within prometheus.timeout (2s)$' "$WORK/five.out")" -eq 5 ] ||
	fail "not five timeout errors"
[ "$(wc -l <"$WORK/requests.log")" -eq 5 ] || fail "the server did not receive all five queries"
ms=$(elapsed "$WORK/five.out")
[ "$ms" -lt 4000 ] || fail "five slow queries took ${ms} ms: not concurrent (one timeout is 2000 ms)"
ok "five slow queries of one batch fail together after ${ms} ms"

# With prometheus.max_concurrency = 2, two of the five start and time out;
# the other three are then not started (they would time out too): the batch
# still costs about one timeout, never five.
: >"$WORK/requests.log"
"$PROMQ" -t 2000 -n 2 "$URL" 'q1' 'q2' 'q3' 'q4' 'q5' >"$WORK/capped.out" && fail "slow queries succeeded"
cat "$WORK/capped.out"
[ "$(grep -c 'no answer within prometheus.timeout (2s)$' "$WORK/capped.out")" -eq 2 ] ||
	fail "want two timeouts with max_concurrency 2"
[ "$(grep -c 'not started: an earlier query of this tick timed out$' "$WORK/capped.out")" -eq 3 ] ||
	fail "want three queries not started"
[ "$(wc -l <"$WORK/requests.log")" -eq 2 ] || fail "the server received $(wc -l <"$WORK/requests.log") queries, want 2"
ms=$(elapsed "$WORK/capped.out")
[ "$ms" -lt 4000 ] || fail "a capped batch took ${ms} ms"
ok "max_concurrency 2: two in flight and timed out, the rest not started (${ms} ms)"
