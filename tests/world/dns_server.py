"""A real DNS server on loopback (UDP and TCP), built on dnspython's message classes.

Each name in the zone maps record types to values in zone-file text; names not in the
zone are answered by the closest wildcard ("*.parent" in the zone), else go to `fallback`
(None there is NXDOMAIN). A name (and its subdomains; "*" for every
name) may have a behaviour: "servfail", "drop" (never answer), "refused", "nxdomain",
or "slow:SECONDS".
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

Records = dict[str, list[str]]
Zone = dict[str, Records]


@dataclass
class DnsServer:
    zone: Zone
    behaviours: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    """(transport, name, type) of every query received."""
    fallback: Callable[[str], Records | None] | None = None
    """Records for a name that is not in the zone."""

    def __post_init__(self) -> None:
        self.udp, self.tcp = self._bind_pair()
        self.port = self.udp.getsockname()[1]
        self.tcp.listen(64)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]

    def _bind_pair(self) -> tuple[socket.socket, socket.socket]:
        """A UDP and a TCP socket on the same free port (the UDP one may be taken for TCP)."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # bursts of queries
            udp.bind((self.host, 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            return udp, tcp
        raise OSError("no free port for both UDP and TCP")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> DnsServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for sock in (self.udp, self.tcp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in recvfrom and accept
            sock.close()
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(1.0)

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._answer_udp, args=(data, peer), daemon=True).start()

    def _answer_udp(self, data: bytes, peer: tuple[str, int]) -> None:
        wire = self.answer(data, "udp")
        if wire is not None:
            with contextlib.suppress(OSError):
                self.udp.sendto(wire, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._answer_tcp, args=(conn,), daemon=True).start()

    def _answer_tcp(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    head = conn.recv(2)
                    if len(head) < 2:
                        return
                    (length,) = struct.unpack("!H", head)
                    data = b""
                    while len(data) < length:
                        chunk = conn.recv(length - len(data))
                        if not chunk:
                            return
                        data += chunk
                    wire = self.answer(data, "tcp")
                    if wire is None:
                        self._stop.wait()
                        return
                    conn.sendall(struct.pack("!H", len(wire)) + wire)
            except OSError:
                return

    def answer(self, data: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return None
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((transport, name, rdtype))
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        behaviour = self._behaviour(name)
        if behaviour == "drop":
            return None
        if behaviour.startswith("slow:") and self._stop.wait(float(behaviour.split(":", 1)[1])):
            return None
        if behaviour == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if behaviour == "refused":
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        records = self.zone.get(name)
        if records is None:
            records = self._wildcard(name)
        if records is None and self.fallback is not None:
            records = self.fallback(name)
        if records is None or behaviour == "nxdomain":
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        values = records.get(rdtype, [])
        if values:
            response.answer.append(dns.rrset.from_text(question.name, 300, "IN", rdtype, *values))
        wire = response.to_wire()
        if transport == "udp" and len(wire) > 512 and query.edns < 0:
            response.answer.clear()
            response.flags |= dns.flags.TC
            wire = response.to_wire()
        return wire

    def _wildcard(self, name: str) -> Records | None:
        """The records of the closest enclosing wildcard ("*.parent" in the zone), if any
        (RFC 4592, without its empty non-terminal subtleties)."""
        labels = name.split(".")
        for start in range(1, len(labels)):
            records = self.zone.get("*." + ".".join(labels[start:]))
            if records is not None:
                return records
        return None

    def _behaviour(self, name: str) -> str:
        """The behaviour of the longest matching suffix, else that of "*"."""
        rules = list(self.behaviours.items())
        matches = [(len(suffix), rule) for suffix, rule in rules if name == suffix or name.endswith("." + suffix)]
        return max(matches)[1] if matches else self.behaviours.get("*", "")
