#!/usr/bin/env python3
"""fakeprom: the tests' one stand-in for Prometheus's HTTP API, for what a real
Prometheus will not do on demand: answer slowly, wrongly, or not at all, or
show what a client sent (tenancy headers, a proxy's absolute URL). Tests that
only need real data run the real Prometheus (common.sh: start_prometheus).

    fakeprom.py PORT MODEFILE [REQLOG]

Every query (a POST to any path) reads MODEFILE (one word) and answers:
  good     a valid vector for backends a:1 and b:1: latency 0.1 and 0.2 s
           (queries containing "error" get 0 errors, "rate" get 10 req/s)
  swap     as good, with the latencies swapped (keeps weights moving)
  garbage  200 with random bytes          html     200 with an HTML page
  half     200 with half a JSON document  e309     a sample value "1e309"
  huge     200 with a 100 MB body         drip     a chunked body that never ends
  500      HTTP 500 with a text body      reset    the connection reset (RST)
  hang     no answer at all (the connection stays open)
  echo401, echo403
           HTTP 401 or 403 whose body echoes the Authorization header
  echoapi, echojunk, echowarn
           the credentials (the Authorization header and, for basic auth,
           the password it carries) repeated after a padding that shifts by
           one byte per request: in a Prometheus error message (HTTP 400), in
           a 200 body that is not JSON, in the warnings of a good answer
  partial  as good, but HTTP 500 for queries containing "down" (one
           service's queries failing while the others answer)
GET /-/ready always answers 200 (readiness); any other GET is 404, or in
mode hang never answered (an unreachable API). With REQLOG, each query or GET
is appended to it, before it is answered, as one JSON line {"method",
"path", "headers", "body"} (to check what weightd sends)."""
import base64
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time

port, modefile = int(sys.argv[1]), sys.argv[2]
reqlog = sys.argv[3] if len(sys.argv) > 3 else None
reqlog_lock = threading.Lock()


def vector(query, swap):
    if "error" in query:
        vals = {"a:1": "0", "b:1": "0"}
    elif "rate" in query:
        vals = {"a:1": "10", "b:1": "10"}
    else:
        vals = {"a:1": "0.2", "b:1": "0.1"} if swap else {"a:1": "0.1", "b:1": "0.2"}
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"instance": k}, "value": [time.time(), v]} for k, v in vals.items()]}}


def echoed(headers, n):
    """The request's credentials repeated after n % 40 bytes of padding, so
    that over the requests they sit at every offset around any cut."""
    auth = headers.get("Authorization", "")
    creds = auth
    if auth.startswith("Basic "):
        creds += " " + base64.b64decode(auth[6:]).decode("latin-1")
    return "x" * (n % 40) + (" " + creds) * 40


class Handler(http.server.BaseHTTPRequestHandler):
    served = 0

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/-/ready":
            return self.answer(200, b"ready\n", "text/plain")
        # Any other GET (e.g. Traefik's API, read back by weightd) is logged;
        # in mode hang it is never answered either.
        if reqlog:
            with reqlog_lock, open(reqlog, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "headers": dict(self.headers), "body": ""}) + "\n")
        try:
            with open(modefile) as f:
                hang = f.read().strip() == "hang"
        except OSError:
            hang = False
        while hang:
            time.sleep(60)
        self.answer(404, b"not found\n", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("latin-1") if n else ""
        if reqlog:
            with reqlog_lock, open(reqlog, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "headers": dict(self.headers), "body": body}) + "\n")
        try:
            with open(modefile) as f:
                mode = f.read().strip() or "good"
        except OSError:
            mode = "good"
        if mode == "partial":
            mode = "500" if "down" in body else "good"
        if mode in ("good", "swap"):
            return self.answer(200, json.dumps(vector(body, mode == "swap")).encode())
        if mode == "garbage":
            # Never a valid JSON start (random bytes that begin with a digit
            # would parse as a number and make another error).
            return self.answer(200, b"\xff" + os.urandom(511))
        if mode == "html":
            return self.answer(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if mode == "half":
            doc = json.dumps(vector(body, False)).encode()
            return self.answer(200, doc[: len(doc) // 2])
        if mode == "e309":
            doc = json.dumps(vector(body, False)).replace('"0.1"', '"1e309"').replace('"0.2"', '"1e309"')
            return self.answer(200, doc.encode())
        if mode == "huge":
            size = 100 << 20
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b'{"status":"success","data":{"resultType":"vector","result":[' + b" " * ((1 << 20) - 60)
            sent = 0
            try:
                while sent < size:
                    part = chunk[: size - sent]
                    self.wfile.write(part)
                    sent += len(part)
                    chunk = b" " * (1 << 20)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                self.wfile.write(b"1\r\n{\r\n")
                for _ in range(600):  # bounded: at most a minute per request
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "500":
            return self.answer(500, b"internal server error: the query engine exploded\n", "text/plain")
        if mode == "hang":
            while True:
                time.sleep(60)
        if mode == "echo401":
            auth = self.headers.get("Authorization", "")
            return self.answer(401, ("unauthorized: got " + auth + "\n").encode(), "text/plain")
        if mode == "echo403":
            auth = self.headers.get("Authorization", "-")
            return self.answer(403, ("denied: " + auth + "\n").encode(), "text/plain")
        Handler.served += 1
        if mode == "echoapi":
            doc = {"status": "error", "errorType": "bad_data", "error": echoed(self.headers, Handler.served)}
            return self.answer(400, json.dumps(doc).encode())
        if mode == "echojunk":
            return self.answer(200, ('{"status":"success" ' + echoed(self.headers, Handler.served)).encode())
        if mode == "echowarn":
            doc = vector(body, False)
            doc["warnings"] = [echoed(self.headers, Handler.served)]
            return self.answer(200, json.dumps(doc).encode())
        if mode == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self.answer(500, ("unknown mode " + mode + "\n").encode(), "text/plain")


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
