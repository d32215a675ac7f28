#!/bin/sh
# 100-example-configs: every config the project ships passes weightd -t: each
# file in etc/ and etc/examples/, and the weightd.conf of each Kubernetes
# ConfigMap in contrib/kubernetes/. Secret files named under
# /etc/weightd/secrets/ are read from etc/examples/secrets/ instead.
. "$top_srcdir/tests/integration/common.sh"

secrets="$top_srcdir/etc/examples/secrets"
[ -s "$secrets/redis.password" ] && [ -s "$secrets/mimir.token" ] ||
	fail "placeholder secrets missing under etc/examples/secrets"

# check NAME FILE: weightd -t on FILE with the secret paths substituted
# passes, prints only "PATH: ok", and warns about nothing.
check() {
	sed "s|/etc/weightd/secrets/|$secrets/|g" "$2" >"$WORK/check.conf"
	rc=0
	"$WEIGHTD" -t -c "$WORK/check.conf" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "$1: weightd -t exit $rc: $(cat "$WORK/err")"
	[ ! -s "$WORK/err" ] || fail "$1: weightd -t printed: $(cat "$WORK/err")"
	grep -qx "$WORK/check.conf: ok" "$WORK/out" || fail "$1: -t printed: $(cat "$WORK/out")"
	ok "$1"
	n=$((n + 1))
}

n=0
for f in "$top_srcdir"/etc/* "$top_srcdir"/etc/examples/*; do
	[ -f "$f" ] || continue
	check "${f#"$top_srcdir"/}" "$f"
done
[ "$n" -ge 4 ] || fail "only $n config files found under etc/"

# Without the substitution a missing secret file is an error naming the
# file (so the check above really read the secrets).
if [ ! -e /etc/weightd/secrets/redis.password ]; then
	rc=0
	"$WEIGHTD" -t -c "$top_srcdir/etc/examples/canary-redis.conf" >/dev/null 2>"$WORK/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "missing secret: exit $rc, want 2"
	grep -q 'password_file: cannot read "/etc/weightd/secrets/redis.password"' "$WORK/err" ||
		fail "missing secret message: $(cat "$WORK/err")"
	ok "a missing secret file fails -t with its name"
fi

# The ConfigMaps' weightd.conf.
command -v python3 >/dev/null || skip "python3 not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"
for f in "$top_srcdir"/contrib/kubernetes/*/weightd-*.yaml; do
	python3 - "$f" "$WORK/cm" <<'EOP' || fail "$f: cannot extract its ConfigMap"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
maps = [d for d in docs if d["kind"] == "ConfigMap" and "weightd.conf" in d.get("data", {})]
if len(maps) != 1:
    sys.exit("want one ConfigMap with weightd.conf, found %d" % len(maps))
open(sys.argv[2], "w").write(maps[0]["data"]["weightd.conf"])
EOP
	check "${f#"$top_srcdir"/} (ConfigMap weightd.conf)" "$WORK/cm"
done
