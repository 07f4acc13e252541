#!/usr/bin/env python3
"""A local fake of the RazorpayX endpoints haat uses for payouts, for integration tests.

Usage: python3 infra/dev/razorpayx_fake.py --port N --out FILE [--verbose]

Listens on 127.0.0.1:N and appends one JSON object per API request to FILE
(flushed at once): {"method", "path", "headers", "body", "json", "ts"}.
Every API request needs HTTP Basic auth (any key id and secret; 401 otherwise).

API (answers shaped like RazorpayX's):
  POST /v1/contacts         {name, type, reference_id} -> contact
  POST /v1/fund_accounts    {contact_id, account_type: "vpa", vpa: {address}} or
                            {contact_id, account_type: "bank_account",
                             bank_account: {name, ifsc, account_number}} -> fund account
                            (400 for an unknown contact or a malformed destination)
  POST /v1/payouts          {account_number, fund_account_id, amount, currency, mode,
                             purpose, reference_id, ...} -> payout (status "processing");
                            the X-Payout-Idempotency header is mandatory (400 without);
                            the same header answers the same payout
  GET  /v1/payouts/{id}     one payout

Control (never recorded), POST /__control with a JSON object:
  {"fail_next": N, "status": 503}   the next N API requests get that status
  {"set": {"reference_id": R, "status": S, "failure_reason": F (optional)}}
                                    the payout made for our reference R now has status S
                                    (what GET /v1/payouts/{id} answers); answers it
  {"webhook": {"url": URL, "secret": SEC, "event": "payout.processed", "event_id": E,
               "reference_id": R, "failure_reason": F (optional),
               "signature": SIG (optional, sent instead of the real one)}}
                                    sets the payout's status from the event (processed,
                                    failed, rejected, reversed) and POSTs the event, signed
                                    (hex HMAC-SHA256 of the raw body), to URL; answers with
                                    haat's status, body, Content-Type and X-Request-ID
  {"reset": true}                   clears fail_next
GET /__control returns {"requests": N, "contacts": N, "fund_accounts": N, "payouts": N}.

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
STATE = {"contacts": {}, "fund_accounts": {}, "payouts": {}, "by_key": {},
         "fail_next": 0, "fail_status": 503, "requests": 0}
OUT = {"path": None}
EVENT_STATUS = {"payout.processed": "processed", "payout.failed": "failed",
                "payout.rejected": "rejected", "payout.reversed": "reversed"}


def _id(prefix):
    return prefix + "_" + secrets.token_hex(7)


def _error(status, description):
    return status, {"error": {"code": "BAD_REQUEST_ERROR", "description": description}}


def _record(handler, body, doc):
    entry = {"method": handler.command, "path": handler.path,
             "headers": dict(handler.headers.items()), "body": body, "json": doc,
             "ts": time.time()}
    with LOCK:
        STATE["requests"] += 1
        with open(OUT["path"], "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()


def _by_reference(ref):
    for p in STATE["payouts"].values():
        if p.get("reference_id") == ref:
            return p
    return None


def _set(spec):
    p = _by_reference(spec.get("reference_id"))
    if p is None:
        return _error(404, "no payout with that reference_id")
    p["status"] = spec.get("status", p["status"])
    if "failure_reason" in spec:
        p["failure_reason"] = spec["failure_reason"]
        p["status_details"] = {"description": spec["failure_reason"]}
    return 200, p


def _passed(headers):
    """The headers of haat's answer that the control answer repeats."""
    return {k: headers[k] for k in ("Content-Type", "X-Request-ID") if headers.get(k)}


def _send_webhook(spec):
    with LOCK:
        p = _by_reference(spec.get("reference_id"))
        event = spec.get("event", "payout.processed")
        if p is not None and event in EVENT_STATUS:
            _set({"reference_id": p["reference_id"], "status": EVENT_STATUS[event],
                  **({"failure_reason": spec["failure_reason"]}
                     if "failure_reason" in spec else {})})
        entity = dict(p) if p else {"id": _id("pout"), "reference_id": spec.get("reference_id")}
        doc = {"entity": "event", "account_id": "acc_fake", "event": event,
               "contains": ["payout"], "payload": {"payout": {"entity": entity}},
               "created_at": int(time.time())}
        body = json.dumps(doc, separators=(",", ":")).encode()
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("razorpayx_fake: " + (fmt % args) + "\n")

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

    def _counts(self):
        return {"requests": STATE["requests"], "contacts": len(STATE["contacts"]),
                "fund_accounts": len(STATE["fund_accounts"]),
                "payouts": len(STATE["payouts"])}

    def _control(self, doc):
        doc = doc if isinstance(doc, dict) else {}
        if "webhook" in doc:
            return self._answer(*_send_webhook(doc["webhook"]))
        with LOCK:
            if doc.get("reset"):
                STATE.update(fail_next=0, fail_status=503)
            if "fail_next" in doc:
                STATE["fail_next"] = int(doc["fail_next"])
                STATE["fail_status"] = int(doc.get("status", 503))
            if "set" in doc:
                return self._answer(*_set(doc["set"]))
            return self._answer(200, self._counts())

    def do_GET(self):
        if self.path == "/__control":
            with LOCK:
                return self._answer(200, self._counts())
        return self._api(None, None)

    def do_POST(self):
        raw, doc = self._body()
        if self.path == "/__control":
            return self._control(doc)
        return self._api(raw, doc)

    def _api(self, raw, doc):
        _record(self, raw, doc)
        if not self._authorized():
            return self._answer(*_error(401, "Authentication failed"))
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
        if self.command == "POST" and parts == ["v1", "contacts"]:
            c = dict(doc, id=_id("cont"), entity="contact", active=True)
            STATE["contacts"][c["id"]] = c
            return 200, c
        if self.command == "POST" and parts == ["v1", "fund_accounts"]:
            return self._fund_account(doc)
        if self.command == "POST" and parts == ["v1", "payouts"]:
            return self._payout(doc)
        if self.command == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payouts"]:
            p = STATE["payouts"].get(parts[2])
            return (200, p) if p else _error(404, "no such payout")
        return _error(404, "no such route")

    def _fund_account(self, doc):
        if doc.get("contact_id") not in STATE["contacts"]:
            return _error(400, "no such contact")
        kind = doc.get("account_type")
        if kind == "vpa" and "@" in str((doc.get("vpa") or {}).get("address", "")):
            pass
        elif kind == "bank_account" and all(
                (doc.get("bank_account") or {}).get(k) for k in ("name", "ifsc", "account_number")):
            pass
        else:
            return _error(400, "malformed fund account")
        fa = dict(doc, id=_id("fa"), entity="fund_account", active=True)
        STATE["fund_accounts"][fa["id"]] = fa
        return 200, fa

    def _payout(self, doc):
        key = self.headers.get("X-Payout-Idempotency")
        if not key:
            return _error(400, "X-Payout-Idempotency is required")
        if key in STATE["by_key"]:
            return 200, STATE["payouts"][STATE["by_key"][key]]
        if doc.get("fund_account_id") not in STATE["fund_accounts"]:
            return _error(400, "no such fund account")
        p = {"id": _id("pout"), "entity": "payout", "fund_account_id": doc["fund_account_id"],
             "amount": doc.get("amount"), "currency": doc.get("currency"),
             "mode": doc.get("mode"), "purpose": doc.get("purpose"),
             "reference_id": doc.get("reference_id"), "status": "processing",
             "failure_reason": None, "status_details": None,
             "created_at": int(time.time())}
        STATE["payouts"][p["id"]] = p
        STATE["by_key"][key] = p["id"]
        return 200, p


def main():
    ap = argparse.ArgumentParser(prog="razorpayx_fake")
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
        print(f"razorpayx_fake: cannot listen on {args.port}: {e}", file=sys.stderr)
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
