#!/usr/bin/env python3
"""Memory stays bounded whatever clients send: bursts of big bodies against a release build.

Usage: infra/dev/body-burst-test.py HAAT_BIN   (run by `make burst`, part of `make test`)

Starts HAAT_BIN serve (a release build: AddressSanitizer's quarantine would hide the figure)
on a throwaway database of the private cluster, then, while sampling the server's resident
memory (VmRSS) every 10 ms:
  1. three bursts of 64 connections each posting a 1 MiB body of {},{},... to
     /v1/auth/login (every one must be refused 413 before it is parsed), and
  2. a burst of 64 logins with bodies just under the route's limit that all wait for the
     password pool (which must hold only their passwords, not their bodies).
Fails when the peak during the big bodies exceeds RSS_LIMIT_MB, or during the pool burst
POOL_LIMIT_MB: the password pool's two threads hash with Argon2id at 64 MiB each, so 128 MB
of that is the hashing itself, whatever the bodies. Prints the figures. About 10 s.
"""
import os
import socket
import subprocess
import sys
import threading
import time

RSS_LIMIT_MB = 128
POOL_LIMIT_MB = 192
CONNS = 64
BIG = 1024 * 1024
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pg_env():
    out = subprocess.run([os.path.join(REPO, "infra/dev/pg.sh"), "env"], check=True,
                         capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'\"")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.01)


def post(port, body, results, i):
    if callable(body):
        body = body(i)
    head = (f"POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(head)
            try:
                s.sendall(body)
            except OSError:
                pass  # refused early and closed: the status line is what counts
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        results[i] = data.split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError as e:
        results[i] = f"error: {e}"


def burst(port, body):
    results = [None] * CONNS
    threads = [threading.Thread(target=post, args=(port, body, results, i)) for i in range(CONNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def padded(size, who=0):
    """{"login":..,"password":..,"pad":[{},{},...]} of exactly size bytes (size >= 80)."""
    start = b'{"login":"nobody%03d@example.com","password":"0123456789abc","pad":[' % who
    end = b"]}"
    n = (size - len(start) - len(end) + 1) // 3
    body = start + b",".join([b"{}"] * n) + end
    return body + b" " * (size - len(body)) if len(body) < size else body[:size]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    env = dict(os.environ)
    env.update(pg_env())
    db = f"haat_burst_{os.getpid()}"
    pg = os.path.join(REPO, "infra/dev/pg.sh")
    subprocess.run([pg, "createdb", db], check=True, capture_output=True)
    admin = env["HAAT_PG_ADMIN_URL"]
    env["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + db
    env.pop("DATABASE_READ_URL", None)
    port = free_port()
    env.update({"HAAT_HTTP_ADDR": f"127.0.0.1:{port}", "HAAT_WORKERS": "off",
                "HAAT_LOG_LEVEL": "error", "HAAT_LIMIT_CONNS_PER_IP": "0"})
    log = open(os.path.join(REPO, "var/body-burst.log"), "w")
    proc = None
    try:
        subprocess.run([binary, "--config", "configs/test.json", "migrate"], cwd=REPO, env=env,
                       check=True, stdout=log, stderr=log)
        proc = subprocess.Popen([binary, "--config", "configs/test.json", "serve"], cwd=REPO,
                                env=env, stdout=log, stderr=log)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.3)
        base = rss_kb(proc.pid)
        sampler = Sampler(proc.pid)
        sampler.start()
        t0 = time.monotonic()
        big = padded(BIG)
        failures = []
        for round_ in range(3):
            got = burst(port, big)
            bad = [g for g in got if not (g or "").startswith("HTTP/1.1 413")]
            if bad:
                failures.append(f"burst {round_ + 1}: {len(bad)} answers not 413, e.g. {bad[0]}")
        big_peak = sampler.peak
        # Just under the route's limit (8 KiB): parsed, then waiting for the password pool.
        got = burst(port, lambda i: padded(8 * 1024 - 16, i))  # one login each: no lock-out
        bad = [g for g in got if not (g or "").startswith(("HTTP/1.1 401", "HTTP/1.1 503"))]
        if bad:
            failures.append(f"pool burst: {len(bad)} answers not 401/503, e.g. {bad[0]}")
        took = time.monotonic() - t0
        time.sleep(0.1)
        sampler.stop = True
        sampler.join()
        peak_mb = sampler.peak / 1024
        big_mb = big_peak / 1024
        print(f"body-burst: baseline {base / 1024:.1f} MB; 3 x {CONNS} x 1 MiB to /v1/auth/login: "
              f"peak {big_mb:.1f} MB (limit {RSS_LIMIT_MB} MB); {CONNS} logins of 8 KiB queued "
              f"for the password pool: peak {peak_mb:.1f} MB (limit {POOL_LIMIT_MB} MB); "
              f"{took:.1f} s")
        if big_mb > RSS_LIMIT_MB:
            failures.append(f"peak RSS {big_mb:.1f} MB over {RSS_LIMIT_MB} MB (big bodies)")
        if peak_mb > POOL_LIMIT_MB:
            failures.append(f"peak RSS {peak_mb:.1f} MB over {POOL_LIMIT_MB} MB (pool burst)")
        for f in failures:
            print(f"body-burst: FAIL {f}", file=sys.stderr)
        print(f"body-burst: {'FAIL' if failures else 'PASS'}")
        return 1 if failures else 0
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run([pg, "dropdb", db], capture_output=True)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
