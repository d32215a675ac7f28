#!/usr/bin/env python3
"""blackhole: accepts TCP connections on 127.0.0.1:PORT and never answers.

Each accepted connection appends a line to the file named by the second
argument, so a test can wait until a client is really stuck in a request."""
import socket
import sys

port, log = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(log, "a") as f:
        f.write("accepted\n")
