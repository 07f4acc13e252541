#!/usr/bin/env python3
"""A local fake of the Razorpay endpoints haat uses, for integration tests.

Usage: python3 infra/dev/razorpay_fake.py --port N --out FILE [--verbose]

Listens on 127.0.0.1:N and appends one JSON object per API request to FILE
(flushed at once): {"method", "path", "headers", "body", "json", "ts"}.
Every API request needs HTTP Basic auth (any key id and secret; 401 otherwise).

API (answers shaped like Razorpay's):
  POST /v1/orders                    {amount, currency, receipt, notes} -> order
  POST /v1/payment_links             {amount, currency, reference_id, ...} -> link
                                     with short_url and an order of its own
                                     (order_id), as Razorpay does
  GET  /v1/payment_links/{id}        the link with its payments
                                     [{payment_id, amount, status, ...}]
  GET  /v1/orders/{id}/payments      the order's payments (collection)
  GET  /v1/payments/{id}             one payment
  POST /v1/payments/{id}/refund      a refund; the same X-Refund-Idempotency
                                     header answers the same refund

Control (never recorded), POST /__control with a JSON object:
  {"fail_next": N, "status": 503}    the next N API requests get that status
  {"refund_status": "pending"}       status of new refunds (default processed)
  {"pay": {"link_id": ID, "status": "captured"|"failed"}}
                                     a payment through the link (on its order,
                                     with its notes); answers it
  {"webhook": {"url": URL, "secret": S, "event": "payment.captured",
               "event_id": E, "payment_id": P, "amount": A (optional),
               "signature": SIG (optional, sent instead of the real one)}}
                                     POSTs the event about payment P, signed
                                     (hex HMAC-SHA256 of the raw body) to URL
                                     and answers with haat's status, body,
                                     Content-Type and X-Request-ID
  {"reset": true}                    clears fail_next and refund_status
GET /__control returns {"requests": N, "orders": N, "refunds": N}.

Prints "ready" on stdout once listening.  Exits 0 on SIGTERM or SIGINT.
"""

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"orders": {}, "links": {}, "payments": {}, "refunds": {}, "fail_next": 0,
         "fail_status": 503, "refund_status": "processed", "requests": 0}
OUT = {"path": None}


def _id(prefix):
    return prefix + "_" + secrets.token_hex(7)


def _record(handler, body, doc):
    entry = {"method": handler.command, "path": handler.path,
             "headers": dict(handler.headers.items()), "body": body, "json": doc,
             "ts": time.time()}
    with LOCK:
        STATE["requests"] += 1
        with open(OUT["path"], "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()


def _event_body(spec):
    pay = STATE["payments"].get(spec.get("payment_id"), {})
    order = STATE["orders"].get(pay.get("order_id"), {})
    pay = dict(pay)
    if "amount" in spec:
        pay["amount"] = spec["amount"]
    event = spec.get("event", "payment.captured")
    payload = {"payment": {"entity": pay}}
    if event == "order.paid":
        payload["order"] = {"entity": order}
    doc = {"entity": "event", "account_id": "acc_fake", "event": event,
           "contains": list(payload.keys()), "payload": payload,
           "created_at": int(time.time())}
    return json.dumps(doc, separators=(",", ":")).encode()


def _passed(headers):
    """The headers of haat's answer that the control answer repeats."""
    return {k: headers[k] for k in ("Content-Type", "X-Request-ID") if headers.get(k)}


def _send_webhook(spec):
    with LOCK:
        body = _event_body(spec)
    sig = spec.get("signature")
    if sig is None:
        sig = hmac.new(spec.get("secret", "").encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(spec["url"], data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Razorpay-Event-Id", spec.get("event_id", _id("evt")))
    if sig:
        req.add_header("X-Razorpay-Signature", sig)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), _passed(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), _passed(e.headers)


def _pay(spec):
    link = STATE["links"].get(spec.get("link_id"))
    if link is None:
        return 404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "no such link"}}
    order = STATE["orders"][link["order_id"]]
    pay = {"id": _id("pay"), "entity": "payment", "amount": link["amount"],
           "currency": link["currency"], "status": spec.get("status", "captured"),
           "order_id": order["id"], "notes": link.get("notes", {}),
           "created_at": int(time.time())}
    STATE["payments"][pay["id"]] = pay
    link["payments"].append({"payment_id": pay["id"], "plink_id": link["id"],
                             "amount": pay["amount"], "status": pay["status"],
                             "created_at": pay["created_at"]})
    if pay["status"] == "captured":
        order["status"] = link["status"] = "paid"
    return 200, pay


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("razorpay_fake: " + (fmt % args) + "\n")

    def _answer(self, status, doc, headers=None):
        data = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
        headers = headers or {}
        self.send_response(status)
        self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
        if "X-Request-ID" in headers:
            self.send_header("X-Request-ID", headers["X-Request-ID"])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return raw, doc

    def _authorized(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            return ":" in base64.b64decode(auth[6:]).decode()
        except ValueError:
            return False

    def _control(self, doc):
        doc = doc if isinstance(doc, dict) else {}
        if "webhook" in doc:
            return self._answer(*_send_webhook(doc["webhook"]))
        with LOCK:
            if doc.get("reset"):
                STATE.update(fail_next=0, fail_status=503, refund_status="processed")
            if "fail_next" in doc:
                STATE["fail_next"] = int(doc["fail_next"])
                STATE["fail_status"] = int(doc.get("status", 503))
            if "refund_status" in doc:
                STATE["refund_status"] = doc["refund_status"]
            if "pay" in doc:
                return self._answer(*_pay(doc["pay"]))
            state = {"requests": STATE["requests"], "orders": len(STATE["orders"]),
                     "refunds": len(STATE["refunds"])}
        return self._answer(200, state)

    def do_GET(self):
        if self.path == "/__control":
            with LOCK:
                return self._answer(200, {"requests": STATE["requests"],
                                          "orders": len(STATE["orders"]),
                                          "refunds": len(STATE["refunds"])})
        return self._api(None, None)

    def do_POST(self):
        raw, doc = self._body()
        if self.path == "/__control":
            return self._control(doc)
        return self._api(raw, doc)

    def _api(self, raw, doc):
        _record(self, raw, doc)
        if not self._authorized():
            return self._answer(401, {"error": {"code": "BAD_REQUEST_ERROR",
                                                "description": "Authentication failed"}})
        with LOCK:
            if STATE["fail_next"] > 0:
                STATE["fail_next"] -= 1
                return self._answer(STATE["fail_status"],
                                    {"error": {"code": "SERVER_ERROR",
                                               "description": "told to fail"}})
            status, answer = self._route(doc if isinstance(doc, dict) else {})
        return self._answer(status, answer)

    def _route(self, doc):
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.command == "POST" and parts == ["v1", "orders"]:
            order = {"id": _id("order"), "entity": "order", "amount": doc.get("amount"),
                     "amount_paid": 0, "currency": doc.get("currency"),
                     "receipt": doc.get("receipt"), "notes": doc.get("notes", {}),
                     "status": "created", "created_at": int(time.time())}
            STATE["orders"][order["id"]] = order
            return 200, order
        if self.command == "POST" and parts == ["v1", "payment_links"]:
            link = dict(doc, id=_id("plink"), entity="payment_link", status="created",
                        payments=[])
            link["short_url"] = "https://rzp.io/i/" + link["id"][6:]
            order = {"id": _id("order"), "entity": "order", "amount": doc.get("amount"),
                     "currency": doc.get("currency"), "receipt": None,
                     "notes": doc.get("notes", {}), "status": "created"}
            STATE["orders"][order["id"]] = order
            link["order_id"] = order["id"]
            STATE["links"][link["id"]] = link
            return 200, link
        if self.command == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payment_links"]:
            link = STATE["links"].get(parts[2])
            return (200, link) if link else (404, {"error": {"code": "BAD_REQUEST_ERROR"}})
        if self.command == "GET" and len(parts) == 4 and parts[:2] == ["v1", "orders"] \
                and parts[3] == "payments":
            items = [p for p in STATE["payments"].values() if p["order_id"] == parts[2]]
            return 200, {"entity": "collection", "count": len(items), "items": items}
        if self.command == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payments"]:
            pay = STATE["payments"].get(parts[2])
            return (200, pay) if pay else (404, {"error": {"code": "BAD_REQUEST_ERROR"}})
        if self.command == "POST" and len(parts) == 4 and parts[:2] == ["v1", "payments"] \
                and parts[3] == "refund":
            return self._refund(parts[2], doc)
        return 404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "no such route"}}

    def _refund(self, pay_id, doc):
        pay = STATE["payments"].get(pay_id)
        if pay is None or pay["status"] != "captured" and \
                self.headers.get("X-Refund-Idempotency") not in STATE["refunds"]:
            return 400, {"error": {"code": "BAD_REQUEST_ERROR",
                                   "description": "payment not captured"}}
        key = self.headers.get("X-Refund-Idempotency") or _id("idem")
        if key not in STATE["refunds"]:
            STATE["refunds"][key] = {"id": _id("rfnd"), "entity": "refund",
                                     "payment_id": pay_id,
                                     "amount": doc.get("amount", pay["amount"]),
                                     "currency": pay["currency"],
                                     "status": STATE["refund_status"],
                                     "notes": doc.get("notes", {})}
            pay["status"] = "refunded"
        return 200, STATE["refunds"][key]


def main():
    ap = argparse.ArgumentParser(prog="razorpay_fake")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    OUT["path"] = args.out
    open(args.out, "a", encoding="utf-8").close()
    Handler.verbose = args.verbose
    try:
        srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    except OSError as e:
        print(f"razorpay_fake: cannot listen on {args.port}: {e}", file=sys.stderr)
        return 1
    srv.daemon_threads = True

    def stop(_sig, _frm):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
