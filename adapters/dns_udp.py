"""The dns adapter's fast path: one lookup's questions over one UDP socket.

dnspython's resolver opens a socket, and runs its whole resolution machinery, for every
question; a domain lookup asks nine. Here the nine go out at once on one connected UDP
socket (a fresh one, on a fresh port, for each lookup), and each answer is matched to its
question by ID and by dnspython's own `is_response`. Only the plain cases are decided
here, exactly as the resolver decides them (`resolve_chaining`, the resolver's query
options): a readable answer with NOERROR or NXDOMAIN. Anything else (no answer within the
resolver's per-server timeout, another response code, a truncated or unreadable answer, an
ICMP error) leaves the question to the resolver, which then asks it its usual way, with
its retries, its other servers and TCP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import dns.entropy
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode

if TYPE_CHECKING:
    import dns.asyncresolver
    import dns.rrset

__all__ = ["Reply", "ask_udp", "usable"]


class Reply(NamedTuple):
    """What the resolver would have concluded from the answer."""

    nxdomain: bool
    rrset: dns.rrset.RRset | None
    """The answer after following CNAMEs (None: no data of that type)."""


def usable(resolver: dns.asyncresolver.Resolver, *, tcp: bool) -> bool:
    """Whether the fast path applies: plain UDP to a Do53 server, no TSIG."""
    return (
        not tcp
        and resolver.keyname is None
        and bool(resolver.nameservers)
        and all(isinstance(ns, dns.nameserver.Do53Nameserver) for ns in resolver.nameservers)
    )


async def ask_udp(
    resolver: dns.asyncresolver.Resolver, questions: Sequence[tuple[str, str]], timeout_s: float
) -> list[Reply | None]:
    """Each question's Reply, or None where the resolver must decide. Never raises for a
    network problem: it only means None for every question."""
    servers = resolver.nameservers
    server = random.choice(servers) if resolver.rotate else servers[0]
    assert isinstance(server, dns.nameserver.Do53Nameserver)
    queries = [_query(resolver, name, rdtype) for name, rdtype in questions]
    loop = asyncio.get_running_loop()
    try:
        address = ipaddress.ip_address(server.address)
        transport, channel = await loop.create_datagram_endpoint(
            lambda: _Channel(address, server.port), remote_addr=(server.address, server.port)
        )
    except (OSError, ValueError):
        return [None] * len(queries)
    try:
        waiting = [channel.send(query) for query in queries]
        await asyncio.wait(waiting, timeout=min(timeout_s, resolver.timeout))
        return [future.result() if future.done() else None for future in waiting]
    finally:
        transport.close()


def _query(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> dns.message.QueryMessage:
    """The request the resolver would send (see dns.resolver._Resolution.next_request)."""
    request = dns.message.make_query(dns.name.from_text(name), rdtype)
    request.use_edns(resolver.edns, resolver.ednsflags, resolver.payload, options=resolver.ednsoptions)
    if resolver.flags is not None:
        request.flags = resolver.flags
    return request


class _Channel(asyncio.DatagramProtocol):
    """One lookup's socket: questions by ID, answered once each."""

    def __init__(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> None:
        self.address = address
        self.port = port
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[dns.message.Message, asyncio.Future[Reply | None]]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, query: dns.message.Message) -> asyncio.Future[Reply | None]:
        while query.id in self.pending:
            query.id = dns.entropy.random_16()
        future: asyncio.Future[Reply | None] = asyncio.get_running_loop().create_future()
        self.pending[query.id] = (query, future)
        assert self.transport is not None
        self.transport.sendto(query.to_wire())
        return future

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            if ipaddress.ip_address(str(addr[0])) != self.address or addr[1] != self.port or len(data) < 12:
                return
        except ValueError:
            return
        entry = self.pending.get(int.from_bytes(data[:2], "big"))
        if entry is None or entry[1].done():
            return
        query, future = entry
        future.set_result(_reply(query, data))

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        self._give_up()

    def connection_lost(self, exc: Exception | None) -> None:
        self._give_up()

    def _give_up(self) -> None:
        for _, future in self.pending.values():
            if not future.done():
                future.set_result(None)


def _reply(query: dns.message.Message, data: bytes) -> Reply | None:
    try:
        response = dns.message.from_wire(data)
    except Exception:  # unreadable: the resolver decides (and reports it its way)
        return None
    if response.flags & dns.flags.TC or not isinstance(response, dns.message.QueryMessage):
        return None
    if not query.is_response(response):
        return None
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return None
    try:
        chained = response.resolve_chaining()
    except Exception:  # the resolver takes such a server out of the mix: let it
        return None
    nxdomain = rcode == dns.rcode.NXDOMAIN
    return Reply(nxdomain=nxdomain, rrset=None if nxdomain else chained.answer)
