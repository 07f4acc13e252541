#!/usr/bin/python3
"""The failover test of the rig (infra/ha/rig.sh test runs it against a rig it started).

Database level: a row written through the write port reads back through the read port;
writes work again after a `patronictl switchover` and after node loss (kill -9 of the
leader's Patroni and its postmaster, then that Patroni restarted); no acknowledged row is
lost; the old leader streams again. Through haat's balancer, with reads, signups and orders
running all the time: no read fails, writes recover, only 503 problem bodies during the
outage, no 201'd user or order lost (and the product's stock + ordered units = what was
listed), no (event, recipient, channel) notified twice, every /readyz back to 200.

Prints one PASS/FAIL line per check (with the measured figure), then "N passed, N failed";
exits 1 when any check failed. Bounds are ceilings, the figures are what was measured."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import psycopg2

ENV = {k: v for k, v in os.environ.items() if k.startswith("HA_")}
RIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rig.sh")
results = []


def check(ok, name, figure=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}{'  (' + figure + ')' if figure else ''}",
          flush=True)


def pg(url, autocommit=True):
    c = psycopg2.connect(url, connect_timeout=1, options="-c statement_timeout=3000")
    c.autocommit = autocommit
    return c


def q1(url, sql, args=()):
    with pg(url) as c, c.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def poll(seconds, fn):
    """Calls fn until it returns a truthy value or seconds pass; returns (value, elapsed)."""
    t0 = time.monotonic()
    while True:
        try:
            v = fn()
        except Exception:  # noqa: BLE001 - a fault in progress: keep polling
            v = None
        if v or time.monotonic() - t0 > seconds:
            return v, time.monotonic() - t0
        time.sleep(0.1)


def http(method, url, body=None, headers=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read(), e.headers
    except Exception as e:  # noqa: BLE001 - connection refused, reset, timeout
        return 0, "", str(e).encode(), {}


class Writer(threading.Thread):
    """Inserts numbered rows through the write port; records the acknowledged ones."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.acked, self.ok_times, self.n = [], [], 0

    def run(self):
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = pg(ENV["HA_WRITE_URL"])
                self.n += 1
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO ha_rig.probe (id) VALUES (%s)", (self.n,))
                self.acked.append(self.n)
                self.ok_times.append(time.monotonic())
            except Exception:  # noqa: BLE001
                try:
                    conn and conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
                time.sleep(0.05)
            time.sleep(0.02)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(user_id, roles):
    """An access token for user_id, signed with the rig's HAAT_JWT_SECRET (as login would)."""
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": user_id, "roles": roles, "pv": True, "iat": now,
                              "exp": now + 900}).encode())
    mac = hmac.new(ENV["HA_JWT_SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256)
    return f"{head}.{body}.{b64url(mac.digest())}"


ORDER_STOCK = 100000
ADDRESS = {"name": "Asha Rao", "line1": "12 MG Road", "line2": None, "city": "Pune",
           "state": "Maharashtra", "postal_code": "411001", "country": "IN",
           "phone": "+919876543210"}


def shop():
    """A verified seller with one product (stock ORDER_STOCK) and a verified buyer, made in the
    database (as a test fixture would) and through the API (the product): (buyer token,
    product id)."""
    seller, buyer = str(uuid.uuid4()), str(uuid.uuid4())
    with pg(ENV["HA_WRITE_URL"]) as c, c.cursor() as cur:
        for uid, phone in ((seller, "+919700000002"), (buyer, "+919700000003")):
            cur.execute("INSERT INTO users (id, name, email, phone, password_hash, "
                        "phone_verified_at, email_verified_at) VALUES (%s, 'Ha Shop', %s, %s, "
                        "'$argon2id$v=19$rig', now(), now())", (uid, f"{uid}@example.com", phone))
        cur.execute("INSERT INTO sellers (user_id, display_name, payout_method, upi_vpa) "
                    "VALUES (%s, 'Ha Seller', 'upi', 'ha@okbank')", (seller,))
    st, _, body, _ = http("POST", ENV["HA_API"] + "/v1/products",
                          {"title": "Rig kettle", "description": "Boils through failovers",
                           "category": "home", "condition": "new", "price_minor": 49900,
                           "city": "Pune", "stock": ORDER_STOCK, "status": "active"},
                          {"Authorization": "Bearer " + token(seller, ["buyer", "seller"])})
    if st != 201:
        raise SystemExit(f"ha-test: cannot list the rig's product: {st} {body[:200]!r}")
    return token(buyer, ["buyer"]), json.loads(body)["id"]


class Traffic(threading.Thread):
    """kind "read": GET catalogue reads; kind "signup": POST /v1/auth/signup; kind "order":
    POST /v1/orders of one unit of the rig's product (each with its own Idempotency-Key)."""

    def __init__(self, kind, tag):
        super().__init__(daemon=True)
        self.kind, self.tag = kind, tag
        self.stop = threading.Event()
        self.log = []  # (time, status, content-type, body)
        self.created = []  # signups: (user id, email, phone); orders: order ids
        self.shop = None  # orders: (buyer token, product id)

    def run(self):
        api, i = ENV["HA_API"], 0
        while not self.stop.is_set():
            i += 1
            if self.kind == "read":
                path = "/v1/categories" if i % 2 else "/v1/products?limit=5"
                st, ct, body, _ = http("GET", api + path)
            elif self.kind == "order":
                buyer, product = self.shop
                st, ct, body, _ = http("POST", api + "/v1/orders",
                                       {"items": [{"product_id": product, "quantity": 1}],
                                        "shipping_address": ADDRESS},
                                       {"Authorization": "Bearer " + buyer,
                                        "Idempotency-Key": str(uuid.uuid4())})
                if st == 201:
                    self.created.append(json.loads(body)["id"])
            else:
                email = f"ha-{self.tag}-{i}@example.com"
                phone = f"+9198{self.tag}{i:07d}"
                st, ct, body, _ = http("POST", api + "/v1/auth/signup",
                                       {"name": f"Ha {i}", "email": email, "phone": phone,
                                        "password": "rig-password-123"})
                if st == 201:
                    self.created.append((json.loads(body)["user"]["id"], email, phone))
            self.log.append((time.monotonic(), st, ct, body[:200]))
            time.sleep(0.03)


def leader():
    """(index, rest url) of the Patroni leader, or None."""
    for i, rest in enumerate(ENV["HA_REST"].split(",")):
        try:
            req = urllib.request.Request(rest + "/primary", method="OPTIONS")
            with urllib.request.urlopen(req, timeout=1) as r:
                if r.status == 200:
                    return i
        except Exception:  # noqa: BLE001
            pass
    return None


def sync_standby(i):
    """True when node i is the synchronous standby Patroni would promote (OPTIONS /sync)."""
    rest = ENV["HA_REST"].split(",")[i]
    req = urllib.request.Request(rest + "/sync", method="OPTIONS")
    try:
        with urllib.request.urlopen(req, timeout=1) as r:
            return r.status == 200
    except Exception:  # noqa: BLE001 - 503: not (yet) the synchronous standby
        return False


def streaming(member):
    """True when the leader streams to member (node1/node2) right now."""
    row = q1(ENV["HA_ADMIN_URL"], "SELECT count(*) FROM pg_stat_replication "
             "WHERE application_name = %s AND state = 'streaming'", (member,))
    return row[0] == 1


def write_gap(writer, t_fault, settle=2.0):
    """The longest pause between acknowledged writes from the fault on, once writes have run
    without a pause (> 0.5 s) for `settle` seconds; None until then."""
    times = [t for t in writer.ok_times if t >= t_fault - 0.5]
    if len(times) < 2 or time.monotonic() - times[-1] > 0.5:
        return None
    tail = [t for t in times if t >= times[-1] - settle]
    if tail[0] > times[-1] - settle + 0.5 or any(b - a > 0.5 for a, b in zip(tail, tail[1:])):
        return None
    return max(b - a for a, b in zip(times, times[1:]))


def http_window(traffic, t_fault, t_end):
    """Outage of successful answers after the fault: first success after the last failure."""
    fails = [t for t, st, *_ in traffic.log if t_fault <= t <= t_end and st not in (200, 201)]
    if not fails:
        return 0.0
    ok_after = [t for t, st, *_ in traffic.log if t > fails[-1] and st in (200, 201)]
    return (ok_after[0] if ok_after else t_end) - t_fault


def fault(name, do, writer, readers, signups, db_bound, api_bound, orders=None):
    t0 = time.monotonic()
    do()
    poll(db_bound + 5, lambda: write_gap(writer, t0) is not None)
    gap = write_gap(writer, t0)
    check(gap is not None and gap <= db_bound,
          f"{name}: writes through the write port work again within {db_bound} s",
          f"write outage {gap:.2f} s" if gap is not None else "no write succeeded")
    poll(api_bound + 5, lambda: any(t > t0 and st == 201 for t, st, *_ in signups.log))
    t_end = time.monotonic()
    w = http_window(signups, t0, t_end)
    check(w <= api_bound, f"{name}: signups through haat's balancer work again within {api_bound} s",
          f"API write outage {w:.2f} s")
    rfails = [(st, b) for r in readers for t, st, ct, b in r.log if t >= t0 and st != 200]
    rw = max(http_window(r, t0, t_end) for r in readers)
    check(not rfails, f"{name}: no read through haat's balancer failed",
          f"read outage {rw:.2f} s, {len(rfails)} failed reads" +
          (f", e.g. {rfails[0][0]} {rfails[0][1][:80]!r}" if rfails else ""))
    bad = [(st, ct) for w in (signups, orders) if w for t, st, ct, b in w.log
           if t >= t0 and st not in (201, 503) or (st == 503 and "problem+json" not in ct)]
    check(not bad, f"{name}: during the outage writes (signups, orders) answered 201 or a 503 "
          "problem, no other 5xx",
          f"{len(bad)} other answers" + (f", e.g. {bad[0]}" if bad else ""))
    return gap, w, rw


def readyz_all(seconds):
    def ok():
        return all(http("GET", u + "/readyz", timeout=2)[0] == 200
                   for u in ENV["HA_HAAT"].split(","))
    return poll(seconds, ok)


def main():
    t_start = time.monotonic()
    admin = ENV["HA_WRITE_URL"]
    with pg(admin) as c, c.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS ha_rig")
        cur.execute("CREATE TABLE IF NOT EXISTS ha_rig.probe (id bigint PRIMARY KEY, "
                    "at timestamptz NOT NULL DEFAULT now())")
        cur.execute("INSERT INTO ha_rig.probe (id) VALUES (0)")
    row, took = poll(1.0, lambda: q1(ENV["HA_READ_URL"],
                                     "SELECT pg_is_in_recovery(), count(*) FROM ha_rig.probe "
                                     "WHERE id = 0"))
    check(bool(row) and row[0] and row[1] == 1,
          "a row written through the write port reads back through the read port (a replica) "
          "within 1 s", f"{took:.2f} s")

    # Read-your-writes through the balancer: a signup's token, sent back with a query.
    st, _, _, hdrs = http("POST", ENV["HA_API"] + "/v1/auth/signup",
                          {"name": "Ha Token", "email": "ha-token@example.com",
                           "phone": "+919700000001", "password": "rig-password-123"})
    token = hdrs.get("X-Haat-Consistency") if hdrs else None
    st2 = http("GET", ENV["HA_API"] + "/v1/categories",
               headers={"X-Haat-Consistency": token or "0/0"})[0]
    check(st == 201 and bool(token) and st2 == 200,
          "a command answers with X-Haat-Consistency and a query carrying it is answered",
          f"token {token}")

    writer = Writer()
    readers = [Traffic("read", 1), Traffic("read", 2)]
    signups = Traffic("signup", 1)
    orders = Traffic("order", 1)
    orders.shop = shop()
    for t in [writer, signups, orders, *readers]:
        t.start()
    time.sleep(2)

    old = leader()
    cand = 1 - old
    # In synchronous mode only the standby named in /sync may take over.
    _, took = poll(30, lambda: sync_standby(cand))
    check(sync_standby(cand), "the replica is the synchronous standby", f"{took:.1f} s")
    conf = ENV["HA_PATRONI_CONF"]
    sw = fault("switchover",
               lambda: subprocess.run(["patronictl", "-c", conf, "switchover", "--leader",
                                       f"node{old + 1}", "--candidate", f"node{cand + 1}",
                                       "--force"], check=True, capture_output=True),
               writer, readers, signups, 8, 25, orders)
    _, took = poll(60, lambda: streaming(f"node{old + 1}"))
    check(streaming(f"node{old + 1}"), "switchover: the old leader streams from the new one "
          "within 60 s", f"{took:.1f} s")
    victim = leader()
    _, took = poll(30, lambda: sync_standby(1 - victim))
    check(sync_standby(1 - victim), "after the switchover the old leader is the synchronous "
          "standby", f"{took:.1f} s")
    data = os.path.join(ENV["HA_DIR"], f"node{victim + 1}", "data")

    def lose_node():
        with open(os.path.join(ENV["HA_DIR"], "pids", f"patroni{victim + 1}")) as f:
            patroni = int(f.read())
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        os.kill(patroni, 9)
        os.kill(postmaster, 9)

    nl = fault("node loss", lose_node, writer, readers, signups, 20, 25, orders)
    subprocess.run([RIG, "restart-node", str(victim + 1)], check=True)
    _, took = poll(60, lambda: streaming(f"node{victim + 1}"))
    check(streaming(f"node{victim + 1}"), "node loss: the lost node, restarted, streams again "
          "within 60 s", f"{took:.1f} s")

    time.sleep(1)
    for t in [writer, signups, orders, *readers]:
        t.stop.set()
    for t in [writer, signups, orders, *readers]:
        t.join(10)

    with pg(admin) as c, c.cursor() as cur:
        cur.execute("SELECT id FROM ha_rig.probe WHERE id = ANY(%s)", (writer.acked,))
        have = {r[0] for r in cur.fetchall()}
    lost = [i for i in writer.acked if i not in have]
    check(not lost, "no acknowledged row is lost (synchronous mode)",
          f"{len(writer.acked)} acknowledged, {len(lost)} missing")

    ids = [u[0] for u in signups.created]
    with pg(admin) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE id = ANY(%s::uuid[])", (ids,))
        n = cur.fetchone()[0]
    check(n == len(ids) and bool(ids), "no user that got a 201 is lost", f"{len(ids)} created, {n} found")

    product = orders.shop[1]
    with pg(admin) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM orders WHERE id = ANY(%s::uuid[])", (orders.created,))
        n = cur.fetchone()[0]
        cur.execute("SELECT p.stock, (SELECT coalesce(sum(quantity), 0) FROM order_items "
                    "WHERE product_id = p.id) FROM products p WHERE p.id = %s", (product,))
        stock, taken = cur.fetchone()
    check(n == len(orders.created) and bool(orders.created) and stock + taken == ORDER_STOCK,
          "no order that got a 201 is lost, and stock + ordered units = the stock listed",
          f"{len(orders.created)} created, {n} found; stock {stock} + {taken} ordered")

    ok, took = readyz_all(30)
    check(bool(ok), "every haat /readyz is 200 again without a restart", f"{took:.1f} s")

    # Workers of all three instances: every event processed, each (event, recipient,
    # channel) notified once, and the deliveries spread over the instances.
    def drained():
        return q1(admin, "SELECT count(*) = 0 FROM outbox_events WHERE processed_at IS NULL")[0]
    ok, took = poll(60, drained)
    check(bool(ok), "every outbox event is processed", f"{took:.1f} s")
    dup = q1(admin, "SELECT count(*) FROM (SELECT 1 FROM notifications GROUP BY event_id, "
             "recipient, channel HAVING count(*) > 1) d")[0]
    seen, again, per_instance = {}, 0, []
    for i in range(1, 4):
        n = 0
        for ch in ("email", "sms"):
            path = os.path.join(ENV["HA_DIR"], f"haat{i}", "notify", f"{ch}.jsonl")
            if not os.path.exists(path):
                continue
            for line in open(path, encoding="utf-8"):
                m = json.loads(line)
                key = (m["event"], m["to"], ch) if m["event"] == "otp.requested" \
                    else m["notification_id"]
                again += key in seen
                seen[key] = 1
                n += 1
        per_instance.append(n)
    # A signup's address is unverified: it gets its verification codes (an SMS and an email)
    # and nothing else; verified people (the shop's buyer and seller) get their order mail.
    expect = 2 * (len(ids) + 1)  # per signup (+ the token signup)
    codes = sum(1 for k in seen if isinstance(k, tuple))
    check(dup == 0 and again == 0 and codes >= expect,
          "no (event, recipient, channel) notified twice, none missing",
          f"{codes} verification codes for {expect} expected, {again} repeats, "
          f"{len(seen) - codes} other messages")
    check(sum(1 for n in per_instance if n) >= 2,
          "the workers of several instances share the outbox",
          f"messages per instance {per_instance}")

    print(f"outage windows: switchover write {sw[0]:.2f} s, API write {sw[1]:.2f} s, "
          f"API read {sw[2]:.2f} s; node loss write {nl[0]:.2f} s, API write {nl[1]:.2f} s, "
          f"API read {nl[2]:.2f} s; test {time.monotonic() - t_start:.0f} s")
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
