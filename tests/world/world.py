"""The loopback world: every upstream osint-fanout talks to, on 127.0.0.1, with faults.

with World() as world:
    world.behave("virustotal", "example.com", "rate_limit", retry_after=1, times=1)
    world.write_config(keys=True)
    run = world.run_cli("search", "example.com", "-f", "json")
    assert run.code == 0, run.stderr
    sent = world.requests("virustotal")
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import dns.reversename

from . import http_server, services, whois_server
from .base import WILDCARD, Behaviour, Request, RequestLog
from .dns_server import DnsServer, Records
from .http_server import HttpServer
from .templates import DOMAIN, IP
from .whois_server import WhoisServer

IP6 = "2001:db8::7"
TEST_DOMAINS = ("example.com", "example.net", "example.org", "test", "example")
"""DNS answers for these names and every name under them (a full record set)."""
KEY_ENV = {"shodan": "SHODAN_API_KEY", "virustotal": "VT_API_KEY", "ct": "CERTSPOTTER_API_KEY"}
DNS_BEHAVIOURS = {"normal": "", "slow": "slow", "hang": "drop", "drop": "drop"} | {
    name: name for name in ("servfail", "refused", "nxdomain")
}
HTTP_SERVICES = ("shodan", "internetdb", "virustotal", "crtsh", "certspotter", "rdap", "rdap_fallback", "bootstrap")
WHOIS_SERVICES = ("whois", "iana_whois")
SERVICES = ("dns", *WHOIS_SERVICES, *HTTP_SERVICES, "trap")


class CliResult(NamedTuple):
    code: int
    stdout: str
    stderr: str
    wall_s: float

    def json(self) -> Any:
        return json.loads(self.stdout)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


class CliTimeout(AssertionError):
    """The CLI was still running when run_cli's timeout passed (it was killed)."""


PTR_NAMES = {dns.reversename.from_address(address).to_text(omit_final_dot=True) for address in (IP, IP6)}


def zone_records(name: str) -> Records | None:
    """The DNS records of any test name: a full set for domains, PTR for the test IPs."""
    if name in PTR_NAMES:
        return {"PTR": [f"host.{DOMAIN}."]}
    base = name.removeprefix("_dmarc.")
    if not any(base == suffix or base.endswith("." + suffix) for suffix in TEST_DOMAINS):
        return None
    if base != name:
        return {"TXT": [f'"v=DMARC1; p=reject; rua=mailto:dmarc@{base}"']}
    return {
        "A": [IP],
        "AAAA": [IP6],
        "MX": [f"10 mail.{name}."],
        "NS": [f"ns1.{name}.", f"ns2.{name}."],
        "TXT": ['"v=spf1 ip4:198.51.100.0/24 -all"', '"world-site-verification=0123456789"'],
        "SOA": [f"ns1.{name}. hostmaster.{name}. 2024050101 7200 3600 1209600 3600"],
        "CAA": ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.com"'],
    }


class World:
    """Start with `with World() as world:` (or start()/stop()). `home` (a temp dir by
    default) holds the config and is HOME and XDG_* for the CLI runs."""

    RDAP_TLDS = ("com", "net", "org", "test")
    """TLDs in the bootstrap dns.json; "example" is left out on purpose (no RDAP service)."""

    def __init__(self, home: Path | None = None) -> None:
        self._own_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="osint-world-")) if home is None else Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = RequestLog()
        self.keys = {name: f"world-{name}-key-{os.urandom(6).hex()}" for name in KEY_ENV}
        """Valid keys by adapter (ct's is Cert Spotter's); servers refuse any other."""
        self.config_path: Path | None = None
        self.http: dict[str, HttpServer] = {}
        self.whois: dict[str, WhoisServer] = {}
        self.dns: DnsServer
        self._running: list[Any] = []

    # -- life cycle --------------------------------------------------------

    def start(self) -> World:
        try:
            self.dns = self._run(DnsServer(zone={}, fallback=zone_records))
            trap = self._run(HttpServer(services.Trap(), self.log, host="127.0.0.2"))
            rdap = self._http(services.Rdap(), trap.url)
            for service in (
                services.Shodan(self.keys),
                services.InternetDb(),
                services.VirusTotal(self.keys),
                services.CrtSh(),
                services.CertSpotter(self.keys),
                services.RdapRedirector(rdap.url),
                services.Bootstrap(rdap.url, self.RDAP_TLDS),
            ):
                self._http(service, trap.url)
            self.http["trap"] = trap
            registry = self._run(WhoisServer("whois", self.log, role="registry"))
            iana = self._run(WhoisServer("iana_whois", self.log, role="iana", refer=registry.address))
            self.whois = {"whois": registry, "iana_whois": iana}
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        while self._running:
            self._running.pop().stop()
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, server: Any) -> Any:
        self._running.append(server)
        return server.start()

    def _http(self, service: http_server.Service, trap_url: str) -> HttpServer:
        server = self._run(HttpServer(service, self.log, redirect_to=trap_url))
        self.http[service.name] = server
        return server

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

        `service` "*" means every service that has `behaviour`. `delay_s` delays any
        behaviour ("slow" is "normal" after `delay_s`, default 1 s); `times` limits it to
        that many requests, then the service is normal again (not for dns).
        """
        if service == WILDCARD:
            chosen = [name for name in SERVICES[:-1] if behaviour in self._known(name)]
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
        if service == "dns":
            self._behave_dns(target, behaviour, delay_s, times, params)
            return
        unknown = set(params) - known[behaviour]
        if unknown:
            raise ValueError(f"{service} {behaviour!r} takes no {sorted(unknown)} (takes: {sorted(known[behaviour])})")
        server = self.whois.get(service) or self.http[service]
        server.behaviours.set(target, Behaviour(behaviour, params, delay_s or 0.0, times))

    def _known(self, service: str) -> dict[str, frozenset[str]]:
        if service == "dns":
            return {name: frozenset() for name in DNS_BEHAVIOURS}
        if service in WHOIS_SERVICES:
            return whois_server.BEHAVIOURS
        if service in (*HTTP_SERVICES, "trap"):
            return http_server.BEHAVIOURS
        raise ValueError(f"unknown service {service!r} (known: {', '.join(SERVICES)})")

    def _behave_dns(
        self, target: str, behaviour: str, delay_s: float | None, times: int | None, params: dict[str, Any]
    ) -> None:
        if params or times is not None or (delay_s is not None and behaviour != "slow"):
            raise ValueError("dns behaviours take no parameters but delay_s (for 'slow')")
        rule = DNS_BEHAVIOURS[behaviour]
        target = target.lower().rstrip(".")
        if not rule:
            self.dns.behaviours.pop(target, None)
        else:
            self.dns.behaviours[target] = f"slow:{delay_s}" if rule == "slow" else rule

    def add_records(self, name: str, records: Records) -> None:
        """Serve these DNS records for `name` (zone-file text per type), e.g. hostile TXT."""
        self.dns.zone[name.lower().rstrip(".")] = records

    def requests(self, service: str | None = None, target: str | None = None) -> list[Request]:
        """Logged HTTP and WHOIS requests, in order (DNS queries: world.dns.queries)."""
        return self.log.filter(service, target)

    def clear(self) -> None:
        """Forget every behaviour and logged request (for reuse, e.g. by benchmarks)."""
        for server in [*self.http.values(), *self.whois.values()]:
            server.behaviours.clear()
        self.dns.behaviours.clear()
        self.dns.queries.clear()
        self.log.clear()

    def url(self, service: str) -> str:
        """Base URL of an HTTP service; 'host:port' of dns and the WHOIS servers."""
        if service == "dns":
            return self.dns.address
        if service in self.whois:
            return self.whois[service].address
        return self.http[service].url

    # -- the config and the CLI --------------------------------------------

    def config(self, *, keys: bool = False, **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The config as a dict: {"run": {...}, "adapters": {name: {...}}}."""
        url = self.url
        adapters: dict[str, dict[str, Any]] = {
            "dns": {"nameservers": [url("dns")], "tcp": False},
            "whois": {
                "rdap_url": url("rdap"),
                "rdap_fallback_url": url("rdap_fallback"),
                "bootstrap_url": url("bootstrap"),
                "whois_server": url("whois"),
                "iana_whois_server": url("iana_whois"),
            },
            "ct": {"crtsh_url": url("crtsh"), "certspotter_url": url("certspotter")},
            "shodan": {"base_url": url("shodan"), "internetdb_url": url("internetdb")},
            "virustotal": {"base_url": f"{url('virustotal')}/api/v3"},
        }
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
        parts = [_toml_table("run", sections["run"])]
        parts += [_toml_table(f"adapters.{name}", values) for name, values in sections["adapters"].items()]
        path.write_text("\n".join(parts), "utf-8")
        self.config_path = path
        return path

    def key_env(self) -> dict[str, str]:
        """The world's keys as the environment variables the adapters read."""
        return {KEY_ENV[name]: key for name, key in self.keys.items()}

    def cli_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The CLI's environment: ours without API keys, proxies or OSINT_FANOUT_*
        settings; HOME and XDG_* in `home`; the world's config; then `env`."""
        if self.config_path is None:
            self.write_config()
        base = {k: v for k, v in os.environ.items() if not _inherited_setting(k)}
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
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 30.0, input: str | None = None
    ) -> CliResult:
        """Run `osint-fanout *args` to the end, as a user or cron would."""
        started = time.monotonic()
        proc = self.spawn_cli(*args, env=env, stdin=None if input is None else subprocess.PIPE)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise CliTimeout(f"osint-fanout {' '.join(args)} still running after {timeout} s\n{err[-2000:]}") from None
        return CliResult(proc.returncode, out, err, time.monotonic() - started)


def cli_command() -> list[str]:
    """The installed console script: next to this Python first, then on PATH."""
    beside = Path(sys.executable).with_name("osint-fanout")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("osint-fanout")
    return [found] if found else [sys.executable, "-m", "osint_fanout"]


def _inherited_setting(name: str) -> bool:
    upper = name.upper()
    return upper.endswith(("_API_KEY", "_PROXY")) or upper.startswith("OSINT_FANOUT_") or upper == "ALL_PROXY"


def _toml_table(name: str, values: dict[str, Any]) -> str:
    lines = [f"[{name}]"] + [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):  # a TOML basic string: JSON's escapes, plus DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
