#!/bin/sh
# 107-kubernetes: what the Kubernetes manifests promise, read from the files:
# the Traefik pod of the sidecar layout cannot become unready because of
# weightd (no readiness probe on the weightd container, no probe of /healthz,
# which answers 503 while Prometheus is down); no manifest hard-codes a
# namespace (each Kustomize base sets it); every base lists files that exist;
# the ServiceMonitor keeps weightd's own labels (honorLabels); weightd
# follows ConfigMap edits by itself (--watch-config).
. "$top_srcdir/tests/integration/common.sh"
command -v python3 >/dev/null || skip "python3 not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"

python3 - "$top_srcdir/contrib/kubernetes" <<'EOP' || fail "manifest check failed (above)"
import os, sys, yaml
root = sys.argv[1]
bad = []
bases = [d for d in sorted(os.listdir(root)) if os.path.isdir(os.path.join(root, d))]
if not bases:
    bad.append("no Kustomize base under contrib/kubernetes")
docs_by_file = {}
for b in bases:
    kpath = os.path.join(root, b, "kustomization.yaml")
    if not os.path.exists(kpath):
        bad.append(f"{b}: no kustomization.yaml"); continue
    k = yaml.safe_load(open(kpath))
    if not k.get("namespace"):
        bad.append(f"{b}: the base sets no namespace")
    for r in k.get("resources", []):
        p = os.path.join(root, b, r)
        if not os.path.exists(p):
            bad.append(f"{b}: resource {r} does not exist"); continue
        docs_by_file[p] = [d for d in yaml.safe_load_all(open(p)) if d]

def pods(doc):
    spec = doc.get("spec", {}).get("template", {}).get("spec")
    return [spec] if spec else []

for path, docs in docs_by_file.items():
    name = os.path.relpath(path, root)
    for d in docs:
        if "namespace" in d.get("metadata", {}):
            bad.append(f"{name}: {d['kind']} {d['metadata'].get('name')} hard-codes a namespace")
        if d["kind"] == "ServiceMonitor":
            for e in d["spec"].get("endpoints", []):
                if e.get("honorLabels") is not True:
                    bad.append(f"{name}: ServiceMonitor endpoint {e.get('port')} lacks honorLabels: true")
        for spec in pods(d):
            names = [c["name"] for c in spec.get("containers", [])]
            for c in spec.get("containers", []):
                # A ConfigMap edit must reach weightd without kubectl exec.
                if c["name"] == "weightd" and "--watch-config" not in c.get("args", []):
                    bad.append(f"{name}: weightd runs without --watch-config: ConfigMap edits need kubectl exec")
            if "weightd" in names and len(names) > 1:
                # weightd shares a pod with the load balancer: nothing of
                # weightd's may decide that pod's readiness.
                for c in spec["containers"]:
                    if c["name"] != "weightd":
                        continue
                    if "readinessProbe" in c or "startupProbe" in c:
                        bad.append(f"{name}: sidecar weightd has a readiness/startup probe: the pod goes unready with it")
                    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                        hg = c.get(probe, {}).get("httpGet", {})
                        if hg.get("path") == "/healthz":
                            bad.append(f"{name}: sidecar {probe} on /healthz fails while Prometheus is down")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOP
ok "manifests: no sidecar probe can take the ingress down, no hard-coded namespace, honorLabels, bases complete"
