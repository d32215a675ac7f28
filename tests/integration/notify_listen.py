#!/usr/bin/env python3
"""notify_listen: a stand-in for systemd's notification socket. Binds a UNIX
datagram socket at PATH and appends every message it receives, one per line
(its fields joined by spaces), to OUT, until killed.

  notify_listen.py PATH OUT"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out, "a").close()  # the file exists once the socket is bound
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        f.write(" ".join(msg.split("\n")) + "\n")
