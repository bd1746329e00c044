"""Shared fixtures: `world`, the loopback world of upstreams (tests/world)."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.world.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Every upstream on loopback, fresh for each test; see tests/world/world.py."""
    with World(home=tmp_path / "world") as started:
        yield started


# Property tests run the same examples on every run, so CI is repeatable; explore new
# ones with `pytest --hypothesis-profile=explore`.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile("repeatable")


def _loopback(address: object) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX
        return True
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests never leave loopback: connecting or sending anywhere else, or
    resolving a real host name, fails at once (respx-mocked requests never get here).
    End-to-end runs are kept home by configs that point every upstream at the world."""
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def refuse(what: object) -> OSError:
        return OSError(f"tests must not reach the network: {what!r}")

    def connect(sock: socket.socket, address: object) -> None:
        if not _loopback(address):
            raise refuse(address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: object) -> int:
        if not _loopback(address):
            raise refuse(address)
        return real_connect_ex(sock, address)

    def sendto(sock: socket.socket, data: bytes, *args: object) -> int:
        if not _loopback(args[-1]):
            raise refuse(args[-1])
        return real_sendto(sock, data, *args)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _loopback((host.decode() if isinstance(host, bytes) else host,)):
            raise socket.gaierror(socket.EAI_NONAME, f"tests must not resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# -- the store's backends (tests/pg_server.py) ------------------------------------

_pg_counter = iter(range(1, 1_000_000))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One PostgreSQL server for the session (tests/pg_server.py), stopped at its end; a
    failure, in one line, when it cannot start. SIGTERM ends the session the way Ctrl-C
    does, so pytest's teardown stops the server then too (SIGKILL leaves it running)."""
    from tests.pg_server import PgUnavailable, start_server

    try:
        server = start_server()
    except PgUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield server
    finally:
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, previous)
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store: an SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'store.db'}"
    server = request.getfixturevalue("pg_server")
    return server.new_database(f"t{next(_pg_counter)}_{os.getpid()}")  # type: ignore[attr-defined]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the PostgreSQL server is marked `postgresql` (`-m postgresql` runs
    only those, `-m "not postgresql"` all but those), however it asks for the server."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)
