"""Reading a response body within a size cap, decoding its Content-Encoding in bounded steps.

httpx decodes gzip and deflate itself, but hands each decoder a whole network chunk and gets
back everything it expands to: a 64 KiB chunk of a gzip bomb becomes gigabytes before any cap
can be checked, and stacked encodings (`gzip, gzip`) multiply that. zlib can be told to stop
after N output bytes (`decompressobj().decompress(data, max_length)`), so the decoded size is
counted against the cap while it grows, a step of at most `STEP` bytes at a time. httpx has no
hook for that, hence this small reader over the raw bytes. Only encodings decoded this way are
advertised (`ACCEPT_ENCODING`); brotli and zstd, which httpx would decode when their packages
happen to be installed, are not.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

from ._errors import AdapterError

__all__ = ["ACCEPT_ENCODING", "content_coding", "read_body"]

ACCEPT_ENCODING = "gzip, deflate"
STEP = 64 * 1024
"""Most bytes one decompression step may produce."""
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
"""Past RATIO_FLOOR decoded bytes, a body that expands over MAX_RATIO-fold is a bomb, not
data (JSON compresses 5- to 30-fold): refused at once, so that many bombs in parallel
cost little more than their first MiB each, not `limit` each."""
_GZIP = {"gzip", "x-gzip"}
_IDENTITY = {"", "identity"}


class _Inflater:
    """gzip (several members in a row included) or deflate (zlib-wrapped, or raw as some
    servers send it), producing at most STEP bytes per step."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in _GZIP
        self.raw_fallback = not self.gzip  # "deflate": zlib-wrapped first, raw if that fails
        self.started = False
        self.obj = self._new()
        self.fed = 0

    def consumed(self) -> int:
        """Compressed bytes that zlib has read so far."""
        pending = len(self.obj.unconsumed_tail) + len(self.obj.unused_data)
        return self.fed - pending

    def _new(self) -> zlib._Decompress:
        return zlib.decompressobj(zlib.MAX_WBITS | 16 if self.gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """Decode the first step of `data`; `more()` gives the next ones."""
        self.fed += len(data)
        try:
            out = self.obj.decompress(data, STEP)
        except zlib.error:
            if not (self.raw_fallback and not self.started):
                raise
            self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.obj.decompress(data, STEP)
        self.started = True
        return out

    def pending(self) -> bool:
        """Input fed but not decoded yet: the rest of a step, or the next gzip member."""
        return bool(self.obj.unconsumed_tail) or self._next_member()

    def _next_member(self) -> bool:
        return self.gzip and self.obj.eof and self.obj.unused_data.startswith(b"\x1f\x8b")

    def more(self) -> bytes:
        if self.obj.unconsumed_tail:
            return self.obj.decompress(self.obj.unconsumed_tail, STEP)
        rest = self.obj.unused_data  # trailing bytes that are no gzip member are ignored
        self.obj = self._new()
        return self.obj.decompress(rest, STEP)


def content_coding(header: str, where: str) -> str:
    """The one Content-Encoding in force ('' for none); stacked or unknown ones are refused."""
    codings = [part.strip().lower() for part in header.split(",")]
    codings = [coding for coding in codings if coding not in _IDENTITY]
    if len(codings) > 1:
        raise AdapterError("parse", f"{where} sent stacked content encodings ({', '.join(codings)}); refused")
    coding = codings[0] if codings else ""
    if coding and coding not in _GZIP and coding != "deflate":
        raise AdapterError("parse", f"{where} sent an unsupported content encoding {coding[:20]!r}")
    return coding


async def read_body(raw: AsyncIterator[bytes], *, content_encoding: str, limit: int, where: str) -> bytes:
    """The decoded body of a response from its raw chunks; AdapterError `too_large` as soon
    as more than `limit` decoded bytes arrive, `parse` for a body that does not decode."""
    coding = content_coding(content_encoding, where)
    inflater = _Inflater(coding) if coding else None
    body = bytearray()

    def add(piece: bytes) -> None:
        body.extend(piece)
        if len(body) > limit:
            raise AdapterError("too_large", f"{where} sent more than {limit} bytes")
        if inflater and len(body) > RATIO_FLOOR and len(body) > MAX_RATIO * inflater.consumed():
            bomb = f"{where} sent a body that expands over {MAX_RATIO}-fold (a compression bomb)"
            raise AdapterError("too_large", bomb)

    try:
        async for chunk in raw:
            if inflater is None:
                add(chunk)
                continue
            add(inflater.feed(chunk))
            while inflater.pending():
                add(inflater.more())
    except zlib.error as exc:
        raise AdapterError("parse", f"{where} sent a body that does not decode as {coding}: {exc}") from None
    return bytes(body)
