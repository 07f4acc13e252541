#!/usr/bin/env python3
"""Check recorded API responses against the OpenAPI document.

Usage: python3 infra/dev/openapi-check.py OPENAPI.json RECORD_DIR

RECORD_DIR holds the JSON lines the integration harness writes when
HAAT_RECORD_DIR is set (tests/integration/harness_http.c): one response per
line, {"method","path","status","content_type","body"}. For every response to
a documented path (the most specific template wins, literal segments over
parameters), the document must have the operation, the status (or a default),
a media type for a response with a body, and the body must validate against
that media type's schema (JSON Schema 2020-12, $refs into the document).
Responses to paths the document does not describe (unknown paths, test sinks)
and HEAD/OPTIONS answers are not checked.

Prints every kind of violation once, with how often it happened and one
example, then "openapi-check: N responses checked, N violations".
Exit status: 0 when there is no violation, 1 otherwise, 2 on bad usage.
"""

import glob
import json
import os
import sys
import warnings

try:
    import jsonschema
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.access(
        "/usr/bin/python3", os.X_OK
    ):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("openapi-check: error: jsonschema is not installed (apt-get install python3-jsonschema)")

warnings.simplefilter("ignore", DeprecationWarning)


def templates(doc):
    """[(segments, path)] of the document's paths."""
    out = []
    for path in doc.get("paths", {}):
        out.append((path.strip("/").split("/") if path != "/" else [], path))
    return out


def match(tmpls, path):
    """The documented template for a concrete path, or None."""
    segs = path.split("/")[1:] if path not in ("", "/") else []  # "/a/" has an empty segment
    best, best_key = None, None
    for t, p in tmpls:
        if len(t) != len(segs):
            continue
        ok = all(a.startswith("{") or a == b for a, b in zip(t, segs))
        if not ok:
            continue
        key = [0 if a.startswith("{") else 1 for a in t]
        if best is None or key > best_key:
            best, best_key = p, key
    return best


def response_for(op, status):
    rs = op.get("responses", {})
    s = str(status)
    return rs.get(s) or rs.get(s[0] + "XX") or rs.get("default")


def deref(doc, obj):
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def check(doc, validator_for, tmpls, rec, problems):
    method = rec["method"].lower()
    if method in ("head", "options"):
        return False
    path = rec["path"].split("?", 1)[0]
    tmpl = match(tmpls, path)
    if tmpl is None:
        return False
    item = doc["paths"][tmpl]
    op = item.get(method)
    status = rec["status"]
    where = f"{rec['method']} {tmpl} {status}"
    if op is None:
        if status == 405:
            return False  # a method the path does not have: documented globally
        problems.setdefault((where, "operation not documented"), []).append(rec)
        return True
    resp = deref(doc, response_for(op, status))
    if resp is None:
        problems.setdefault((where, "status not documented"), []).append(rec)
        return True
    body = rec.get("body")
    if status == 304 or not body:
        return True
    ctype = (rec.get("content_type") or "").split(";")[0].strip()
    content = resp.get("content") or {}
    media = content.get(ctype)
    if media is None:
        problems.setdefault((where, f"media type {ctype} not documented"), []).append(rec)
        return True
    schema = media.get("schema")
    if schema is None or "json" not in ctype:
        return True
    try:
        value = json.loads(body)
    except ValueError:
        problems.setdefault((where, "body is not JSON"), []).append(rec)
        return True
    errors = sorted(validator_for(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.path) or "(root)"
        problems.setdefault((where, f"body: at {at}: {e.message[:200]}"), []).append(rec)
    return True


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    resolver = jsonschema.RefResolver.from_schema(doc)
    cache = {}

    def validator_for(schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in cache:
            cache[key] = jsonschema.Draft202012Validator(schema, resolver=resolver)
        return cache[key]

    tmpls = templates(doc)
    problems = {}
    checked = 0
    for name in sorted(glob.glob(os.path.join(sys.argv[2], "*.jsonl"))):
        with open(name, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                rec["file"] = os.path.basename(name)
                if check(doc, validator_for, tmpls, rec, problems):
                    checked += 1
    violations = 0
    for (where, what), recs in sorted(problems.items()):
        violations += len(recs)
        ex = recs[0]
        body = (ex.get("body") or "")[:300]
        print(f"openapi-check: {where}: {what} ({len(recs)}x; e.g. {ex['file']}: {ex['path']}: {body})")
    print(f"openapi-check: {checked} responses checked, {violations} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
