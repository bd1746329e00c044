"""What the world's servers share: the request log, per-target behaviours, a TCP server."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

WILDCARD = "*"
"""A target (or service) that matches every target (or service)."""


@dataclass(frozen=True)
class Request:
    """One request as a server received it."""

    service: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names in lower case."""
    client: tuple[str, int]
    target: str | None
    """The domain or IP the request is about, None when the route is unknown."""
    raw: str
    """The request line and headers (or the WHOIS query line) as text: search it for keys."""
    at: float = field(default_factory=time.monotonic)


class RequestLog:
    """Every request every server received, in order; safe to read while servers run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Request] = []

    def add(self, request: Request) -> None:
        with self._lock:
            self._items.append(request)

    def filter(self, service: str | None = None, target: str | None = None) -> list[Request]:
        with self._lock:
            items = list(self._items)
        return [
            r
            for r in items
            if (service is None or r.service == service) and (target is None or r.target == target.lower())
        ]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __iter__(self) -> Iterator[Request]:
        return iter(self.filter())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass
class Behaviour:
    """How a server treats requests about one target. `delay_s` applies before any
    behaviour; `times` (None: forever) is how many requests it applies to."""

    name: str = "normal"
    params: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0
    times: int | None = None


NORMAL = Behaviour()


class Behaviours:
    """Per-target behaviours of one server; a target-specific one wins over '*'."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_target: dict[str, Behaviour] = {}

    def set(self, target: str, behaviour: Behaviour) -> None:
        with self._lock:
            if behaviour.name == "normal" and not behaviour.params and not behaviour.delay_s:
                self._by_target.pop(target.lower(), None)
            else:
                self._by_target[target.lower()] = behaviour

    def take(self, target: str | None) -> Behaviour:
        """The behaviour for one request (counting it against `times`)."""
        with self._lock:
            key = (target or "").lower()
            key = key if key in self._by_target else WILDCARD
            behaviour = self._by_target.get(key)
            if behaviour is None:
                return NORMAL
            if behaviour.times is not None:
                behaviour.times -= 1
                if behaviour.times <= 0:
                    del self._by_target[key]
            return behaviour

    def clear(self) -> None:
        with self._lock:
            self._by_target.clear()


class TcpServer:
    """A listening socket on loopback, a daemon thread per connection, a clean stop:
    shutting the sockets down wakes every thread blocked in accept, recv or send."""

    def __init__(self, name: str, log: RequestLog, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        self.log = log
        self.behaviours = Behaviours()
        self.stopping = threading.Event()
        self.sock = socket.create_server((host, port))
        self.host, self.port = self.sock.getsockname()[:2]
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        self._thread = threading.Thread(target=self._accept_loop, name=f"world-{name}", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> TcpServer:
        self._thread.start()
        return self

    def stop(self, wait_s: float = 1.0) -> None:
        self.stopping.set()
        with self._lock:
            sockets = [self.sock, *self._open]
            threads = [self._thread, *self._open.values()]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        end = time.monotonic() + wait_s
        for thread in threads:
            if thread.ident is not None:
                thread.join(max(0.0, end - time.monotonic()))

    def pause(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when it is stopping."""
        return self.stopping.wait(seconds) if seconds > 0 else self.stopping.is_set()

    def hold(self, conn: socket.socket) -> None:
        """Never answer: read and drop whatever comes until the client leaves or we stop."""
        with contextlib.suppress(OSError):
            while conn.recv(65536):
                pass

    @staticmethod
    def reset(conn: socket.socket) -> None:
        """Close with a TCP RST instead of a FIN."""
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def handle(self, conn: socket.socket, client: tuple[str, int]) -> None:
        raise NotImplementedError

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, client = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn, client), name=f"world-{self.name}", daemon=True)
            with self._lock:
                if self.stopping.is_set():
                    conn.close()
                    return
                self._open[conn] = thread
            thread.start()

    def _serve(self, conn: socket.socket, client: tuple[str, int]) -> None:
        try:
            self.handle(conn, client)
        except OSError:  # the client went away, or we are stopping
            pass
        finally:
            with self._lock:
                self._open.pop(conn, None)
            conn.close()
