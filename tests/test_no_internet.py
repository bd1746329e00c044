"""The guard in conftest.py: an in-process test that tries to leave loopback fails at once."""

from __future__ import annotations

import socket

import pytest

from osint_fanout._results import Status
from osint_fanout.testing import run_adapter
from osint_fanout_adapters.dns import DnsAdapter


def test_connecting_or_resolving_outside_loopback_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(OSError, match="must not reach the network"):
        sock.connect(("192.0.2.1", 443))
    with pytest.raises(socket.gaierror, match="must not resolve"):
        socket.getaddrinfo("example.com", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)  # loopback stays open


def test_an_adapter_pointed_at_the_internet_fails_instead_of_leaving() -> None:
    result = run_adapter(DnsAdapter, "example.com", nameservers=["192.0.2.53"], timeout_s=2)
    assert result.status in (Status.ERROR, Status.TIMEOUT)
