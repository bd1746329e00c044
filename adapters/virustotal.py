"""VirusTotal API v3: what the engines think of a domain or an IP address.

`GET {base_url}/domains/{domain}` or `GET {base_url}/ip_addresses/{ip}`, the key in the
`x-apikey` header (https://docs.virustotal.com/reference/domain-info, .../ip-info). Errors
come as {"error": {"code": ..., "message": ...}} (https://docs.virustotal.com/reference/errors).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from osint_fanout import (
    Adapter,
    AdapterError,
    AdapterOptions,
    Context,
    Facts,
    KeyPolicy,
    NotFound,
    Target,
    TargetKind,
    UpstreamUrl,
)
from osint_fanout.assets import AssetType, Findings, RelationKind

from .dns_records import add_record

if TYPE_CHECKING:
    from osint_fanout import HttpResponse

AUTH_CODES = frozenset({"WrongCredentialsError", "AuthenticationRequiredError", "ForbiddenError", "UserNotActiveError"})
RATE_CODES = frozenset({"QuotaExceededError", "TooManyRequestsError"})
STATS = ("malicious", "suspicious", "harmless", "undetected", "timeout")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _DnsRecord(_Model):
    type: str
    value: str
    ttl: int | None = None
    priority: int | None = None


class _Attributes(_Model):  # the domain and IP address objects share this part
    last_analysis_stats: dict[str, int] = {}
    last_analysis_date: int | None = None
    reputation: int = 0
    categories: dict[str, str] = {}
    tags: list[str] = []
    # domains
    registrar: str | None = None
    creation_date: int | None = None
    last_dns_records: list[_DnsRecord] = []
    # IP addresses
    as_owner: str | None = None
    asn: int | None = None
    country: str | None = None
    network: str | None = None


class _Object(_Model):
    id: str
    type: str
    attributes: _Attributes


class _Answer(_Model):
    data: _Object


class VirusTotalOptions(AdapterOptions):
    base_url: UpstreamUrl = Field("https://www.virustotal.com/api/v3", description="VirusTotal API v3 base URL.")


class VirusTotalAdapter(Adapter[VirusTotalOptions]):
    name = "virustotal"
    description = "VirusTotal verdicts (engines flagging it, reputation, categories) for a domain or an IP"
    kinds = frozenset({TargetKind.DOMAIN, TargetKind.IPV4, TargetKind.IPV6})
    key = KeyPolicy.REQUIRED
    key_env = "VT_API_KEY"
    default_timeout_s = 15.0
    Options = VirusTotalOptions
    rate_limits: ClassVar[dict[str, str]] = {"api": "4/m"}  # the public API: 4 a minute,
    quotas: ClassVar[dict[str, str]] = {"api": "500/d"}  # and 500 a day (15.5 K a month: 500 x 31)

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        key = self.api_key  # there is one: skip_reason() skips the adapter without
        collection = "ip_addresses" if target.is_ip else "domains"
        url = f"{self.options.base_url}/{collection}/{quote(target.value, safe=':.')}"
        response = await ctx.http.get(url, headers={"x-apikey": key}, upstream="api")
        _raise_for_error(response)
        return _data(response.json_as(_Answer).data, is_ip=target.is_ip)

    @classmethod
    def key_exhausted(cls, response: HttpResponse) -> bool:
        """QuotaExceededError: one of the key's quotas (minute, day, month) is used up. With
        the rate limit kept, that is the day's or the month's: the key is set aside."""
        said = response.error_of()
        return response.status == 429 and said is not None and said.code == "QuotaExceededError"

    def summarize(self, data: dict[str, Any]) -> str:
        stats = data.get("last_analysis_stats", {})
        verdict = f"{stats.get('malicious', 0)} malicious"
        if stats.get("suspicious"):
            verdict += f", {stats['suspicious']} suspicious"
        parts = [f"{verdict} / {data.get('engines', 0)}", f"reputation {data.get('reputation', 0)}"]
        if data.get("as_owner"):
            parts.append(str(data["as_owner"]))
        elif data.get("registrar"):
            parts.append(f"registrar {data['registrar']}")
        return " · ".join(parts)

    def facts(self, data: dict[str, Any]) -> Facts | None:
        """How many engines say malicious and suspicious; the categories, as 'ENGINE: CATEGORY'."""
        stats = data.get("last_analysis_stats", {})
        categories = frozenset(f"{engine}: {name}" for engine, name in data.get("categories", {}).items())
        return {
            "malicious": stats.get("malicious", 0),
            "suspicious": stats.get("suspicious", 0),
            "categories": categories,
        }

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """The target with its verdict (`malicious`, `suspicious`, `reputation`); a domain's
        registrar and last DNS records; an address's network and AS (with its owner)."""
        found = Findings()
        stats = data.get("last_analysis_stats", {})
        verdict = {"malicious": stats.get("malicious"), "suspicious": stats.get("suspicious")}
        kind = Findings.target_ref(target).type
        me = found.add(kind, target.value, **verdict, reputation=data.get("reputation"))
        if target.is_ip:
            asn = found.add(AssetType.AS, str(data["asn"]), name=data.get("as_owner")) if data.get("asn") else None
            network = found.add(AssetType.NETBLOCK, str(data["network"])) if data.get("network") else None
            found.relate(me, RelationKind.IN_NETBLOCK, network)
            found.relate(network or me, RelationKind.ANNOUNCED_BY, asn)
            return found
        if data.get("registrar"):
            registrar = found.add(AssetType.ORGANIZATION, str(data["registrar"]), role="registrar")
            found.relate(me, RelationKind.REGISTERED_WITH, registrar)
        for record in data.get("last_dns_records", []):
            add_record(found, me, str(record.get("type", "")), str(record.get("value", "")))
        return found


def _raise_for_error(response: HttpResponse) -> None:
    """Map VirusTotal's error object (or a bare status) to NotFound or AdapterError."""
    if response.status < 300:
        return
    said = response.error_of()  # {"error": {"code": "NotFoundError", "message": "..."}}
    code, detail = (said.code, str(said)) if said else (None, None)
    if code == "NotFoundError":
        raise NotFound(detail)
    if code in AUTH_CODES:
        raise AdapterError("auth", f"HTTP {response.status} from {response.where}: {detail}")
    if code in RATE_CODES:
        raise AdapterError("rate_limited", f"HTTP {response.status} from {response.where}: {detail}")
    response.raise_for_status(detail)


def _data(obj: _Object, *, is_ip: bool) -> dict[str, Any]:
    a = obj.attributes
    stats = {name: a.last_analysis_stats.get(name, 0) for name in STATS}
    data: dict[str, Any] = {
        "id": obj.id,
        "type": obj.type,
        "last_analysis_stats": stats,
        "engines": sum(stats.values()),
        "last_analysis_date": _iso(a.last_analysis_date, date_only=False),
        "reputation": a.reputation,
        "categories": a.categories,
        "tags": a.tags,
    }
    if is_ip:
        data |= {"as_owner": a.as_owner, "asn": a.asn, "country": a.country, "network": a.network}
    else:
        records = [record.model_dump(exclude_none=True) for record in a.last_dns_records]
        data |= {"registrar": a.registrar, "creation_date": _iso(a.creation_date), "last_dns_records": records}
    return data


def _iso(epoch: int | None, *, date_only: bool = True) -> str | None:
    """UTC epoch seconds -> '1995-08-14' (or a full ISO time); None when absent or absurd."""
    if not epoch:
        return None
    try:
        moment = datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.date().isoformat() if date_only else moment.isoformat()
