"""A small generated PNG (stdlib only), what the customer 'photographs' when no file is given."""

from __future__ import annotations

import random
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def sample_png(size: int = 96, seed: int | None = None) -> bytes:
    """A diagonal two-colour gradient: distinct per call, so media hashes differ."""
    rng = random.Random(seed)
    a = [rng.randrange(256) for _ in range(3)]
    b = [rng.randrange(256) for _ in range(3)]
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            t = (x + y) / (2 * size - 2)
            rows.extend(int(a[c] + (b[c] - a[c]) * t) for c in range(3))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows)))
        + _chunk(b"IEND", b"")
    )
