#!/usr/bin/env python3
"""haproxy_api: sends one command to HAProxy's runtime API and prints the answer.

   haproxy_api.py HOST:PORT|/unix/path 'command'
"""
import socket
import sys

addr, cmd = sys.argv[1], sys.argv[2]
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(addr)
else:
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), 5)
s.sendall(cmd.encode() + b"\n")
out = b""
while True:
    data = s.recv(65536)
    if not data:
        break
    out += data
sys.stdout.write(out.decode())
