"""metrics_server: the tiny /metrics HTTP server the test exporters share.

    from metrics_server import serve_metrics
    serve_metrics(port, body)   # body() returns the exposition text as bytes
"""
import http.server


def serve_metrics(port, body):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            b = body()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def log_message(self, fmt, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
