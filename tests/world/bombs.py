"""Compression bombs, built at test time (never stored): valid gzip bodies that expand a
thousandfold, and one gzip inside another.

A gzip of N MiB of zeros is built from one compressed MiB repeated: after a full flush,
deflate starts afresh, so every following MiB compresses to the same bytes. That takes
milliseconds where compressing a GiB would take seconds.
"""

from __future__ import annotations

import functools
import struct
import zlib

MIB = 1 << 20


@functools.cache
def gzip_zeros(mib: int) -> bytes:
    """A valid gzip member that decodes to `mib` MiB of zeros (about 1 KiB per MiB)."""
    block = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, max compression
    trailer = struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF)
    return header + first + again * (mib - 1) + end + trailer


@functools.cache
def gzip_of_gzip(mib: int) -> bytes:
    """`Content-Encoding: gzip, gzip`: a few KiB that decode, twice, to `mib` MiB."""
    return zlib.compress(gzip_zeros(mib), 9, wbits=31)


@functools.cache
def deep_json(depth: int = 100_000) -> bytes:
    """JSON nested `depth` arrays deep: valid, and deeper than any recursive parser goes."""
    return b"[" * depth + b"]" * depth
