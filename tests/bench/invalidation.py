#!/usr/bin/env python3
"""The product cache's invalidation delay, for make bench: how long after a product change
commits an instance stops serving the old version.

Usage: invalidation.py BASE_URL DATABASE_URL ROUNDS ID...
Each round takes the next product id: reads it until the instance answers from its cache
(the same ETag twice), then, while a thread keeps reading it over one keep-alive connection,
commits a change from psql the way another instance would (version + 1 and the NOTIFY
catalog_product_changed sends, in one transaction) and prints the commit's clock_timestamp.
The delay is the time from that commit to the first answer carrying the new ETag. Prints the
median and the largest delay in milliseconds."""
import http.client
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

SQL = ("BEGIN; WITH upd AS (UPDATE products SET version = version + 1, updated_at = now() "
       "WHERE id = '{id}' RETURNING id, version) SELECT pg_notify('catalog_product', "
       "id::text || ' ' || version::text) FROM upd; COMMIT; "
       "SELECT extract(epoch FROM clock_timestamp());")


def etag(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r.getheader("ETag")


def one_round(base, db, pid):
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    path = f"/v1/products/{pid}"
    old = etag(conn, path)
    etag(conn, path)
    seen = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            e = etag(conn, path)
            if e != old:
                seen.append(time.time())
                return

    t = threading.Thread(target=poll)
    t.start()
    out = subprocess.run(["psql", "-X", "-q", "-At", db, "-c", SQL.format(id=pid)],
                         check=True, capture_output=True, text=True).stdout.split()
    committed = float(out[-1])
    t.join(10)
    stop.set()
    conn.close()
    return (seen[0] - committed) * 1000 if seen else None


def main():
    base, db, rounds, ids = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    delays = [one_round(base, db, ids[i % len(ids)]) for i in range(rounds)]
    ok = [max(d, 0.0) for d in delays if d is not None]
    if len(ok) < len(delays):
        print("nan nan")
        return
    print(f"{statistics.median(ok):.1f} {max(ok):.1f}")


if __name__ == "__main__":
    main()
