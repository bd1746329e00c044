"""The upstreams, in their documented formats (see the README of tests/world for sources).

Each answers for any target by templating the fixture data (templates.py), and declares
what it stands in for (`serves`, declare.py) and how the fault matrix tries it (`matrix`,
faults.py). `@in_world` puts a service in every World; a test adds its own with
`world.add_service(...)`. Services with keys check them against `world.keys`, so tests
may change those.
"""

from __future__ import annotations

import posixpath
from typing import Any, TypeVar

from osint_fanout import TargetKind

from .base import Request
from .cymru import CymruServer, cymru_records
from .declare import DOMAINS, IPS, Form, Serves, Upstream
from .dns_server import DnsServer
from .faults import EMPTY, FOLLOWED, HTTP_FAULTS, HUNG, OK, Fault, Matrix, error
from .http_server import HTML_ERROR, HttpServer, Reply, Service
from .templates import is_ip, render
from .whois_server import WhoisServer
from .zone import zone_records

_REASONS = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}
U = TypeVar("U", bound=type[Upstream])
_CATALOGUE: list[type[Upstream]] = []


def in_world(cls: U) -> U:
    """Class decorator: every World starts this service (in the order they are defined)."""
    _CATALOGUE.append(cls)
    return cls


def default_services() -> list[Upstream]:
    """A fresh instance of every `@in_world` service."""
    return [cls() for cls in _CATALOGUE]


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _after(path: str, *names: str) -> str | None:
    """The rest of the path after the last segment in `names`: /v1/domain/x -> x."""
    parts = _segments(path)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in names and i + 1 < len(parts):
            return "/".join(parts[i + 1 :])
    return None


# -- DNS and port-43 WHOIS ---------------------------------------------------------------


def dns_matrix(kinds: frozenset[TargetKind]) -> Matrix:
    """The faults a DNS server of the world plays, and what each must give (dns, asn)."""
    return Matrix(
        faults={"slow": Fault("slow", {"delay_s": 0.5})}
        | {n: Fault(n) for n in ("hang", "servfail", "refused", "nxdomain")},
        expect={
            "slow": OK,
            "hang": HUNG,
            "servfail": error("servfail"),
            "refused": error("refused"),
            "nxdomain": EMPTY,
        },
        kinds=kinds,
    )


@in_world
class Dns(Upstream):
    """A real DNS server (UDP and TCP) for every test name (zone.py)."""

    name = "dns"
    serves = Serves(
        "dns",
        "nameservers",
        form=Form.ADDRESSES,
        settings={"tcp": False},
        intact=dict.fromkeys(IPS, frozenset({"ok", "empty"})),  # the matrix's IPs have no PTR
    )
    matrix = dns_matrix(DOMAINS)

    def server(self) -> DnsServer:
        return DnsServer(zone={}, fallback=zone_records)


@in_world
class Cymru(Upstream):
    """Team Cymru's IP-to-ASN DNS interface (cymru.py), a DNS server of its own."""

    name = "asn"
    serves = Serves("asn", "nameservers", IPS, form=Form.ADDRESSES, settings={"tcp": False})
    matrix = dns_matrix(IPS)

    def server(self) -> DnsServer:
        return CymruServer(zone={}, fallback=cymru_records)


@in_world
class WhoisRegistry(Upstream):
    """Port 43, a thin registry (Verisign's format): what the whois adapter falls back to."""

    name = "whois"
    serves = Serves("whois", "whois_server", DOMAINS, form=Form.ADDRESS)
    matrix = Matrix(
        faults={
            "slow": Fault("slow", {"delay_s": 0.3}),
            **{name: Fault(name) for name in ("hang", "reset", "garbage", "not_found", "endless")},
        },
        expect={
            "slow": OK,
            "hang": HUNG,
            "reset": error("network"),
            "garbage": error("parse"),
            "not_found": EMPTY,
            "endless": error("too_large"),
        },
        before=("rdap", Fault("server_error", {"status": 500})),  # 500 is not retried: port 43 gets the time
        source={"slow": "whois"},
    )

    def server(self) -> WhoisServer:
        return WhoisServer(self.name, self.world.log, role="registry")


@in_world
class IanaWhois(Upstream):
    """Port 43 like whois.iana.org: refers every TLD to the `whois` service."""

    name = "iana_whois"
    serves = Serves("whois", "iana_whois_server", DOMAINS, form=Form.ADDRESS)
    matrix = Matrix(skip="the world's config names the registry (whois_server): IANA is not asked")

    def server(self) -> WhoisServer:
        return WhoisServer(self.name, self.world.log, role="iana", refer=lambda: self.world.url("whois"))


# -- HTTP ---------------------------------------------------------------------------------


@in_world
class Shodan(Service):
    """REST API: GET /shodan/host/{ip}?key=K and GET /dns/domain/{domain}?key=K."""

    name = "shodan"
    serves = Serves("shodan", "base_url", key=True)

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        parts = _segments(path)
        if len(parts) == 3 and parts[:2] in (["shodan", "host"], ["dns", "domain"]):
            return parts[2]
        return None

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        if request.query.get("key", [""])[0] != self.key:
            return self.error(401, "Please provide a valid API key.")
        fixture = "shodan/host.json" if request.path.startswith("/shodan/") else "shodan/dns_domain.json"
        return Reply(200, render(fixture, request.target or "", replace))

    def not_found(self, target: str) -> Reply:
        return self.error(404, f"No information available for that {'IP' if is_ip(target) else 'domain'}.")

    def unauthorized(self, status: int) -> Reply:
        if status == 403:
            return self.error(403, "Access denied (403 Forbidden)")
        return self.error(status, "Please provide a valid API key.")

    def rate_limited(self) -> Reply:
        return self.error(429, "Request rate limit reached (1/second). Please wait a second before trying again.")

    def wrong_shape(self, target: str) -> Reply:
        if is_ip(target):
            return Reply.json(200, {"ip_str": target, "ports": "22,443", "data": {"port": "ssh"}})
        return Reply.json(200, {"domain": target, "subdomains": "www", "data": {"type": 1}})


@in_world
class InternetDb(Service):
    """Keyless InternetDB: GET /{ip}."""

    name = "internetdb"
    serves = Serves("shodan", "internetdb_url", IPS)
    matrix = Matrix(keys=False, expect=FOLLOWED)  # shodan asks it only without a key

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        parts = _segments(path)
        return parts[0] if len(parts) == 1 else None

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        return Reply(200, render("shodan/internetdb.json", request.target or "", replace))

    def error(self, status: int, message: str) -> Reply:
        return Reply.json(status, {"detail": message})

    def not_found(self, target: str) -> Reply:
        return self.error(404, "No information available")

    def wrong_shape(self, target: str) -> Reply:
        return Reply.json(200, {"ip": target, "ports": "22", "vulns": {"CVE": 1}})


@in_world
class VirusTotal(Service):
    """API v3: GET [/api/v3]/domains/{domain} and /ip_addresses/{ip}, key in x-apikey."""

    name = "virustotal"
    serves = Serves("virustotal", "base_url", suffix="/api/v3", key=True)
    CODES = {
        400: "BadRequestError",
        401: "WrongCredentialsError",
        403: "ForbiddenError",
        404: "NotFoundError",
        429: "QuotaExceededError",
        503: "TransientError",
    }

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        parts = _segments(path.removeprefix("/api/v3"))
        return parts[1] if len(parts) == 2 and parts[0] in ("domains", "ip_addresses") else None

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        key = request.headers.get("x-apikey")
        if not key:
            return self.error(401, "X-Apikey header is missing", "AuthenticationRequiredError")
        if key != self.key:
            return self.error(401, "Wrong API key")
        fixture = "virustotal/ip_address.json" if "/ip_addresses/" in request.path else "virustotal/domain.json"
        return Reply(200, render(fixture, request.target or "", replace))

    def error(self, status: int, message: str, code: str | None = None) -> Reply:
        return Reply.json(status, {"error": {"code": code or self.CODES.get(status, "Error"), "message": message}})

    def not_found(self, target: str) -> Reply:
        kind = "IP address" if is_ip(target) else "Domain"
        return self.error(404, f'{kind} "{target}" not found')

    def unauthorized(self, status: int) -> Reply:
        if status == 403:
            return self.error(403, "You are not allowed to perform the requested operation")
        return self.error(status, "Wrong API key")

    def rate_limited(self) -> Reply:
        return self.error(429, "Quota exceeded")

    def wrong_shape(self, target: str) -> Reply:
        return Reply.json(200, {"data": [{"id": target, "attributes": "none"}]})


@in_world
class CrtSh(Service):
    """crt.sh search: GET /?q=%.{domain}&output=json; errors are HTML or plain text."""

    name = "crtsh"
    serves = Serves("ct", "crtsh_url", DOMAINS)
    matrix = Matrix(  # Cert Spotter absorbs every fault of crt.sh
        expect=dict.fromkeys(HTTP_FAULTS, OK) | {"not-found": EMPTY},
        source={
            name: "certspotter"
            for name in HTTP_FAULTS
            if name not in ("slow", "rate-limit-once", "rate-limit-retry-after", "not-found")
        },
    )

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        if path != "/":
            return None
        return query.get("q", [""])[0].removeprefix("%.").removeprefix("*.") or None

    def __init__(self) -> None:
        super().__init__()
        self.listings: dict[str, list[dict[str, object]]] = {}
        """Entries for a searched domain (world.add_zone), instead of the fixture."""

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        if request.query.get("output") != ["json"]:
            page = f"<!DOCTYPE html><html><head><title>crt.sh | {request.target}</title></head><body></body></html>"
            return Reply(200, page.encode(), "text/html; charset=UTF-8")
        if request.target in self.listings:  # a zone's name: what it lists, else nothing (404 [])
            entries = self.listings[request.target]
            return Reply.json(200, entries) if entries else self.not_found(request.target)
        return Reply(200, render("ct/crtsh.json", request.target or "", replace))

    def error(self, status: int, message: str) -> Reply:
        reason = _REASONS.get(status, "Error")
        return Reply(status, HTML_ERROR.format(status=status, reason=reason).encode(), "text/html; charset=UTF-8")

    def not_found(self, target: str) -> Reply:
        return Reply(404, b"[]")  # crt.sh answers an empty search with 404

    def wrong_shape(self, target: str) -> Reply:
        return Reply.json(200, {"id": 1, "name_value": [target]})


@in_world
class CertSpotter(Service):
    """Cert Spotter v1: GET /v1/issuances?domain=D&...; optional Authorization: Bearer KEY."""

    name = "certspotter"
    serves = Serves("ct", "certspotter_url", DOMAINS, key=True)
    matrix = Matrix(before=("crtsh", Fault("malformed")))  # asked once crt.sh has failed

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        if not path.rstrip("/").endswith("/v1/issuances"):
            return None
        return query.get("domain", [""])[0] or None

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        auth = request.headers.get("authorization")
        if auth is not None and auth != f"Bearer {self.key}":
            return self.error(401, "The API key is invalid")
        return Reply(200, render("ct/certspotter.json", request.target or "", replace))

    def error(self, status: int, message: str) -> Reply:
        code = {401: "unauthorized", 404: "not_found", 429: "rate_limited"}.get(status, "internal_error")
        return Reply.json(status, {"code": code, "message": message})

    def not_found(self, target: str) -> Reply:
        return Reply.json(200, [])  # an unknown domain has no issuances

    def rate_limited(self) -> Reply:
        return self.error(429, "You have exceeded the domain search rate limit. Please try again later.")

    def wrong_shape(self, target: str) -> Reply:
        return Reply.json(200, {"issuances": [{"dns_names": target}]})


@in_world
class Rdap(Service):
    """RDAP (RFC 9083): GET {base}/domain/{name} and {base}/ip/{address}."""

    name = "rdap"
    content_type = "application/rdap+json"
    serves = Serves("whois", "rdap_url")
    matrix = Matrix(  # for a domain, port 43 absorbs what makes RDAP unreachable or broken
        expect=dict.fromkeys(("hang", "reset", "server-error"), OK) | FOLLOWED,  # keyless: redirects followed
        kinds=DOMAINS,
        source={"hang": "whois", "reset": "whois", "server-error": "whois", "slow": "rdap"},
    )

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        return _after(path, "domain", "ip")

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        target = request.target or ""
        fixture = "whois/rdap_ip.json" if is_ip(target.split("/")[0]) else "whois/rdap_domain.json"
        return Reply(200, render(fixture, target, replace), self.content_type)

    def error(self, status: int, message: str) -> Reply:
        data = {
            "rdapConformance": ["rdap_level_0"],
            "errorCode": status,
            "title": _REASONS.get(status, "Error"),
            "description": [message],
        }
        return Reply.json(status, data, self.content_type)

    def not_found(self, target: str) -> Reply:
        return self.error(404, f"The object {target} was not found.")

    def wrong_shape(self, target: str) -> Reply:
        data = {"objectClassName": "domain", "ldhName": 42, "events": "yesterday", "entities": {"fn": target}}
        return Reply.json(200, data, self.content_type)


@in_world
class RdapRedirector(Rdap):
    """Like https://rdap.org: redirects every query to the `rdap` service."""

    name = "rdap_fallback"
    serves = Serves("whois", "rdap_fallback_url")
    matrix = Matrix(skip="asked only for what the bootstrap lacks, and the world's config sets rdap_url")

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        kind = "ip" if is_ip((request.target or "").split("/")[0]) else "domain"
        return Reply(302, b"", "text/plain", {"Location": f"{self.world.url('rdap')}/{kind}/{request.target}"})


@in_world
class Bootstrap(Service):
    """The IANA RDAP bootstrap files (RFC 9224), all pointing at the `rdap` service; the
    TLDs are the world's RDAP_TLDS."""

    name = "bootstrap"
    serves = Serves("whois", "bootstrap_url")
    matrix = Matrix(skip="the world's config sets rdap_url: the bootstrap is not read")
    ENTRIES: dict[str, list[str]] = {
        "ipv4.json": ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
        "ipv6.json": ["2001:db8::/32"],
        "asn.json": ["64496-64511", "65536-65551"],
    }

    @property
    def entries(self) -> dict[str, list[str]]:
        return {**self.ENTRIES, "dns.json": list(self.world.RDAP_TLDS)}

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        name = posixpath.basename(path)
        return name if name in self.entries else None

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        name = request.target or ""
        data: dict[str, Any] = {
            "version": "1.0",
            "publication": "2024-05-01T10:00:00Z",
            "description": f"RDAP bootstrap file for {name.removesuffix('.json')} (loopback world)",
            "services": [[self.entries[name], [f"{self.world.url('rdap')}/"]]],
        }
        return Reply.json(200, data)


class Trap(Service):
    """The host a hostile redirect points to (127.0.0.2): answers anything, so the log
    shows all. Every World has one; it serves no adapter."""

    name = "trap"

    def server(self) -> HttpServer:
        return HttpServer(self, self.world.log, host="127.0.0.2")

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        return path

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        return Reply.json(200, {"trap": True, "path": request.path})
