"""The loopback world: every upstream osint-fanout talks to, on 127.0.0.1, with faults.

with World() as world:
    world.behave("virustotal", "example.com", "rate_limit", retry_after=1, times=1)
    world.write_config(keys=True)
    run = world.run_cli("search", "example.com", "-f", "json")
    assert run.code == 0, run.stderr
    sent = world.requests("virustotal")
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from osint_fanout import Adapter, KeyPolicy
from osint_fanout._plugins import Registry, discover

from . import http_server, whois_server
from .base import WILDCARD, Behaviour, Request, RequestLog
from .cli import CliResult, CliTimeout, cli_command, inherited_setting
from .declare import Form, Server, Upstream
from .dns_server import DnsServer, Records
from .http_server import HttpServer
from .pivot_zone import PivotZone
from .services import CrtSh, Trap, default_services
from .templates import IP
from .toml_text import toml_table
from .whois_server import WhoisServer
from .zone import IP6, TEST_DOMAINS, zone_records

__all__ = [
    "IP",
    "IP6",
    "TEST_DOMAINS",
    "CliResult",
    "CliTimeout",
    "World",
    "cli_command",
    "served_adapters",
    "zone_records",
]

DNS_BEHAVIOURS = {"normal": "", "slow": "slow", "hang": "drop", "drop": "drop"} | {
    name: name for name in ("servfail", "refused", "nxdomain")
}
TRAP = "trap"


class World:
    """Start with `with World() as world:` (or start()/stop()). `home` (a temp dir by
    default) holds the config and is HOME and XDG_* for the CLI runs.

    The services are every `@in_world` one of services.py, plus any `add_service` adds;
    the config, `keys` and `key_env()` come from their declarations (declare.py) and the
    adapters' metadata in `registry`."""

    RDAP_TLDS = ("com", "net", "org", "test")
    """TLDs in the bootstrap dns.json; "example" is left out on purpose (no RDAP service)."""

    def __init__(self, home: Path | None = None) -> None:
        self._own_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="osint-world-")) if home is None else Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = RequestLog()
        self.registry: Registry = discover()
        """The installed adapters, as the CLI finds them (re-read for an adapter it lacks)."""
        self.services: dict[str, Upstream] = {}
        """Every service but the trap, by name, in the order they start."""
        self.keys: dict[str, str] = {}
        """Valid keys by adapter, for every keyed adapter the world serves (ct's is Cert
        Spotter's); services that check keys refuse any other."""
        self.config_path: Path | None = None
        self.servers: dict[str, Server] = {}
        self.http: dict[str, HttpServer] = {}
        self.whois: dict[str, WhoisServer] = {}
        self.dns: DnsServer
        self._running: list[Server] = []
        self._started = False
        for service in default_services():
            self.add_service(service)

    # -- services and adapters ---------------------------------------------

    def add_service(self, service: Upstream) -> Upstream:
        """Add a service (before or after start; a running world starts it at once). Its
        adapter must be installed: the registry is re-read once when it is unknown. A keyed
        adapter gets a key in `keys` with its first service."""
        if service.name in self.services or service.name == TRAP:
            raise ValueError(f"the world already has a service named {service.name!r}")
        serves = service.serves
        keyed = False
        if serves is not None:
            cls = self.adapter(serves.adapter)
            if serves.option not in cls.Options.model_fields:
                options = ", ".join(cls.Options.model_fields)
                raise ValueError(
                    f"{service.name}: [adapters.{serves.adapter}] has no option {serves.option!r} ({options})"
                )
            keyed = cls.key is not KeyPolicy.NONE
            if serves.key and not keyed:
                raise ValueError(f"{service.name} checks a key, but the {serves.adapter} adapter takes none")
        service.bind(self)
        if self._started:
            self._serve(service)
        self.services[service.name] = service
        if serves is not None and keyed:
            self.keys.setdefault(serves.adapter, f"world-{serves.adapter}-key-{os.urandom(6).hex()}")
        return service

    def adapter(self, name: str) -> type[Adapter[Any]]:
        """An installed adapter's class, from the registry (re-read once if it is missing,
        e.g. after a test put a plugin on sys.path)."""
        if name not in self.registry.adapters:
            importlib.invalidate_caches()
            self.registry = discover()
        cls = self.registry.adapters.get(name)
        if cls is None:
            why = self.registry.failed.get(name) or "no entry point of that name in osint_fanout.adapters"
            raise ValueError(
                f"adapter {name!r} is not installed ({why}); installed: {', '.join(self.registry.adapters)}"
            )
        return cls

    def adapters(self) -> list[str]:
        """The adapters the world serves (each has at least one service), in order."""
        return list(dict.fromkeys(s.serves.adapter for s in self.services.values() if s.serves is not None))

    def services_of(self, adapter: str) -> list[Upstream]:
        return [s for s in self.services.values() if s.serves is not None and s.serves.adapter == adapter]

    # -- life cycle --------------------------------------------------------

    def start(self) -> World:
        try:
            trap = Trap()
            trap.bind(self)
            self._serve(trap)
            for service in self.services.values():
                self._serve(service)
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        self._started = False
        while self._running:
            self._running.pop().stop()
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, service: Upstream) -> None:
        server = service.server()
        self._running.append(server)
        server.start()
        self.servers[service.name] = server
        if isinstance(server, HttpServer):
            self.http[service.name] = server
        elif isinstance(server, WhoisServer):
            self.whois[service.name] = server
        elif isinstance(server, DnsServer) and not hasattr(self, "dns"):
            self.dns = server

    # -- faults and the log ----------------------------------------------

    def behave(
        self,
        service: str,
        target: str,
        behaviour: str,
        *,
        delay_s: float | None = None,
        times: int | None = None,
        **params: Any,
    ) -> None:
        """Make `service` treat requests about `target` ("*": every target) this way.

        `service` "*" means every service (not the trap) that has `behaviour`. `delay_s`
        delays any behaviour ("slow" is "normal" after `delay_s`, default 1 s); `times`
        limits it to that many requests, then the service is normal again (not for dns).
        """
        if service == WILDCARD:
            chosen = [name for name in self.services if behaviour in self._known(name)]
            if not chosen:
                raise ValueError(f"no service has behaviour {behaviour!r}")
            for name in chosen:
                self.behave(name, target, behaviour, delay_s=delay_s, times=times, **params)
            return
        known = self._known(service)
        if behaviour not in known:
            raise ValueError(f"{service} has no behaviour {behaviour!r} (known: {', '.join(known)})")
        if behaviour == "slow" and delay_s is None:
            delay_s = 1.0
        server = self.servers[service]
        if isinstance(server, DnsServer):
            self._behave_dns(server, target, behaviour, delay_s, times, params)
            return
        unknown = set(params) - known[behaviour]
        if unknown:
            raise ValueError(f"{service} {behaviour!r} takes no {sorted(unknown)} (takes: {sorted(known[behaviour])})")
        assert isinstance(server, HttpServer | WhoisServer)
        server.behaviours.set(target, Behaviour(behaviour, params, delay_s or 0.0, times))

    def _known(self, service: str) -> dict[str, frozenset[str]]:
        server = self.servers.get(service)
        if isinstance(server, DnsServer):
            return {name: frozenset() for name in DNS_BEHAVIOURS}
        if isinstance(server, WhoisServer):
            return whois_server.BEHAVIOURS
        if isinstance(server, HttpServer):
            return http_server.BEHAVIOURS
        raise ValueError(f"unknown service {service!r} (known: {', '.join(self.servers)})")

    @staticmethod
    def _behave_dns(
        server: DnsServer,
        target: str,
        behaviour: str,
        delay_s: float | None,
        times: int | None,
        params: dict[str, Any],
    ) -> None:
        if params or times is not None or (delay_s is not None and behaviour != "slow"):
            raise ValueError("dns behaviours take no parameters but delay_s (for 'slow')")
        rule = DNS_BEHAVIOURS[behaviour]
        target = target.lower().rstrip(".")
        if not rule:
            server.behaviours.pop(target, None)
        else:
            server.behaviours[target] = f"slow:{delay_s}" if rule == "slow" else rule

    def add_records(self, name: str, records: Records) -> None:
        """Serve these DNS records for `name` (zone-file text per type), e.g. hostile TXT."""
        self.dns.zone[name.lower().rstrip(".")] = records

    def add_zone(self, zone: PivotZone) -> None:
        """Serve a pivot zone (pivot_zone.py): its DNS records, and crt.sh's listings of its
        names (nothing for a name it does not list, instead of the fixture's names)."""
        self.dns.zone.update({name.lower(): records for name, records in zone.records.items()})
        crtsh = self.services["crtsh"]
        assert isinstance(crtsh, CrtSh)
        for name in zone.records:
            crtsh.listings.setdefault(name.removeprefix("*."), [])
        for domain in zone.listed:
            crtsh.listings[domain] = zone.crtsh(domain) or []

    def requests(self, service: str | None = None, target: str | None = None) -> list[Request]:
        """Logged HTTP and WHOIS requests, in order (DNS queries: world.dns.queries)."""
        return self.log.filter(service, target)

    def clear(self) -> None:
        """Forget every behaviour and logged request (for reuse, e.g. by benchmarks)."""
        for server in self.servers.values():
            if isinstance(server, DnsServer):
                server.behaviours.clear()
                server.queries.clear()
            elif isinstance(server, HttpServer | WhoisServer):
                server.behaviours.clear()
        self.log.clear()

    def url(self, service: str) -> str:
        """Base URL of an HTTP service; 'host:port' of dns and the WHOIS servers."""
        server = self.servers.get(service)
        if server is None:
            raise ValueError(f"unknown service {service!r} (running: {', '.join(self.servers) or 'none'})")
        return server.url if isinstance(server, HttpServer) else server.address

    # -- the config and the CLI --------------------------------------------

    def config(self, *, keys: bool = False, **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The config as a dict: {"run": {...}, "adapters": {name: {...}}}, each option a
        service declares pointing at that service, rate limits off."""
        adapters: dict[str, dict[str, Any]] = {}
        for service in self.services.values():
            serves = service.serves
            if serves is None:
                continue
            section = adapters.setdefault(serves.adapter, {})
            where = self.url(service.name)
            if serves.form is Form.ADDRESSES:
                section.setdefault(serves.option, []).append(where)
            else:
                section[serves.option] = where + serves.suffix if serves.form is Form.URL else where
            section.update(serves.settings)
        for name, section in adapters.items():
            section["rate_limit"] = "off"
            if keys and name in self.keys:
                section["api_key"] = self.keys[name]
        sections: dict[str, dict[str, Any]] = {"run": {}, "adapters": adapters}
        for name, changes in overrides.items():
            section = sections["run"] if name == "run" else adapters.setdefault(name, {})
            for key, value in changes.items():
                if value is None:
                    section.pop(key, None)
                else:
                    section[key] = value
        return sections

    def write_config(self, path: Path | None = None, *, keys: bool = False, **overrides: dict[str, Any]) -> Path:
        """Write a TOML config pointing every adapter at the world; run_cli uses it.

        `keys=True` adds the world's API keys. Overrides are sections by name ("run",
        "dns", "whois", ...) merged into the defaults; a None value removes a key.
        """
        path = Path(path) if path is not None else self.home / "config.toml"
        sections = self.config(keys=keys, **overrides)
        parts = [toml_table("run", sections["run"])]
        parts += [toml_table(f"adapters.{name}", values) for name, values in sections["adapters"].items()]
        path.write_text("\n".join(parts), "utf-8")
        self.config_path = path
        return path

    def key_env(self) -> dict[str, str]:
        """The world's keys as the environment variables the adapters read (their key_env)."""
        return {env: self.keys[name] for name, env in self._key_vars().items() if name in self.keys}

    def _key_vars(self) -> dict[str, str]:
        """Every installed adapter's key variable, by adapter."""
        return {name: cls.key_env for name, cls in self.registry.adapters.items() if cls.key_env}

    def cli_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The CLI's environment: ours without API keys (*_API_KEY and every adapter's
        key_env), proxies or OSINT_FANOUT_* settings; HOME and XDG_* in `home`; the world's config; then `env`."""
        if self.config_path is None:
            self.write_config()
        key_vars = set(self._key_vars().values())
        base = {k: v for k, v in os.environ.items() if not inherited_setting(k) and k not in key_vars}
        base |= {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "NO_PROXY": "*",
            "no_proxy": "*",
            "OSINT_FANOUT_CONFIG": str(self.config_path),
        }
        return base | (env or {})

    def spawn_cli(self, *args: str, env: dict[str, str] | None = None, stdin: int | None = None) -> subprocess.Popen:
        """Start the installed CLI (for tests that signal it); see run_cli."""
        return subprocess.Popen(
            [*cli_command(), *args],
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.cli_env(env),
            cwd=self.home,
            text=True,
            encoding="utf-8",
            errors="backslashreplace",
        )

    def run_cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0, input: str | None = None
    ) -> CliResult:
        """Run `osint-fanout *args` to the end, as a user or cron would. `timeout` only catches
        a hang (the run is killed, CliTimeout): it is no bound on time (tests/timing.py is)."""
        started = time.monotonic()
        proc = self.spawn_cli(*args, env=env, stdin=None if input is None else subprocess.PIPE)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise CliTimeout(f"osint-fanout {' '.join(args)} still running after {timeout} s\n{err[-2000:]}") from None
        return CliResult(proc.returncode, out, err, time.monotonic() - started)


def served_adapters() -> list[str]:
    """The adapters a default World serves (each has a service in services.py), in order,
    without starting one."""
    return list(dict.fromkeys(s.serves.adapter for s in default_services() if s.serves is not None))
