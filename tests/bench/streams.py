#!/usr/bin/env python3
"""Holds N event streams (GET /v1/me/events) open on one haat instance, for make bench.

Usage: streams.py BASE_URL N PER_USER READY_FILE [idle]   (HAAT_JWT_SECRET in the environment)
With "idle": N keep-alive connections that each made one GET /healthz and then stay idle.
Opens N connections as N / PER_USER users (access tokens minted here, as the auth hook needs
no user row), sends each request, reads each answer's headers, then writes the number of
streams that answered 200 into READY_FILE and keeps every connection open (reading and
discarding heartbeats) until it is terminated (SIGTERM) or 120 s pass."""
import base64
import hashlib
import hmac
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time
from urllib.parse import urlparse


def token(user):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": user, "roles": ["buyer"], "pv": True, "iat": now,
                           "exp": now + 840}).encode())
    mac = hmac.new(os.environ["HAAT_JWT_SECRET"].encode(), f"{head}.{body}".encode(),
                   hashlib.sha256)
    return f"{head}.{body}.{b64(mac.digest())}"


def main():
    base, n, per_user, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    idle = len(sys.argv) > 5 and sys.argv[5] == "idle"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
    u = urlparse(base)
    reqs = [(f"GET /v1/me/events HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
             f"Authorization: Bearer {token(f'cccccccc-cccc-4ccc-8ccc-{k:012x}')}\r\n"
             f"Accept: text/event-stream\r\n\r\n").encode()
            for k in range((n + per_user - 1) // per_user)]
    if idle:
        reqs = [f"GET /healthz HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n\r\n".encode()] * n
    socks, ok = [], 0
    for i in range(n):
        s = socket.create_connection((u.hostname, u.port), timeout=10)
        s.sendall(reqs[i // per_user])
        socks.append(s)
    for s in socks:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        ok += head.startswith(b"HTTP/1.1 200")
        s.setblocking(False)
    with open(ready, "w") as f:
        f.write(f"{ok}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            try:
                key.fileobj.recv(65536)
            except BlockingIOError:
                pass


if __name__ == "__main__":
    main()
