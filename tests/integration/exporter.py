#!/usr/bin/env python3
"""exporter: a tiny Prometheus exporter standing in for one backend.

    exporter.py PORT LATENCY_S ERROR_FRACTION RATE_PER_S

Serves /metrics on 127.0.0.1:PORT with counters and a histogram that grow with
wall-clock time as if the backend served RATE_PER_S requests per second, each
taking LATENCY_S, a fraction ERROR_FRACTION of them answered with code 500:

    http_requests_total{code="200"|"500"}
    model_inference_duration_seconds_bucket{le=...} (+ _sum, _count)

Prometheus adds the backend's instance label (127.0.0.1:PORT) when it scrapes,
so rate() and histogram_quantile() "by (instance)" name each backend."""
from metrics_server import serve_metrics
import sys
import time

port = int(sys.argv[1])
latency, err_frac, rate = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
BUCKETS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
start = time.monotonic()


def body():
    n = rate * (time.monotonic() - start)
    errors = n * err_frac
    lines = [
        "# HELP http_requests_total Requests served.",
        "# TYPE http_requests_total counter",
        'http_requests_total{code="200"} %.6f' % (n - errors),
        'http_requests_total{code="500"} %.6f' % errors,
        "# HELP model_inference_duration_seconds Time per request.",
        "# TYPE model_inference_duration_seconds histogram",
    ]
    for le in BUCKETS:
        lines.append('model_inference_duration_seconds_bucket{le="%g"} %.6f'
                     % (le, n if latency <= le else 0.0))
    lines.append('model_inference_duration_seconds_bucket{le="+Inf"} %.6f' % n)
    lines.append("model_inference_duration_seconds_sum %.6f" % (n * latency))
    lines.append("model_inference_duration_seconds_count %.6f" % n)
    return ("\n".join(lines) + "\n").encode()


serve_metrics(port, body)
