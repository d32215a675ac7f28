#!/bin/sh
# 101-alert-rules: contrib/prometheus/weightd-rules.yml passes promtool check
# rules; weightd-rules.test.yml passes promtool test rules and exercises every
# alert; the rules use only weightd metric names that weightd exports.
. "$top_srcdir/tests/integration/common.sh"

command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
dir="$top_srcdir/contrib/prometheus"
rules="$dir/weightd-rules.yml"
tests="$dir/weightd-rules.test.yml"

promtool check rules "$rules" >"$WORK/check.log" 2>&1 || fail "promtool check rules: $(cat "$WORK/check.log")"
ok "promtool check rules"

# promtool resolves rule_files relative to the test file; run it on a copy
# so a read-only source tree (make distcheck) works.
cp "$rules" "$tests" "$WORK/"
(cd "$WORK" && promtool test rules weightd-rules.test.yml) >"$WORK/test.log" 2>&1 ||
	fail "promtool test rules: $(cat "$WORK/test.log")"
grep -q SUCCESS "$WORK/test.log" || fail "promtool test rules did not succeed: $(cat "$WORK/test.log")"
ok "promtool test rules"

# Every alert has at least one test that expects it to fire.
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\) *$/\1/p' "$rules")
[ "$(echo "$alerts" | wc -l)" -ge 7 ] || fail "expected at least 7 alerts, found: $alerts"
for a in $alerts; do
	awk -v a="$a" '
		$0 ~ "alertname: *" a "$" { inside = 1; next }
		/alertname:/ { inside = 0 }
		inside && /exp_labels:/ { found = 1 }
		END { exit !found }' "$tests" || fail "no test expects $a to fire"
done
ok "every alert is exercised: $(echo "$alerts" | tr "\n" " ")"

# The rules speak weightd's metric names (as weightd(8) lists them, action and
# frozen gauges included): a typo would make an alert silently never fire.
# (105 checks the same against a live weightd.)
known="weightd_ticks_total weightd_output_writes_total weightd_config_reloads_total
weightd_last_write_timestamp_seconds weightd_backend_weight weightd_backend_action
weightd_service_frozen weightd_build_info weightd_dry_run weightd_tick_duration_seconds
weightd_prometheus_queries_total weightd_config_last_reload_successful weightd_service_no_data"
for m in $(grep -o 'weightd_[a-z_]*' "$rules" | sort -u); do
	echo "$known" | tr ' ' '\n' | grep -qx "$m" || fail "rules use an unknown metric $m"
done
ok "metric names"
