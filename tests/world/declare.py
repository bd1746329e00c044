"""What a world service declares about itself, and the base class of every service.

A service stands in for the upstream behind one option of one adapter's section: `Serves`
says which, for which kinds of target, in what form the option holds its address, and
whether the service checks the adapter's key. The World builds its config, its keys and
their environment variables from these declarations and the adapters' own metadata (the
registry); `Matrix` (faults.py) says how the fault matrix tries the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from osint_fanout import TargetKind

from .faults import Matrix

if TYPE_CHECKING:
    from .base import RequestLog

EVERY_KIND = frozenset(TargetKind)
DOMAINS = frozenset({TargetKind.DOMAIN})
IPS = frozenset({TargetKind.IPV4, TargetKind.IPV6})
INTACT = frozenset({"ok"})
"""What an adapter says, by default, when nothing is faulted."""


class Form(StrEnum):
    """How an option holds where the service is."""

    URL = "url"
    """Its base URL plus `suffix`: "http://127.0.0.1:PORT/api/v3"."""
    ADDRESS = "address"
    """"127.0.0.1:PORT" (a port-43 WHOIS server)."""
    ADDRESSES = "addresses"
    """A list of "host:port"; every service declaring the option adds its own (DNS)."""


@dataclass(frozen=True)
class Serves:
    """The upstream a service stands in for: `option` of `[adapters.<adapter>]`."""

    adapter: str
    option: str
    kinds: frozenset[TargetKind] = EVERY_KIND
    """The kinds of target it answers for."""
    form: Form = Form.URL
    suffix: str = ""
    """Appended to the URL in the config (VirusTotal's /api/v3)."""
    key: bool = False
    """It is sent the adapter's API key and refuses a wrong one. A keyed adapter's key may
    reach only its services that declare this."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Other options of the section that go with it (dns: tcp = false)."""
    intact: Mapping[TargetKind, frozenset[str]] = field(default_factory=dict)
    """Statuses its adapter may give for a kind of target when nothing is faulted (default
    ok; the fault matrix checks the other adapters against these)."""

    def intact_for(self, kind: TargetKind) -> frozenset[str]:
        return self.intact.get(kind, INTACT)


class Server(Protocol):
    """A world server: HttpServer, WhoisServer, DnsServer."""

    @property
    def address(self) -> str: ...

    def start(self) -> Any: ...

    def stop(self) -> None: ...


class WorldView(Protocol):
    """What a service may ask of the world it runs in."""

    keys: dict[str, str]
    log: RequestLog
    RDAP_TLDS: tuple[str, ...]

    def url(self, service: str) -> str: ...


class Upstream:
    """A fake upstream: its name (for world.behave, world.url, the request log), what it
    serves, how the fault matrix tries it, and the server it runs on. The World binds it
    (`world`) before it asks for the server."""

    name: ClassVar[str] = "upstream"
    serves: ClassVar[Serves | None] = None
    """None: it serves no adapter (the trap)."""
    matrix: ClassVar[Matrix] = Matrix()
    world: WorldView

    def bind(self, world: WorldView) -> None:
        self.world = world

    def server(self) -> Server:
        """A new server for this service, not started yet."""
        raise NotImplementedError

    @property
    def key(self) -> str | None:
        """The valid API key of the adapter it serves; None when that adapter has none."""
        return self.world.keys.get(self.serves.adapter) if self.serves is not None else None
