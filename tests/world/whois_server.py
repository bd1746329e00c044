"""A port-43 WHOIS server on loopback (RFC 3912): read one line, answer text, close.

Two roles: "iana" answers every query like whois.iana.org, with a "refer: host:port"
line naming the registry server (`refer`: 'host:port', or a function that gives it when
asked); "registry" answers domain queries like a thin registry (Verisign's format), and
"No match" for anything else.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

from .base import Request, RequestLog, TcpServer
from .templates import load, render

# Behaviour name -> the parameters it takes (besides delay_s and times).
BEHAVIOURS: dict[str, frozenset[str]] = {
    "normal": frozenset({"replace"}),
    "slow": frozenset({"replace"}),
    "hang": frozenset(),
    "reset": frozenset(),
    "garbage": frozenset(),
    "not_found": frozenset(),
    "endless": frozenset(),
    "custom": frozenset({"body"}),
}
GARBAGE = b"\x00\xff\xfe\x1b[2J\x1b]0;pwned\x07\xc3\x28[bold red]x[/]\r\n" + bytes(range(256)) * 4
FILLER = b"% The registry has a lot to say about this name, one line at a time.\r\n" * 512
MAX_QUERY = 4096


class WhoisServer(TcpServer):
    def __init__(
        self,
        name: str,
        log: RequestLog,
        *,
        role: str,
        refer: str | Callable[[], str] = "",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if role not in ("iana", "registry"):
            raise ValueError(f"role must be 'iana' or 'registry', not {role!r}")
        super().__init__(name, log, host, port)
        self.role = role
        self.refer = refer

    def handle(self, conn: socket.socket, client: tuple[str, int]) -> None:
        line = _read_line(conn)
        if line is None:
            return
        query = line.decode("utf-8", "replace").strip()
        target = normalise(query)
        self.log.add(Request(self.name, "WHOIS", query, {}, {}, client, target, raw=query))
        behaviour = self.behaviours.take(target)
        if self.pause(behaviour.delay_s):
            return
        name, params = behaviour.name, behaviour.params
        if name in ("normal", "slow"):
            conn.sendall(self.answer(target, params.get("replace")))
        elif name == "hang":
            self.hold(conn)
        elif name == "reset":
            self.reset(conn)
        elif name == "garbage":
            conn.sendall(GARBAGE)
        elif name == "not_found":
            conn.sendall(_no_match(target))
        elif name == "endless":
            while not self.stopping.is_set():
                conn.sendall(FILLER)  # raises OSError once the client is gone
        elif name == "custom":
            body = params.get("body", b"")
            conn.sendall(body.encode() if isinstance(body, str) else body)
        else:
            raise ValueError(f"unknown behaviour {name!r}")

    def answer(self, target: str, replace: dict[str, str] | None = None) -> bytes:
        if self.role == "iana":
            tld = target.rsplit(".", 1)[-1].upper()
            text = load("whois/iana_com.txt")
            refer = self.refer() if callable(self.refer) else self.refer
            text = re.sub(r"(?m)^(refer|whois):(\s*)\S+", rf"\g<1>:\g<2>{refer}", text)
            text = re.sub(r"(?m)^domain:(\s*)\S+", rf"domain:\g<1>{tld}", text)
            for old, new in (replace or {}).items():
                text = text.replace(old, new)
            return _crlf(text.encode())
        if "." not in target:
            return _no_match(target)
        return _crlf(render("whois/whois_com.txt", target, replace))


def normalise(query: str) -> str:
    """'=EXAMPLE.COM', 'domain example.com' -> 'example.com'."""
    query = query.strip().lower().removeprefix("=")
    return query.removeprefix("domain ").strip()


def _read_line(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\n" not in data and len(data) < MAX_QUERY:
        chunk = conn.recv(MAX_QUERY)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0] if data else None


def _no_match(target: str) -> bytes:
    return (
        f'No match for "{target.upper()}".\r\n>>> Last update of whois database: 2024-05-01T10:00:00Z <<<\r\n'.encode()
    )


def _crlf(text: bytes) -> bytes:
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
