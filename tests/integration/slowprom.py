#!/usr/bin/env python3
"""slowprom: an HTTP server that answers Prometheus instant queries slowly,
or acts as a forward proxy / tenancy gateway stand-in for weightd's tests.

    slowprom.py PORT DELAY_S LOGFILE [STATUS]

GET /-/ready answers at once (readiness check). Every other request is
recorded in LOGFILE as one JSON line {"method", "path", "headers", "body"},
then answered after DELAY_S seconds: with STATUS (default 200). A 200 carries
a valid vector with one series {instance="a:1"} = 0.25; any other status
carries a plain-text body that echoes the request's Authorization header (to
prove weightd keeps secrets out of its error messages)."""
import http.server
import json
import sys
import threading
import time

port, delay, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
status = int(sys.argv[4]) if len(sys.argv) > 4 else 200
lock = threading.Lock()
VECTOR = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {"instance": "a:1"}, "value": [time.time(), "0.25"]}]}}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("latin-1") if n else ""
        if self.path == "/-/ready":
            self.answer(200, b"ready\n", "text/plain")
            return
        with lock, open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers.items()), "body": body}) + "\n")
        time.sleep(delay)
        try:
            if status == 200:
                self.answer(200, VECTOR, "application/json")
            else:
                echo = "denied: " + self.headers.get("Authorization", "-") + "\n"
                self.answer(status, echo.encode(), "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): expected

    do_GET = handle_any
    do_POST = handle_any

    def log_message(self, fmt, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
server.serve_forever()
