#!/usr/bin/env python3
"""obs_exporter: a Prometheus exporter whose series a test steers through a file.

    obs_exporter.py PORT VALUES_FILE

Serves /metrics on 127.0.0.1:PORT. At each scrape it reads VALUES_FILE, lines of

    SERVICE BACKEND LATENCY_S ERROR_RATIO

and exports them as gauges labelled by service and backend:

    obs_latency_seconds{service="s",backend="a"} 0.1
    obs_error_ratio{service="s",backend="a"} 0

A backend left out of the file has no series (Prometheus marks it stale at the
next scrape), which is how a test takes a backend's data away."""
from metrics_server import serve_metrics
import sys

port, values = int(sys.argv[1]), sys.argv[2]


def body():
    lat = ["# TYPE obs_latency_seconds gauge"]
    err = ["# TYPE obs_error_ratio gauge"]
    with open(values) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or parts[0].startswith("#"):
                continue
            labels = '{service="%s",backend="%s"}' % (parts[0], parts[1])
            lat.append("obs_latency_seconds%s %s" % (labels, parts[2]))
            err.append("obs_error_ratio%s %s" % (labels, parts[3]))
    return ("\n".join(lat + err) + "\n").encode()


serve_metrics(port, body)
