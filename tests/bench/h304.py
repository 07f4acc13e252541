#!/usr/bin/env python3
"""GET /v1/products/{id} with a matching If-None-Match over CONNS keep-alive connections for
SECONDS, for make bench's get_product_304 row. wrk cannot measure it: its parser waits for
the Content-Length that a 304 carries (the length of the 200 it stands for, RFC 9110 8.6)
though a 304 never has content. This client reads each answer's headers only. It is
Python on one core: its figure is a lower bound of what the server does (the client is the
bottleneck), reported beside wrk's 200s.

Usage: h304.py BASE_URL IDS_FILE CONNS SECONDS   prints "rps p50_ms p99_ms non304"."""
import asyncio
import random
import sys
import time
from urllib.parse import urlparse


async def worker(host, port, ids, until, lat, bad):
    reader, writer = await asyncio.open_connection(host, port)
    while time.monotonic() < until:
        pid = random.choice(ids)
        t0 = time.monotonic()
        writer.write(f'GET /v1/products/{pid} HTTP/1.1\r\nHost: {host}\r\n'
                     f'If-None-Match: "1"\r\n\r\n'.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        lat.append(time.monotonic() - t0)
        if not head.startswith(b"HTTP/1.1 304"):
            bad.append(1)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
    writer.close()


async def main():
    base, ids_file, conns, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    u = urlparse(base)
    ids = [line.strip() for line in open(ids_file) if line.strip()]
    lat, bad = [], []
    start = time.monotonic()
    until = start + seconds
    await asyncio.gather(*(worker(u.hostname, u.port, ids, until, lat, bad) for _ in range(conns)))
    took = time.monotonic() - start
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0
    print(f"{len(lat) / took:.0f} {q(0.50):.2f} {q(0.99):.2f} {len(bad)}")


if __name__ == "__main__":
    asyncio.run(main())
