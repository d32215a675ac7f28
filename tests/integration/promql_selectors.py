#!/usr/bin/env python3
"""promql_selectors: checks every PromQL expression of weightd's Grafana
dashboard and Prometheus rules against a live Prometheus that scrapes weightd.

  promql_selectors.py PROM_URL FILE...   (*.json: a Grafana dashboard; *.yml: rules)

Each expression (dashboard variables replaced by values that select everything)
must evaluate without error, and each series selector in it (a metric name with
its matchers) must select at least one series. Prints one line per problem and
exits 1 if there is any."""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml

VARS = {"$job": "weightd", "$service": ".+", "$__rate_interval": "1m", "$__range": "1h",
        "${datasource}": ""}
# A metric name not followed by "(" (a function) and not inside a string or a
# label list; with its {matchers} when it has them.
SELECTOR = re.compile(r'(?<![\w"{,=~!.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?(?!\s*\()')
KEYWORDS = {"sum", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "count", "max", "min", "avg", "rate", "increase", "time",
            "histogram_quantile", "le", "inf", "nan"}


def expressions(path):
    if path.endswith(".json"):
        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str):
                    yield node["expr"]
                for v in node.values():
                    yield from walk(v)
            elif isinstance(node, list):
                for v in node:
                    yield from walk(v)
        yield from walk(json.load(open(path)))
    else:
        for g in yaml.safe_load(open(path))["groups"]:
            for r in g["rules"]:
                yield r["expr"]


def query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    try:
        with urllib.request.urlopen(url + "/api/v1/query", data, timeout=5) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def selectors(expr):
    # Drop string literals' contents first so that label values are not read
    # as metric names.
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r'\[[^\]]*\]', '', bare)
    for m in SELECTOR.finditer(bare):
        name = m.group(1)
        if name.lower() in KEYWORDS or not name.startswith(("weightd_", "up")):
            continue
        # Recover the matchers from the original text at the same name.
        orig = re.search(re.escape(name) + r'(\{[^}]*\})?', expr)
        yield name + (orig.group(1) or "" if orig else "")


def main():
    url, files = sys.argv[1], sys.argv[2:]
    problems, n_expr, n_sel = [], 0, 0
    for f in files:
        for expr in expressions(f):
            for k, v in VARS.items():
                expr = expr.replace(k, v)
            n_expr += 1
            r = query(url, expr)
            if r.get("status") != "success":
                problems.append(f"{f}: {expr!r}: {r.get('error')}")
                continue
            for sel in set(selectors(expr)):
                n_sel += 1
                r = query(url, f"count({sel})")
                if r.get("status") != "success" or not r["data"]["result"]:
                    problems.append(f"{f}: selector {sel} selects no series (in {expr!r})")
    for p in problems:
        print(p)
    print(f"{n_expr} expressions, {n_sel} selectors checked, {len(problems)} problems", file=sys.stderr)
    sys.exit(1 if problems else 0)


main()
