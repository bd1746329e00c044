"""Registration data of a domain or an IP network: RDAP first (RFC 9083), its server found
through the IANA bootstrap (RFC 9224); port-43 WHOIS (RFC 3912) for registries without RDAP."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from platformdirs import user_cache_path
from pydantic import Field, ValidationInfo, field_validator

from osint_fanout import Adapter, AdapterError, AdapterOptions, Context, NotFound, Skip, Target, TargetKind

if TYPE_CHECKING:
    from osint_fanout import HttpResponse

log = logging.getLogger("osint_fanout.adapters.whois")

BOOTSTRAP_FILES = ("dns", "ipv4", "ipv6")
BOOTSTRAP_MAX_AGE_S = 30 * 86400.0
REFRESH_RETRY_S = 86400.0  # after a failed refresh, leave data.iana.org alone for a day
REFRESH_MAX_S = 3.0  # a refresh gets at most this, and at most a fifth of the call's time
WHOIS_MAX_BYTES = 1024 * 1024
RDAP_HEADERS = {"Accept": "application/rdap+json"}  # RFC 7480 section 4.2
_LISTS = ("entities", "events", "status", "nameservers", "cidr0_cidrs")  # RFC 9083 arrays we read
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_REFERRAL = re.compile(r"(?im)^(?:refer|whois):[ \t]*(\S+)[ \t\r]*$")
# python-whois recognises "not found" only for the TLDs it has a parser of its own for.
_NOT_FOUND = re.compile(
    r"(?im)^\s*(no match|not found|no (data|entries|object) found|domain not found|status:\s*free\b)"
)


def hostport(text: str) -> tuple[str, int] | None:
    """'whois.iana.org' -> ('whois.iana.org', 43); 'whois.test:4343' -> ('whois.test', 4343); else None."""
    host, _, port = text.strip().partition(":")
    port = port or "43"
    return (host.lower(), int(port)) if _HOST.match(host) and port.isdigit() and 0 < int(port) < 65536 else None


class WhoisOptions(AdapterOptions):
    rdap_url: str | None = Field(None, description="Send every RDAP query here: {rdap_url}/domain/NAME, /ip/ADDR.")
    rdap_fallback_url: str = Field("https://rdap.org", description="RDAP redirector for what the bootstrap lacks.")
    bootstrap_url: str = Field("https://data.iana.org/rdap", description="Source of fresh IANA bootstrap files.")
    whois_server: str | None = Field(None, description="Port-43 server 'host[:port]'; default: IANA's referral.")
    iana_whois_server: str = Field("whois.iana.org:43", description="Port-43 server that refers a TLD to its own.")

    @field_validator("rdap_url", "rdap_fallback_url", "bootstrap_url", "whois_server", "iana_whois_server")
    @classmethod
    def _check(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and str(info.field_name).endswith("server"):
            if hostport(value) is None:
                raise ValueError(f"{value!r} is not 'host' or 'host:port'")
        elif value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


@dataclass(frozen=True)
class Bootstrap:
    """Which RDAP server answers for a name or an address (RFC 9224)."""

    domains: dict[str, str]  # label suffix -> base URL
    networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]  # longest prefix first
    as_of: float  # when this data was fresh (epoch seconds)

    @classmethod
    def parse(cls, docs: dict[str, Any], as_of: float) -> Bootstrap:
        domains = {entry.lower().strip("."): url for entry, url in _services(docs["dns"])}
        # A malformed prefix is a ValueError: the whole file is rejected, and the old copy kept.
        networks = [(ipaddress.ip_network(e, strict=False), u) for n in ("ipv4", "ipv6") for e, u in _services(docs[n])]
        if not domains or not networks:
            raise ValueError("a bootstrap file has no services")
        return cls(domains, sorted(networks, key=lambda pair: pair[0].prefixlen, reverse=True), as_of)

    def for_domain(self, name: str) -> str | None:  # the longest matching label suffix
        labels = name.lower().split(".")
        return next((self.domains[s] for i in range(len(labels)) if (s := ".".join(labels[i:])) in self.domains), None)

    def for_ip(self, address: str) -> str | None:  # the longest matching prefix
        ip = ipaddress.ip_address(address)
        return next((url for network, url in self.networks if ip in network), None)


def _services(doc: Any) -> list[tuple[str, str]]:
    """(entry, base URL) pairs of one bootstrap file; an https URL when a service has one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise ValueError("not an RFC 9224 bootstrap file")
    pairs = []
    for service in doc["services"]:
        if isinstance(service, list) and len(service) >= 2 and isinstance(service[0], list):
            urls = [url for url in _list(service[1]) if isinstance(url, str) and url.startswith(("https:", "http:"))]
            url = next((u for u in urls if u.startswith("https:")), urls[0] if urls else None)
            pairs += [(entry, url) for entry in service[0] if isinstance(entry, str) and url]
    return pairs


# The bootstrap in use, and this process's one attempt to refresh it.
_bootstrap: Bootstrap | None = None
_refresh_task: asyncio.Task[None] | None = None


def _cache_dir() -> Path:
    return user_cache_path("osint-fanout") / "rdap-bootstrap"


def _load() -> Bootstrap:
    """The user cache's copy when it is readable, else the snapshot shipped in the package."""
    global _bootstrap
    if _bootstrap is None:
        folder = _cache_dir()
        try:
            docs = {name: json.loads((folder / f"{name}.json").read_bytes()) for name in BOOTSTRAP_FILES}
            _bootstrap = Bootstrap.parse(docs, min((folder / f"{n}.json").stat().st_mtime for n in BOOTSTRAP_FILES))
        except (OSError, ValueError) as exc:
            log.debug("no usable RDAP bootstrap in %s (%s); using the snapshot", folder, exc)
            data = resources.files(__package__) / "data"
            docs = {name: json.loads((data / f"{name}.json").read_bytes()) for name in BOOTSTRAP_FILES}
            published = max(datetime.fromisoformat(doc["publication"]).timestamp() for doc in docs.values())
            _bootstrap = Bootstrap.parse(docs, published)
    return _bootstrap


async def _current(ctx: Context, base_url: str) -> Bootstrap:
    """The bootstrap to use. When ours is over 30 days old, the process's first call starts one
    refresh and every call waits for it, each for at most a slice of its own time."""
    global _refresh_task
    if _refresh_task is None and time.time() - _load().as_of >= BOOTSTRAP_MAX_AGE_S:
        _refresh_task = asyncio.ensure_future(_refresh(ctx, base_url))
    if _refresh_task is not None and not _refresh_task.done():
        await asyncio.wait({_refresh_task}, timeout=min(REFRESH_MAX_S, ctx.time_left() / 5))
    return _load()


async def _refresh(ctx: Context, base_url: str) -> None:
    """Fetch fresh bootstrap files into the user cache. Any problem keeps the current copy (and
    holds further attempts off for a day): the run never fails over it."""
    global _bootstrap
    folder = _cache_dir()
    stamp = folder / "refresh-failed"
    if stamp.exists() and time.time() - stamp.stat().st_mtime < REFRESH_RETRY_S:
        return
    try:
        slice_s, url = min(REFRESH_MAX_S, ctx.time_left() / 5), base_url.rstrip("/")
        gets = [ctx.http.get(f"{url}/{name}.json", upstream="bootstrap", timeout_s=slice_s) for name in BOOTSTRAP_FILES]
        answers = dict(zip(BOOTSTRAP_FILES, await asyncio.gather(*gets), strict=True))
        for answer in answers.values():
            answer.raise_for_status()
        _bootstrap = Bootstrap.parse({name: answer.json() for name, answer in answers.items()}, time.time())
        folder.mkdir(parents=True, exist_ok=True)
        for name, answer in answers.items():  # each file whole or not at all
            (folder / f"{name}.json.tmp").write_bytes(answer.body)
            os.replace(folder / f"{name}.json.tmp", folder / f"{name}.json")
        stamp.unlink(missing_ok=True)
        log.debug("RDAP bootstrap refreshed from %s into %s", url, folder)
    except Exception as exc:  # whatever it is, the snapshot or the cache still works
        log.debug("RDAP bootstrap refresh failed, keeping the current copy: %r", exc)
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            stamp.touch()


class WhoisAdapter(Adapter[WhoisOptions]):
    name = "whois"
    description = "Registration data of a domain (registrar, dates, status, name servers) or IP network, via RDAP"
    kinds = frozenset({TargetKind.DOMAIN, TargetKind.IPV4, TargetKind.IPV6})
    default_timeout_s = 15.0
    Options = WhoisOptions

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        base = self.options.rdap_url
        if base is None:
            bootstrap = await _current(ctx, self.options.bootstrap_url)
            base = bootstrap.for_ip(target.value) if target.is_ip else bootstrap.for_domain(target.value)
        fallback = base is None  # the bootstrap lists no server for it: ask the redirector
        kind = "ip" if target.is_ip else "domain"
        url = f"{(base or self.options.rdap_fallback_url).rstrip('/')}/{kind}/{target.value}"
        if target.is_ip:  # every RIR runs RDAP, and python-whois has no parser for their answers
            answer = await ctx.http.get(url, headers=RDAP_HEADERS, upstream="rdap")
            if answer.status == 404:
                raise NotFound(f"{answer.where}: no such network")
            answer.raise_for_status()
            return _rdap_data(answer, network=True)
        try:  # RDAP gets a share of the time; the rest is kept for port 43
            answer = await ctx.http.get(url, headers=RDAP_HEADERS, upstream="rdap", timeout_s=ctx.time_left() * 0.6)
        except AdapterError as exc:
            if exc.type not in ("network", "timeout"):
                raise
            return await self._port43(target.value, ctx, exc)
        if answer.status == 404 and fallback and answer.host == urlsplit(url).hostname:
            return await self._port43(target.value, ctx, None)  # the redirector knows no RDAP server
        if answer.status == 404:
            raise NotFound(f"{answer.where}: no such domain")
        if answer.status >= 500:
            error = AdapterError("http", f"HTTP {answer.status} from {answer.where}: {answer.excerpt()}")
            return await self._port43(target.value, ctx, error)
        answer.raise_for_status()
        return _rdap_data(answer, network=False)

    def summarize(self, data: dict[str, Any]) -> str:
        if "range" in data:  # an IP network
            head = " ".join(str(part) for part in (data.get("handle") or data.get("name"), data.get("range")) if part)
            parts = [head, data.get("country"), data.get("registrant")]
        else:
            parts = [f"registrar {data['registrar']}" if data.get("registrar") else None]
            parts += [f"{key} {str(data[key])[:10]}" for key in ("created", "expires") if data.get(key)]
            parts.append("via port 43" if data.get("source") == "whois" else None)
        return " · ".join(str(part) for part in parts if part) or "no registration data"

    async def _port43(self, name: str, ctx: Context, rdap_error: AdapterError | None) -> dict[str, Any]:
        """Port-43 WHOIS: the server IANA refers the TLD to (or `whois_server`), read by python-whois."""
        limit = self.options.max_body_bytes or min(ctx.max_body_bytes, WHOIS_MAX_BYTES)
        tld = name.rsplit(".", 1)[-1]
        try:
            found = hostport(self.options.whois_server) if self.options.whois_server else None
            if found is None:  # ask IANA; its answer is untrusted: only a plain host[:port] is followed
                iana = hostport(self.options.iana_whois_server)
                assert iana is not None  # checked with the options
                referral = await _ask(*iana, tld, ctx, limit)
                found = next((hp for m in _REFERRAL.finditer(referral) if (hp := hostport(m.group(1)))), None)
                if found is None and "returned 0 objects" in referral:
                    raise NotFound(f".{tld} is not a top-level domain")
                if found is None:
                    raise rdap_error or Skip(f"no RDAP or WHOIS service for .{tld}")
            host, port = found
            data = _whois_data(name, await _ask(host, port, name, ctx, limit), f"{host}:{port}")
        except AdapterError as exc:
            if rdap_error is None or exc is rdap_error:
                raise
            raise AdapterError(exc.type, f"{exc.message} (after RDAP failed: {rdap_error.message})") from None
        return {**data, "rdap_error": rdap_error.message} if rdap_error else data


async def _ask(host: str, port: int, query: str, ctx: Context, limit: int) -> str:
    """One port-43 exchange: send the query, read until the server closes (RFC 3912)."""
    wait_s = max(0.0, ctx.time_left() - 0.1)  # give up just before the core's own timeout, saying why
    raw = bytearray()
    try:
        async with asyncio.timeout(wait_s):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(query.encode("ascii") + b"\r\n")
                await writer.drain()
                while chunk := await reader.read(65536):
                    raw += chunk
                    if len(raw) > limit:
                        raise AdapterError("too_large", f"{host}:{port} sent more than {limit} bytes")
            finally:
                writer.close()
    except TimeoutError:  # before OSError, which it is a subclass of
        raise TimeoutError(f"{host}:{port} did not answer within {wait_s:.1f} s") from None
    except OSError as exc:
        raise AdapterError("network", f"{host}:{port}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # some registries still answer in a legacy 8-bit charset


def _whois_data(name: str, text: str, server: str) -> dict[str, Any]:
    import whois.parser  # slow to import, and only the fallback needs it
    from whois.exceptions import PywhoisError, WhoisDomainNotFoundError

    try:
        if _NOT_FOUND.search(text):
            raise WhoisDomainNotFoundError(server)
        entry = whois.parser.WhoisEntry.load(name, text)
    except WhoisDomainNotFoundError:
        raise NotFound(f"{server}: no such domain") from None
    except (PywhoisError, ValueError, TypeError) as exc:
        raise AdapterError("parse", f"{server}: python-whois could not parse the answer: {exc}") from None
    values = {key: [v for v in (raw if isinstance(raw, list) else [raw]) if v] for key, raw in entry.items()}
    first = {key: (v[0].isoformat() if isinstance(v[0], datetime) else v[0]) for key, v in values.items() if v}
    # Two lines python-whois's generic parser skips, though RDAP answers carry both.
    iana_id = re.search(r"Registrar IANA ID:[ \t]*(\d+)", text)
    abuse = re.search(r"Registrar Abuse Contact Email:[ \t]*(\S+@\S+)", text)
    dnssec = str(first.get("dnssec", "")).lower()
    data = {
        "source": "whois",
        "server": server,
        "name": name,
        "registrar": first.get("registrar"),
        "registrar_iana_id": iana_id and iana_id.group(1),
        "created": first.get("creation_date"),
        "expires": first.get("expiration_date"),
        "updated": first.get("updated_date"),
        # EPP's "clientTransferProhibited https://..." as RDAP's "client transfer prohibited" (RFC 8056)
        "status": sorted(
            {re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(s).split()[0]).lower() for s in values.get("status", [])}
        ),
        "nameservers": sorted({str(ns).lower().rstrip(".") for ns in values.get("name_servers", [])}),
        "dnssec": dnssec.startswith(("signed", "yes")) if dnssec else None,
        "abuse_email": abuse and abuse.group(1),
    }
    if not any(data[key] for key in ("registrar", "created", "expires", "status", "nameservers")):
        raise AdapterError("parse", f"{server} answered, but nothing in it could be read: {text.strip()[:80]!r}")
    return data


def _rdap_data(answer: HttpResponse, network: bool) -> dict[str, Any]:
    """What an RDAP domain or "ip network" object (RFC 9083 sections 5.3, 5.4) says."""
    doc = answer.json()
    object_class, key = ("ip network", "startAddress") if network else ("domain", "ldhName")
    ok = isinstance(doc, dict) and (doc.get("objectClassName") == object_class or key in doc)
    if not ok or not isinstance(doc.get(key, ""), str) or any(not isinstance(doc.get(m, []), list) for m in _LISTS):
        raise AdapterError("parse", f"{answer.where} did not answer an RDAP {object_class} object")
    actions = [(_get(e, "eventAction"), _get(e, "eventDate")) for e in reversed(doc.get("events", []))]
    events = {action: date for action, date in actions if isinstance(action, str)}  # the first of each wins
    common = {
        "source": "rdap",
        "server": answer.where.split("/", 1)[0],
        "handle": doc.get("handle"),
        "status": [status for status in doc.get("status", []) if isinstance(status, str)],
        "created": events.get("registration"),
        "updated": events.get("last changed"),
    }
    if network:
        owner = _role(doc, "registrant") or {}
        start, end = doc.get("startAddress"), doc.get("endAddress")
        cidrs = [(_get(c, "v4prefix") or _get(c, "v6prefix"), _get(c, "length")) for c in doc.get("cidr0_cidrs", [])]
        return common | {
            "name": doc.get("name"),
            "type": doc.get("type"),
            "range": f"{start} - {end}" if start and end else None,
            "cidrs": [f"{prefix}/{length}" for prefix, length in cidrs if prefix and length is not None],
            "country": doc.get("country"),
            "registrant": _vcard(owner, "fn") or _vcard(owner, "org") or owner.get("handle"),
            "abuse_email": _vcard(_role(doc, "abuse") or {}, "email"),
        }
    registrar = _role(doc, "registrar") or {}
    ids = [_get(p, "identifier") for p in _list(registrar.get("publicIds")) if _get(p, "type") == "IANA Registrar ID"]
    nameservers = [_get(ns, "ldhName") for ns in doc.get("nameservers", [])]
    return common | {
        "name": str(doc.get("ldhName") or "").lower() or None,
        "registrar": _vcard(registrar, "fn"),
        "registrar_iana_id": ids[0] if ids else None,
        "expires": events.get("expiration"),
        "nameservers": sorted({ns.lower().rstrip(".") for ns in nameservers if isinstance(ns, str)}),
        "dnssec": _get(doc.get("secureDNS"), "delegationSigned"),
        "abuse_email": _vcard(_role(registrar, "abuse") or _role(doc, "abuse") or {}, "email"),
        "registrant": _vcard(_role(doc, "registrant") or {}, "fn"),
    }


def _role(obj: dict[str, Any], role: str, depth: int = 0) -> dict[str, Any] | None:
    """The first entity with `role`, nested ones included (abuse sits inside registrar)."""
    for entity in _list(obj.get("entities")) if depth < 8 else []:
        if isinstance(entity, dict):
            if role in _list(entity.get("roles")):
                return entity
            if found := _role(entity, role, depth + 1):
                return found
    return None


def _vcard(entity: dict[str, Any], prop: str) -> str | None:
    """A property of a jCard (RFC 7095): ["vcard", [["fn", {}, "text", "Example"], ...]]."""
    card = _list(entity.get("vcardArray"))
    for item in _list(card[1]) if len(card) > 1 else []:
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop:
            value = " ".join(str(part) for part in item[3] if part) if isinstance(item[3], list) else item[3]
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None
