#!/bin/sh
# 049-output-split: metrics = "traefik" with kind servers writes the split
# layout (a weighted parent over one-server children), in the file and in
# Redis, both valid against Traefik v3.7's schema; a drained backend is left
# out of the parent (never weight 0) and its child stays; names are the
# documented "<service>--<backend>". Every load-balancer option an operator
# can set (strategy, health checks, sticky cookie, passHostHeader,
# serversTransport) lands where Traefik takes it, in both outputs, valid too.
. "$top_srcdir/tests/integration/common.sh"
python3 -c 'import yaml, jsonschema; yaml.CSafeLoader' 2>/dev/null ||
	skip "python3-yaml (with libyaml) and python3-jsonschema are needed"
SCHEMA37=$top_srcdir/tests/fixtures/traefik-v3.7-file-provider.json
shared=$top_srcdir/../shared/traefik/traefik-v3.7-file-provider.json
if [ -f "$shared" ]; then
	cmp -s "$shared" "$SCHEMA37" || fail "tests/fixtures v3.7 schema differs from $shared"
fi

# split_conf FILE 'output group body'
split_conf() {
	write_outdrv_config "$1" "$2" 'metrics = "traefik";' <<SERVICES
  { name = "web"; kind = "servers";
    backends = (
      { name = "s1:8080"; url = "http://10.0.0.1:8080"; weight = 50; },
      { name = "s2:8080"; url = "http://10.0.0.2:8080"; weight = 30; },
      { name = "s3:8080"; url = "http://10.0.0.3:8080"; weight = 20; }
    );
    health_check = { path = "/health"; interval = "10s"; timeout = "3s"; };
  },
  { name = "canary"; kind = "weighted";
    backends = ( { name = "app-v1@docker"; weight = 90; }, { name = "app-v2"; weight = 10; } ); }
SERVICES
}

D=$WORK/dynamic
F=$D/weightd.yml
mkdir "$D"
split_conf "$WORK/f.conf" "type = \"file\"; path = \"$F\";"
"$WEIGHTD" -t -c "$WORK/f.conf" >"$WORK/t" || fail "test config invalid"
[ "$(run_outdrv "$WORK/f.conf" write)" = written ] || fail "first write: $(cat "$WORK/outdrv.log")"
$CHECK validate "$F" "$SCHEMA37" >"$WORK/w" || fail "schema validation of the split layout"
cat >"$WORK/want" <<'W'
web 0 50
web 1 30
web 2 20
web--s1-8080 0 1
web--s2-8080 0 1
web--s3-8080 0 1
canary 0 90
canary 1 10
W
cmp -s "$WORK/want" "$WORK/w" || fail "split layout read back: $(cat "$WORK/w")"
grep -q '"web--s3-8080":' "$F" || fail "child names"
ok "split layout valid against the v3.7 schema; weights on the parent"

[ "$(run_outdrv "$WORK/f.conf" 'write web=70,0,30')" = written ] || fail "drain write"
$CHECK validate "$F" "$SCHEMA37" >"$WORK/w" || fail "schema validation (drain)"
grep -q '^web 1 30$' "$WORK/w" && grep -q '^web--s2-8080 0 1$' "$WORK/w" && ! grep -q '^web 2' "$WORK/w" ||
	fail "drained child: $(cat "$WORK/w")"
python3 - "$F" <<'PY' || fail "drained child is listed in the parent"
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["http"]["services"]
names = [c["name"] for c in s["web"]["weighted"]["services"]]
assert names == ["web--s1-8080", "web--s3-8080"], names
assert s["web"]["weighted"]["healthCheck"] == {}
assert s["web--s2-8080"]["loadBalancer"]["servers"] == [{"url": "http://10.0.0.2:8080"}]
PY
ok "a drained backend is left out of the parent; its child stays"

# The same layout in Redis, read back as Traefik's KV provider does.
start_redis --notify-keyspace-events KEA
split_conf "$WORK/r.conf" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\";"
[ "$(run_outdrv "$WORK/r.conf" 'write web=70,0,30')" = written ] || fail "redis write: $(cat "$WORK/outdrv.log")"
$CHECK kvvalidate "$REDIS_PORT" traefik "$SCHEMA37" >"$WORK/kw" || fail "KV schema validation"
grep -v "^canary" "$WORK/w" | sort >"$WORK/w2"; grep -v "^canary" "$WORK/kw" | sort >"$WORK/kw2"
cmp -s "$WORK/w2" "$WORK/kw2" ||
	fail "KV weights differ from the file's: $(cat "$WORK/kw2") vs $(cat "$WORK/w2")"
$CHECK kv "$REDIS_PORT" 'traefik/http/services/web/*' >"$WORK/kv"
grep -qx 'traefik/http/services/web/weighted/healthCheck = true' "$WORK/kv" || fail "parent health: $(cat "$WORK/kv")"
ok "the split layout in Redis is valid against the v3.7 schema"

# Every load-balancer option the operator can set, in both layouts and in a
# weighted service, file and Redis, valid against the v3.7 schema.
opts_conf() {
	write_outdrv_config "$1" "$2" <<SERVICES
  { name = "plain"; latency_query = "up";
    strategy = "leasttime"; pass_host_header = false; servers_transport = "mtls@file";
    sticky_cookie = { name = "lb"; secure = true; http_only = true; same_site = "strict"; };
    passive_health_check = { failure_window = "30s"; max_failed_attempts = 3; };
    health_check = { path = "/health"; method = "HEAD"; scheme = "https"; hostname = "h.example";
      port = 8443; interval = "10s"; timeout = "3s"; follow_redirects = false;
      headers = [ "X-Probe: weightd", "Authorization-Hint: none" ]; };
    backends = ( { name = "p1"; url = "http://10.0.1.1:80"; }, { name = "p2"; url = "http://10.0.1.2:80"; } ); },
  { name = "split"; metrics = "traefik"; strategy = "wrr"; pass_host_header = true;
    servers_transport = "mtls@file"; sticky_cookie = { };
    passive_health_check = { };
    health_check = { path = "/up"; };
    backends = ( { name = "s1"; url = "http://10.0.2.1:80"; }, { name = "s2"; url = "http://10.0.2.2:80"; } ); },
  { name = "canary"; kind = "weighted"; latency_query = "up";
    sticky_cookie = { name = "c"; };
    backends = ( { name = "v1@file"; weight = 90; }, { name = "v2@file"; weight = 10; } ); }
SERVICES
}
opts_conf "$WORK/of.conf" "type = \"file\"; path = \"$F\";"
"$WEIGHTD" -t -c "$WORK/of.conf" >/dev/null || fail "options config invalid"
[ "$(run_outdrv "$WORK/of.conf" write)" = written ] || fail "options write: $(cat "$WORK/outdrv.log")"
$CHECK validate "$F" "$SCHEMA37" >/dev/null || fail "schema validation with every option"
python3 - "$F" <<'PY' || fail "options in the file"
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["http"]["services"]
lb = s["plain"]["loadBalancer"]
assert lb["strategy"] == "leasttime" and lb["passHostHeader"] is False, lb
assert lb["serversTransport"] == "mtls@file", lb
assert lb["sticky"] == {"cookie": {"name": "lb", "secure": True, "httpOnly": True, "sameSite": "strict"}}, lb
assert lb["passiveHealthCheck"] == {"failureWindow": "30s", "maxFailedAttempts": 3}, lb
hc = lb["healthCheck"]
assert hc == {"path": "/health", "method": "HEAD", "scheme": "https", "hostname": "h.example",
              "port": 8443, "interval": "10s", "timeout": "3s", "followRedirects": False,
              "headers": {"X-Probe": "weightd", "Authorization-Hint": "none"}}, hc
p = s["split"]["weighted"]
assert p["sticky"] == {"cookie": {}} and p["healthCheck"] == {}, p
for c in ("split--s1", "split--s2"):
    lb = s[c]["loadBalancer"]
    assert lb["passHostHeader"] is True and lb["serversTransport"] == "mtls@file", lb
    assert lb["passiveHealthCheck"] == {} and lb["healthCheck"] == {"path": "/up"}, lb
    assert "strategy" not in lb and "sticky" not in lb, lb
assert s["canary"]["weighted"]["sticky"] == {"cookie": {"name": "c"}}, s["canary"]
PY
ok "every option in the file, where Traefik takes it, valid against the v3.7 schema"

opts_conf "$WORK/or.conf" "type = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\";"
[ "$(run_outdrv "$WORK/or.conf" write)" = written ] || fail "options redis write: $(cat "$WORK/outdrv.log")"
$CHECK kvvalidate "$REDIS_PORT" traefik "$SCHEMA37" >/dev/null || fail "KV schema validation with every option"
$CHECK kv "$REDIS_PORT" 'traefik/http/services/*' >"$WORK/okv"
for kv in 'plain/loadBalancer/strategy = leasttime' 'plain/loadBalancer/passHostHeader = false' \
	'plain/loadBalancer/healthCheck/headers/X-Probe = weightd' \
	'plain/loadBalancer/passiveHealthCheck/maxFailedAttempts = 3' \
	'plain/loadBalancer/sticky/cookie/sameSite = strict' 'split/weighted/sticky/cookie = true' \
	'split--s1/loadBalancer/passiveHealthCheck = true' 'canary/weighted/sticky/cookie/name = c'; do
	grep -qx "traefik/http/services/$kv" "$WORK/okv" || fail "KV lacks $kv: $(cat "$WORK/okv")"
done
ok "every option in Redis, valid against the v3.7 schema"

# A service weightd writes as weighted while someone else's keys make it a
# loadBalancer too: Traefik would reject it, so weightd refuses to write that
# one (saying why, every tick until the keys are gone) and writes the others.
R="redis-cli -p $REDIS_PORT"
$R flushall >/dev/null
$R set traefik/http/services/web/loadBalancer/servers/0/url http://by-hand:1 >/dev/null
start_outdrv "$WORK/r.conf"
send_outdrv write
case $REPLY in
"error: service web not written: Redis holds \"traefik/http/services/web/loadBalancer/servers/0/url\", which weightd did not write, and weightd writes \"web\" as weighted: Traefik rejects a service of two kinds"*) ;;
*) fail "refusal: $REPLY" ;;
esac
[ -z "$($R keys 'traefik/http/services/web/weighted/*')" ] || fail "the refused service was written"
[ "$($R get traefik/http/services/canary/weighted/services/0/name)" = app-v1@docker ] ||
	fail "the other services were not written"
[ "$($R get traefik/http/services/web--s1-8080/loadBalancer/servers/0/url)" = http://10.0.0.1:8080 ] ||
	fail "the children were not written"
send_outdrv write
case $REPLY in "error: service web not written"*) ;; *) fail "second tick: $REPLY" ;; esac
$R del traefik/http/services/web/loadBalancer/servers/0/url >/dev/null
send_outdrv write
[ "$REPLY" = written ] || fail "after the operator's key is gone: $REPLY"
[ "$($R get traefik/http/services/web/weighted/services/0/name)" = web--s1-8080 ] || fail "web not written"
send_outdrv write
[ "$REPLY" = unchanged ] || fail "then unchanged: $REPLY"
stop_outdrv
$CHECK kvvalidate "$REDIS_PORT" traefik "$SCHEMA37" >/dev/null || fail "KV invalid after the refusal"
ok "a service that would be both weighted and loadBalancer is refused with the reason; the others written"

# weightd's own keys of the other kind go with the write: the same service
# written as a loadBalancer (metrics custom), then as a split parent.
$R flushall >/dev/null
sed 's/^metrics = "traefik";$/metrics = "custom"; policy = { latency_query = "up"; };/' "$WORK/r.conf" >"$WORK/rc.conf"
[ "$(run_outdrv "$WORK/rc.conf" write)" = written ] || fail "custom write: $(tail -n 3 "$WORK/outdrv.log")"
[ -n "$($R keys 'traefik/http/services/web/loadBalancer/*')" ] || fail "no loadBalancer keys"
[ "$(run_outdrv "$WORK/r.conf" write)" = written ] || fail "split write after custom"
[ -z "$($R keys 'traefik/http/services/web/loadBalancer/*')" ] || fail "weightd's loadBalancer keys left"
$CHECK kvvalidate "$REDIS_PORT" traefik "$SCHEMA37" >/dev/null || fail "KV invalid after the change of layout"
ok "a change of layout replaces weightd's own keys of the old kind"

# weightd-sim reads the split layout from Redis as Traefik would: each
# child's server weighted as the child is in the parent, a drained child's
# server at 0, and the same in the API it serves.
$R flushall >/dev/null
[ "$(run_outdrv "$WORK/r.conf" 'write web=70,0,30')" = written ] || fail "split write for the sim"
cat >"$WORK/web.scn" <<'EOS'
seed = 3;
traefik = { service = "web"; };
load = { rate = 10.0; };
backends = (
  { name = "s1:8080"; url = "http://10.0.0.1:8080"; capacity = 100.0; latency = "10ms"; },
  { name = "s2:8080"; url = "http://10.0.0.2:8080"; capacity = 100.0; latency = "10ms"; },
  { name = "s3:8080"; url = "http://10.0.0.3:8080"; capacity = 100.0; latency = "10ms"; }
);
EOS
start_sim "$WORK/web.scn" -r "127.0.0.1:$REDIS_PORT"
sim_weights_are() {
	[ "$(sim_weight s1:8080)" = 70 ] && [ "$(sim_weight s2:8080)" = 0 ] && [ "$(sim_weight s3:8080)" = 30 ]
}
wait_for "the sim to follow the split layout in Redis" 10 sim_weights_are
curl -fsS "http://127.0.0.1:$SIM_PORT/api/http/services/web@redis" |
	jq -e '.weighted.services == [{"name": "web--s1-8080", "weight": 70}, {"name": "web--s3-8080", "weight": 30}]' \
	>/dev/null || fail "sim API: $(curl -s "http://127.0.0.1:$SIM_PORT/api/http/services/web@redis")"
stop_sim
ok "weightd-sim follows the split layout in Redis: 70/0/30"
