#!/usr/bin/env python3
"""Checks that a PNG screenshot is not blank: exit 0 when at least 1 % of its pixels differ
from its most common colour and it holds at least 8 distinct colours; 1 otherwise (or when
the file is missing or not a PNG this script can read: 8-bit RGB or RGBA, not interlaced).

Usage: python3 infra/dev/png_not_blank.py FILE.png
Standard library only (zlib), so it runs wherever the tests run."""
import struct
import sys
import zlib
from collections import Counter


def pixels(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, head = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = head
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
    bpp = 3 if colour == 2 else 4
    raw, stride, prev, out = zlib.decompress(b"".join(idat)), width * bpp, None, []
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        prev = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.extend(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return out


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        px = pixels(argv[0])
    except (OSError, ValueError, zlib.error, TypeError) as exc:
        print(f"png_not_blank.py: {argv[0]}: {exc}", file=sys.stderr)
        return 1
    counts = Counter(px)
    top = counts.most_common(1)[0][1]
    share = 1 - top / len(px)
    if share < 0.01 or len(counts) < 8:
        print(f"png_not_blank.py: {argv[0]}: blank ({len(counts)} colours, "
              f"{share:.2%} off the background)", file=sys.stderr)
        return 1
    print(f"png_not_blank.py: {argv[0]}: {len(counts)} colours, {share:.1%} off the background")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
