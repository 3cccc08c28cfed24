#!/usr/bin/env python3
"""Where given colours appear in a PNG screenshot (no imaging library).

usage: png_colors.py FILE.png NAME=RRGGBB...

Decodes 8-bit RGB or RGBA PNGs (what Chromium writes) and prints, per
colour, the number of pixels within a small distance of it and the first
and last row holding one: "NAME COUNT FIRST_ROW LAST_ROW".  Also prints
"distinct N": the number of distinct colours, so a blank page shows.
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG: " + path)
    pos, idat = 8, []
    width = height = bpp = None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6) or body[12] != 0:
                raise SystemExit("unsupported PNG: depth %d type %d"
                                 % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    path, specs = sys.argv[1], sys.argv[2:]
    want = []
    for s in specs:
        name, hexrgb = s.split("=")
        want.append((name, tuple(int(hexrgb[i:i + 2], 16)
                                 for i in (0, 2, 4))))
    width, height, bpp, rows = decode(path)
    hits = {name: [0, None, None] for name, _ in want}
    distinct = set()
    for y, line in enumerate(rows):
        seen = {}
        for x in range(0, width * bpp, bpp):
            px = line[x:x + 3]
            seen[px] = seen.get(px, 0) + 1
        distinct.update(seen)
        for px, n in seen.items():
            for name, rgb in want:
                if max(abs(px[i] - rgb[i]) for i in range(3)) <= 6:
                    h = hits[name]
                    h[0] += n
                    h[1] = y if h[1] is None else h[1]
                    h[2] = y
    for name, _ in want:
        c, first, last = hits[name]
        print(name, c, -1 if first is None else first,
              -1 if last is None else last)
    print("distinct", len(distinct))


if __name__ == "__main__":
    main()
