#!/usr/bin/env python3
"""SMTP sink for integration tests: accepts every message, records it, delivers nothing.

Usage: python3 infra/dev/smtp_sink.py --port N --out FILE [--user U --password P]
                                      [--host 127.0.0.1] [--verbose]

Listens on 127.0.0.1:N and appends one JSON object per accepted message to FILE
(flushed at once, so a test can poll the file):

  {"mail_from": "a@x", "rcpt_tos": ["b@y"], "subject": "Héllo",
   "body": "decoded text/plain part ('' if none), LF line ends",
   "html": "decoded text/html part, or null",
   "headers": {"From": "...", "Received": ["...", "..."]},   # list when repeated
   "attachments": [{"filename": "...", "content_type": "...", "size": 123}],
   "auth_user": "U" or null, "ts": 1700000000.123}

Transfer encodings (quoted-printable, base64) and charsets are decoded with the
email package; encoded-word headers (=?UTF-8?...?=) are decoded too.

With --user/--password, AUTH PLAIN and LOGIN are offered without TLS and are
required before MAIL FROM; wrong credentials get 535.  Without them there is
no AUTH at all.

Prints "ready" on stdout once listening.  Exits 0 on SIGTERM or SIGINT, 1 if it
cannot listen, 2 on bad arguments.
"""

import os
import sys

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:
    # `python3` may be a pyenv/venv interpreter; Debian's python3-aiosmtpd is
    # installed for /usr/bin/python3.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.access(
        "/usr/bin/python3", os.X_OK
    ):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("smtp_sink: error: aiosmtpd is not installed (apt-get install python3-aiosmtpd)")

# pylint: disable=wrong-import-position
import argparse  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from email import policy  # noqa: E402
from email.parser import BytesParser  # noqa: E402

PROG = "smtp_sink"


def _text_of(part):
    """Decoded text of a MIME part (CTE and charset; CRLF -> LF), tolerant of bad input."""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        raw = part.get_payload(decode=True) or b""
        try:
            text = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        except LookupError:  # unknown charset name
            text = raw.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def _header_str(value):
    """A header value as text: encoded words decoded, undecodable bytes replaced."""
    text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def describe(raw, envelope, auth_user):
    msg = BytesParser(policy=policy.default).parsebytes(raw)

    headers = {}
    for name in dict.fromkeys(msg.keys()):  # unique, in order of appearance
        values = [_header_str(v) for v in msg.get_all(name, [])]
        headers[name] = values[0] if len(values) == 1 else values

    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    attachments = []
    for part in msg.iter_attachments() if msg.is_multipart() else ():
        payload = part.get_payload(decode=True) or b""
        attachments.append({
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "size": len(payload),
        })

    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "subject": _header_str(msg["subject"]) if msg["subject"] is not None else None,
        "body": _text_of(plain) if plain is not None else "",
        "html": _text_of(html) if html is not None else None,
        "headers": headers,
        "attachments": attachments,
        "auth_user": auth_user,
        "ts": time.time(),
    }


class Recorder:
    """aiosmtpd handler: appends each message to the output file as a JSON line."""

    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        auth_user = session.auth_data if session.authenticated else None
        try:
            record = describe(raw, envelope, auth_user)
        except Exception as exc:  # pylint: disable=broad-except  # never lose a message
            logging.getLogger(PROG).exception("could not parse message")
            record = {
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "subject": None, "body": raw.decode("utf-8", "replace"), "html": None,
                "headers": {}, "attachments": [], "auth_user": auth_user,
                "ts": time.time(), "parse_error": str(exc),
            }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock, open(self.out, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
        return "250 2.0.0 OK: recorded"


def make_authenticator(user, password):
    want_user = user.encode("utf-8")
    want_password = password.encode("utf-8")

    def authenticator(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and hmac.compare_digest(auth_data.login, want_user)
                and hmac.compare_digest(auth_data.password, want_password)):
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    return authenticator


def parse_args(argv):
    p = argparse.ArgumentParser(prog="smtp_sink.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="TCP port on the host (1-65535)")
    p.add_argument("--out", required=True, help="JSON-lines file to append messages to")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--user", help="require AUTH PLAIN/LOGIN with this user name")
    p.add_argument("--password", help="... and this password")
    p.add_argument("--verbose", action="store_true", help="log SMTP sessions to stderr")
    args = p.parse_args(argv)
    if not 1 <= args.port <= 65535:
        p.error("--port must be between 1 and 65535")
    if (args.user is None) != (args.password is None):
        p.error("--user and --password go together")
    return args


def main(argv):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format=f"{PROG}: %(levelname)s %(message)s")
    # aiosmtpd warns that AUTH without TLS is unsafe: intended here (loopback tests).
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    open(args.out, "a", encoding="utf-8").close()  # exists (maybe empty) once ready

    smtp_kwargs = {}
    if args.user is not None:
        smtp_kwargs.update(authenticator=make_authenticator(args.user, args.password),
                           auth_required=True, auth_require_tls=False)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    # server_hostname: avoid a (possibly slow) reverse DNS lookup for the banner.
    controller = Controller(Recorder(args.out), hostname=args.host, port=args.port,
                            server_hostname="localhost", ready_timeout=10, **smtp_kwargs)
    try:
        controller.start()
    except (OSError, TimeoutError) as exc:
        print(f"{PROG}: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    print("ready", flush=True)
    while not stop.wait(3600):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
