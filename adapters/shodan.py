"""Shodan: an IP's open services and vulns, a domain's subdomains and DNS records.

With a key it asks the REST API (https://developer.shodan.io/api): `GET /shodan/host/{ip}`
and `GET /dns/domain/{domain}`, the key in the `key` query parameter. Without one, an IP goes
to the free InternetDB (https://internetdb.shodan.io/{ip}), and a domain is skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from osint_fanout import (
    Adapter,
    AdapterError,
    AdapterOptions,
    Context,
    Facts,
    KeylessUrl,
    KeyPolicy,
    NotFound,
    Target,
    TargetKind,
    UpstreamUrl,
)
from osint_fanout.assets import AssetType, Findings, RelationKind

from .dns_records import add_record, add_subdomains

if TYPE_CHECKING:
    from osint_fanout import HttpResponse

PAID_PLAN = (
    "Shodan refused the key: the host and DNS APIs need a paid plan (membership or higher); "
    "InternetDB answers for IPs without a key (unset SHODAN_API_KEY to use it)"
)


def _listed(value: Any) -> Any:
    """null -> []; a {CVE: details} mapping (as in banners) -> its keys."""
    if value is None:
        return []
    return list(value) if isinstance(value, dict) else value


Strs = Annotated[list[str], BeforeValidator(_listed)]
Ints = Annotated[list[int], BeforeValidator(_listed)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _Banner(_Model):  # one element of a host's "data": one service on one port
    port: int
    transport: str | None = None
    product: str | None = None
    version: str | None = None


class _Host(_Model):  # GET /shodan/host/{ip}
    ip_str: str | None = None
    ports: Ints = []
    data: list[_Banner] = []
    vulns: Strs = []
    hostnames: Strs = []
    domains: Strs = []
    tags: Strs = []
    org: str | None = None
    isp: str | None = None
    asn: str | None = None
    os: str | None = None
    country_code: str | None = None
    country_name: str | None = None
    city: str | None = None
    last_update: str | None = None


class _Record(_Model):  # one element of a domain's "data"
    subdomain: str = ""
    type: str
    value: str
    last_seen: str | None = None


class _Domain(_Model):  # GET /dns/domain/{domain}
    domain: str | None = None
    tags: Strs = []
    subdomains: Strs = []
    data: list[_Record] = []
    more: bool = False


class _InternetDb(_Model):  # GET internetdb.shodan.io/{ip}
    ip: str  # always present in a real answer; without it this is not InternetDB talking
    ports: Ints = []
    cpes: Strs = []
    hostnames: Strs = []
    tags: Strs = []
    vulns: Strs = []


class ShodanOptions(AdapterOptions):
    base_url: UpstreamUrl = Field("https://api.shodan.io", description="Shodan REST API base URL (used with a key).")
    internetdb_url: KeylessUrl = Field(
        "https://internetdb.shodan.io", description="Shodan InternetDB base URL (used for IPs without a key)."
    )


class ShodanAdapter(Adapter[ShodanOptions]):
    name = "shodan"
    description = "Open ports, services and vulns of an IP (InternetDB without a key); a domain's subdomains"
    kinds = frozenset({TargetKind.DOMAIN, TargetKind.IPV4, TargetKind.IPV6})
    key = KeyPolicy.OPTIONAL
    key_env = "SHODAN_API_KEY"
    default_timeout_s = 15.0
    Options = ShodanOptions
    rate_limits: ClassVar[dict[str, str]] = {"api": "1/s", "internetdb": "1/s"}

    def skip_reason(self, target: Target) -> str | None:
        reason = super().skip_reason(target)
        if reason is None and not target.is_ip and not self.api_key:
            reason = f"a domain needs an API key (set {self.key_env} or [adapters.shodan] api_key)"
        return reason

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        key = self.api_key
        path = quote(target.value, safe=":.")
        if not key:  # an IP: skip_reason() skips a domain without a key
            url = f"{self.options.internetdb_url}/{path}"
            answer = _checked(await ctx.http.get(url, upstream="internetdb"), keyed=False)
            return {"source": "internetdb", **answer.json_as(_InternetDb).model_dump()}
        endpoint = "shodan/host" if target.is_ip else "dns/domain"
        url = f"{self.options.base_url}/{endpoint}/{path}"
        answer = _checked(await ctx.http.get(url, params={"key": key}, upstream="api"), keyed=True)
        return _host(answer.json_as(_Host)) if target.is_ip else _domain(answer.json_as(_Domain), target.value)

    def summarize(self, data: dict[str, Any]) -> str:
        if "subdomains" in data:
            text = f"{len(data['subdomains'])} subdomains · {len(data.get('records', []))} records"
            return text + (" (more on Shodan)" if data.get("more") else "")
        ports = [str(port) for port in data.get("ports", [])]
        shown = ", ".join(ports[:8]) + (f" (+{len(ports) - 8})" if len(ports) > 8 else "")
        parts = [f"ports {shown}" if ports else "no open ports"]
        if data.get("vulns"):
            parts.append(f"{len(data['vulns'])} vulns")
        who = data.get("isp") or data.get("org") or next(iter(data.get("hostnames", [])), None)
        return " · ".join(parts + ([str(who)] if who else []))

    def facts(self, data: dict[str, Any]) -> Facts | None:
        """An IP's open ports, vulns and hostnames; a domain's subdomains and its records
        as 'NAME TYPE VALUE'."""
        if "subdomains" in data:
            records = frozenset(f"{r['name']} {r['type']} {r['value']}" for r in data.get("records", []))
            return {"subdomains": frozenset(data["subdomains"]), "records": records}
        ports = frozenset(str(port) for port in data.get("ports", []))
        return {
            "ports": ports,
            "vulns": frozenset(data.get("vulns", [])),
            "hostnames": frozenset(data.get("hostnames", [])),
        }

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """A domain's subdomains and the names, addresses, mail exchangers and name servers of
        its records. An IP's services ('IP:PORT/PROTOCOL', with product and version), its
        hostnames (resolving to it), its AS and holder; the vulns, which Shodan gives for the
        host and not per service, are the address's `cves`."""
        found = Findings()
        if "subdomains" in data:
            me = found.add(AssetType.DOMAIN, target.value)
            assert me is not None
            add_subdomains(found, me, data["subdomains"])
            for record in data.get("records", []):
                name = found.add(AssetType.DOMAIN, str(record.get("name", "")))
                add_record(found, name, str(record.get("type", "")), str(record.get("value", "")))
            return found
        kind = Findings.target_ref(target).type
        me = found.add(kind, target.value, cves=sorted(data.get("vulns", [])) or None)
        services = list(data.get("services") or [])
        described = {service.get("port") for service in services}
        services += [{"port": port} for port in data.get("ports", []) if port not in described]  # no banner
        for service in services:
            protocol = service.get("transport") or "tcp"
            value = f"{target.value}:{service.get('port')}/{protocol}"
            attrs = {"port": service.get("port"), "protocol": protocol}
            attrs |= {"product": service.get("product"), "version": service.get("version")}
            found.relate(me, RelationKind.HAS_SERVICE, found.add(AssetType.SERVICE, value, **attrs))
        for name in data.get("hostnames", []):
            found.relate(found.add(AssetType.DOMAIN, str(name)), RelationKind.RESOLVES_TO, me)
        if data.get("asn"):
            found.relate(me, RelationKind.ANNOUNCED_BY, found.add(AssetType.AS, str(data["asn"])))
        holder = data.get("org") or data.get("isp")
        if holder:
            org = found.add(AssetType.ORGANIZATION, str(holder), role="network holder")
            found.relate(me, RelationKind.HELD_BY, org)
        return found


def _checked(response: HttpResponse, *, keyed: bool) -> HttpResponse:
    """A 2xx answer that is not an error; NotFound or AdapterError otherwise. Shodan's own
    words come in {"error": "..."} (REST API) or {"detail": "..."} (InternetDB)."""
    said = response.error_of()
    detail = said.message if said else None
    if response.status == 404 and detail:  # "No information available for that IP."
        raise NotFound(detail)
    if keyed and response.status in (401, 403):
        why = PAID_PLAN if response.status == 403 else "the API key was rejected"
        raise AdapterError(
            "auth", f"HTTP {response.status} from {response.where}: {why} ({detail or response.excerpt()})"
        )
    response.raise_for_status(detail)
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("error"), str):  # an error sent with 200
        raise AdapterError("http", f"{response.where} answered an error: {body['error']}")
    return response


def _host(host: _Host) -> dict[str, Any]:
    services = sorted(
        ({"port": b.port, "transport": b.transport, "product": b.product, "version": b.version} for b in host.data),
        key=lambda s: (s["port"], s["transport"] or ""),
    )
    ports = sorted(set(host.ports) | {b.port for b in host.data})
    data = {"source": "api", "ip": host.ip_str, "ports": ports, "services": services, "vulns": sorted(set(host.vulns))}
    plain = {"hostnames", "domains", "tags", "org", "isp", "asn", "os", "country_code", "city", "last_update"}
    return data | {"country": host.country_name} | host.model_dump(include=plain)


def _domain(answer: _Domain, domain: str) -> dict[str, Any]:
    def fqdn(label: str) -> str:
        return f"{label}.{domain}" if label else domain

    records = [
        {"name": fqdn(r.subdomain), "type": r.type, "value": r.value, "last_seen": r.last_seen} for r in answer.data
    ]
    if not records and not answer.subdomains:
        raise NotFound(f"Shodan knows no DNS data for {domain}")
    return {
        "source": "api",
        "domain": answer.domain or domain,
        "subdomains": sorted({fqdn(label) for label in answer.subdomains if label}),
        "records": records,
        "tags": answer.tags,
        "more": answer.more,
    }
