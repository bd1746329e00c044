"""A real DNS server on loopback (UDP and TCP), built on dnspython's message classes.

Each name in the zone maps record types to values in zone-file text; a name may instead
have a behaviour: "servfail", "drop" (never answer), "refused", or "slow:SECONDS".
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

Zone = dict[str, dict[str, list[str]]]


@dataclass
class DnsServer:
    zone: Zone
    behaviours: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    """(transport, name, type) of every query received."""

    def __post_init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((self.host, 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((self.host, self.port))
        self.tcp.listen(16)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]

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
                sock.close()

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
                        time.sleep(3600)
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
        if behaviour.startswith("slow:"):
            time.sleep(float(behaviour.split(":", 1)[1]))
        if behaviour == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if behaviour == "refused":
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        records = self.zone.get(name)
        if records is None:
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

    def _behaviour(self, name: str) -> str:
        for suffix, behaviour in self.behaviours.items():
            if name == suffix or name.endswith("." + suffix):
                return behaviour
        return ""
