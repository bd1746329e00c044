"""Small clients for poking the world's non-HTTP servers directly (HTTP: use httpx)."""

from __future__ import annotations

import socket

import dns.message
import dns.query


def whois_query(address: str, query: str, timeout: float = 3.0) -> bytes:
    """One port-43 exchange with 'host:port': the whole answer, up to the server's close."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(query.encode() + b"\r\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def dns_ask(port: int, name: str, rdtype: str, *, tcp: bool = False, timeout: float = 2.0) -> dns.message.Message:
    """One DNS query to 127.0.0.1:port (raises dns.exception.Timeout without an answer)."""
    query = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=port, timeout=timeout)


def dns_values(answer: dns.message.Message) -> list[str]:
    """The answer section as zone-file text, one string per record."""
    return [rdata.to_text() for rrset in answer.answer for rdata in rrset]
