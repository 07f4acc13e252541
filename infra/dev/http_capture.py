#!/usr/bin/env python3
"""HTTP capture server for integration tests: a stand-in for Twilio's SMS API and
similar providers.  Records every request; answers like Twilio unless told otherwise.

Usage: python3 infra/dev/http_capture.py --port N --out FILE [--script FILE] [--verbose]

Listens on 127.0.0.1:N (HTTP/1.1, keep-alive, one thread per connection) and
appends one JSON object per request to FILE, flushed at once:

  {"method": "POST", "path": "/2010-04-01/Accounts/AC1/Messages.json?x=1",
   "query": {"x": "1"}, "headers": {"Content-Type": "..."},
   "body": "To=%2B90...&Body=...", "form": {"To": "+90...", "Body": "..."},
   "ts": 1700000000.123}

"form" is the parsed application/x-www-form-urlencoded body ({} otherwise);
in "query", "form" and "headers" a name that occurs more than once maps to a
list of its values.  "body" is the body as UTF-8 text (invalid bytes replaced).

Responses, first rule that applies:
  1. POST /__control with a JSON object (never recorded; answers 200 with the state):
       {"fail_next": N, "status": 503}   the next N requests get that status
                                         (default 503) and a JSON error body;
                                         "body" may give that body instead
       {"delay_ms": D}                   wait D ms before every response from now on
       {"reset": true}                   clear all of the above (applied first)
       {"truncate": true}                empty FILE
     GET /__control returns the state: {"fail_next", "status", "delay_ms", "requests"}.
  2. A pending fail_next.
  3. --script FILE: a JSON object {"routes": [ROUTE, ...]}; the first ROUTE whose
     "method" (optional, any if absent) and "path" (exact, without the query) or
     "path_prefix" match answers with its "status" (default 200), "body" (object
     or list -> JSON, string -> text/plain; default none) and "headers".
  4. Otherwise 201 with a Twilio-like JSON message resource:
       {"sid": "SM<32 hex>", "status": "queued", "to": ..., "from": ..., "body": ...}

Prints "ready" on stdout once listening.  Exits 0 on SIGTERM or SIGINT, 1 if it
cannot listen or the script is invalid, 2 on bad arguments.
"""

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

PROG = "http_capture"
CONTROL_PATH = "/__control"
MAX_BODY = 16 * 1024 * 1024


def _multi_dict(pairs):
    """[(k, v), ...] -> {k: v} with a list for a repeated name."""
    out = {}
    for key, value in pairs:
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    return out


class State:
    """Shared by all handler threads; every access holds the lock."""

    def __init__(self, out, routes):
        self.out = out
        self.routes = routes
        self.lock = threading.Lock()
        self.requests = 0
        self.reset()

    def reset(self):
        self.fail_next = 0
        self.fail_status = 503
        self.fail_body = None
        self.delay_ms = 0

    def snapshot(self):
        return {"fail_next": self.fail_next, "status": self.fail_status,
                "delay_ms": self.delay_ms, "requests": self.requests}

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self.lock:
            self.requests += 1
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()

    def take_failure(self):
        """(status, body) if this request is to fail, else None; plus the delay."""
        with self.lock:
            delay = self.delay_ms
            if self.fail_next > 0:
                self.fail_next -= 1
                return (self.fail_status, self.fail_body), delay
            return None, delay


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "haat-http-capture/1"
    state: State = None  # set in main()
    verbose = False

    # -- plumbing -----------------------------------------------------------
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.verbose:
            sys.stderr.write(f"{PROG}: {self.address_string()} {format % args}\n")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after the chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, status, body=None, headers=None):
        if body is None:
            payload, ctype = b"", None
        elif isinstance(body, (dict, list)):
            payload, ctype = json.dumps(body).encode("utf-8"), "application/json"
        else:
            payload, ctype = str(body).encode("utf-8"), "text/plain; charset=utf-8"
        self.send_response(status)
        extra = dict(headers or {})
        if ctype and not any(k.lower() == "content-type" for k in extra):
            self.send_header("Content-Type", ctype)
        for key, value in extra.items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    # -- requests -----------------------------------------------------------
    def _handle(self):
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, {"error": "unreadable request body"})
            return
        split = urlsplit(self.path)

        if split.path == CONTROL_PATH:
            self._control(raw)
            return

        ctype = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        body_text = raw.decode("utf-8", errors="replace")
        form = {}
        if ctype == "application/x-www-form-urlencoded":
            form = _multi_dict(parse_qsl(body_text, keep_blank_values=True))
        self.state.record({
            "method": self.command,
            "path": self.path,
            "query": _multi_dict(parse_qsl(split.query, keep_blank_values=True)),
            "headers": _multi_dict(self.headers.items()),
            "body": body_text,
            "form": form,
            "ts": time.time(),
        })

        failure, delay_ms = self.state.take_failure()
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)
        if failure is not None:
            status, body = failure
            if body is None:
                body = {"code": status, "message": f"injected failure ({status})",
                        "status": status}
            self._send(status, body)
            return

        route = self._match_route(split.path)
        if route is not None:
            self._send(int(route.get("status", 200)), route.get("body"), route.get("headers"))
            return

        self._send(201, {
            "sid": "SM" + secrets.token_hex(16),
            "status": "queued",
            "to": form.get("To") if isinstance(form.get("To"), str) else None,
            "from": form.get("From") if isinstance(form.get("From"), str) else None,
            "body": form.get("Body") if isinstance(form.get("Body"), str) else None,
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        })

    def _match_route(self, path):
        for route in self.state.routes:
            method = route.get("method")
            if method and method.upper() != self.command:
                continue
            if "path" in route and route["path"] != path:
                continue
            if "path_prefix" in route and not path.startswith(route["path_prefix"]):
                continue
            return route
        return None

    def _control(self, raw):
        st = self.state
        if self.command == "GET":
            with st.lock:
                snap = st.snapshot()
            self._send(200, snap)
            return
        if self.command != "POST":
            self._send(405, {"error": "use GET or POST"}, {"Allow": "GET, POST"})
            return
        try:
            cmd = json.loads(raw or b"{}")
            if not isinstance(cmd, dict):
                raise ValueError("expected a JSON object")
            fail_next = cmd.get("fail_next")
            status = cmd.get("status")
            delay_ms = cmd.get("delay_ms")
            for name, value in (("fail_next", fail_next), ("delay_ms", delay_ms)):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                          or value < 0):
                    raise ValueError(f"{name} must be a non-negative integer")
            if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                                       or not 100 <= status <= 599):
                raise ValueError("status must be an HTTP status code (100-599)")
        except ValueError as exc:
            self._send(400, {"error": str(exc)})
            return
        with st.lock:
            if cmd.get("reset"):
                st.reset()
            if cmd.get("truncate"):
                with open(st.out, "w", encoding="utf-8"):
                    pass
            if fail_next is not None:
                st.fail_next = fail_next
                st.fail_status = status if status is not None else 503
                st.fail_body = cmd.get("body")
            elif status is not None:
                st.fail_status = status
            if delay_ms is not None:
                st.delay_ms = delay_ms
            snap = st.snapshot()
        self._send(200, snap)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def load_routes(path):
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            script = json.load(f)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{PROG}: error: cannot read script {path}: {exc}") from exc
    routes = script.get("routes") if isinstance(script, dict) else None
    if not isinstance(routes, list) or not all(isinstance(r, dict) for r in routes):
        raise SystemExit(f'{PROG}: error: {path}: expected {{"routes": [{{...}}, ...]}}')
    for i, route in enumerate(routes):
        status = route.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise SystemExit(f"{PROG}: error: {path}: routes[{i}].status is not an HTTP status")
        if not isinstance(route.get("headers", {}), dict):
            raise SystemExit(f"{PROG}: error: {path}: routes[{i}].headers must be an object")
    return routes


def parse_args(argv):
    p = argparse.ArgumentParser(prog="http_capture.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (1-65535)")
    p.add_argument("--out", required=True, help="JSON-lines file to append requests to")
    p.add_argument("--script", help='JSON file with canned responses: {"routes": [...]}')
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    if not 1 <= args.port <= 65535:
        p.error("--port must be between 1 and 65535")
    return args


def main(argv):
    args = parse_args(argv)
    routes = load_routes(args.script)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    open(args.out, "a", encoding="utf-8").close()  # exists (maybe empty) once ready

    Handler.state = State(args.out, routes)
    Handler.verbose = args.verbose
    try:
        server = Server(("127.0.0.1", args.port), Handler)
    except OSError as exc:
        print(f"{PROG}: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 1

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    print("ready", flush=True)
    while not stop.wait(3600):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
