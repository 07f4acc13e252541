#!/usr/bin/env python3
"""Convert a YAML document (the OpenAPI description) to compact JSON.

Usage: python3 infra/dev/yaml2json.py IN.yaml OUT.json   ("-" for stdin/stdout)

YAML is read with the safe loader, except that:
  * timestamps stay strings (JSON has no date type; `2024-01-01` in an example
    stays "2024-01-01");
  * duplicate mapping keys are an error (PyYAML would silently keep the last).
The output is written atomically: OUT.json is replaced only on success.
Exit status: 0 ok, 1 bad input, 2 usage.
"""

import os
import sys

try:
    import yaml
except ImportError:
    # `python3` may be a pyenv/venv interpreter without PyYAML; Debian's
    # python3-yaml lives with /usr/bin/python3.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.access(
        "/usr/bin/python3", os.X_OK
    ):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("yaml2json: error: PyYAML is not installed (apt-get install python3-yaml)")

import json  # noqa: E402  (after the interpreter check above)
import tempfile  # noqa: E402

PROG = "yaml2json"

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):  # pylint: disable=too-many-ancestors
    """Safe loader: no timestamp resolution, duplicate keys rejected."""


# Drop the implicit timestamp resolver (copy the table: it is shared by class).
Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found unhashable key", key_node.start_mark) from exc
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _json_key(key):
    """JSON object keys must be strings: 200 -> "200", true -> "true"."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return str(key)
    raise ValueError(f"unsupported mapping key {key!r} (type {type(key).__name__})")


def _normalise(value):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            jk = _json_key(k)
            if jk in out:
                raise ValueError(f"keys collide once converted to JSON strings: {jk!r}")
            out[jk] = _normalise(v)
        return out
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, bytes):  # !!binary
        raise ValueError("binary (!!binary) values cannot be represented in JSON")
    return value


def convert(src, dst):
    name = "<stdin>" if src == "-" else src
    try:
        if src == "-":
            text = sys.stdin.buffer.read()
        else:
            with open(src, "rb") as f:
                text = f.read()
    except OSError as exc:
        raise SystemExit(f"{PROG}: error: cannot read {name}: {exc.strerror}") from exc

    try:
        docs = list(yaml.load_all(text, Loader=Loader))  # noqa: S506 (safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SystemExit(f"{PROG}: error: {where}: {what}") from exc
    except yaml.YAMLError as exc:
        raise SystemExit(f"{PROG}: error: {name}: {exc}") from exc

    if len(docs) != 1:
        raise SystemExit(f"{PROG}: error: {name}: expected exactly one YAML document, found {len(docs)}")
    if docs[0] is None:
        raise SystemExit(f"{PROG}: error: {name}: the document is empty")

    try:
        data = json.dumps(_normalise(docs[0]), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    except ValueError as exc:
        raise SystemExit(f"{PROG}: error: {name}: {exc}") from exc
    payload = (data + "\n").encode("utf-8")

    if dst == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return

    directory = os.path.dirname(os.path.abspath(dst))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".yaml2json.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dst)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise SystemExit(f"{PROG}: error: cannot write {dst}: {exc.strerror}") from exc


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 3:
        print(f"usage: {argv[0]} IN.yaml OUT.json", file=sys.stderr)
        return 2
    convert(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
