"""Certificate transparency: the names in a domain's certificates, from crt.sh or Cert Spotter.

crt.sh first (free, complete, often slow or failing); when it fails in any way, including
running past its share of the budget, Cert Spotter's issuances API (unexpired certificates
only; an optional key raises its quota). Every string from upstream is data, nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

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

from .dns_records import add_subdomains

_HOSTNAME = re.compile(r"^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$")


class CtOptions(AdapterOptions):
    crtsh_url: KeylessUrl = Field("https://crt.sh", description="Base URL of crt.sh (never sent the key).")
    certspotter_url: UpstreamUrl = Field(
        "https://api.certspotter.com", description="Base URL of the Cert Spotter API (the fallback)."
    )
    max_certificates: int = Field(
        100, ge=0, le=10_000, description="Most certificates listed in the output, newest first."
    )
    exclude_expired: bool = Field(
        False, description="Ask crt.sh for unexpired certificates only (Cert Spotter lists only those anyway)."
    )
    crtsh_share: float = Field(
        0.6, gt=0, lt=1, description="Share of the call's time crt.sh may take before Cert Spotter is asked."
    )


class _CrtshRow(BaseModel):  # one row of crt.sh's JSON output
    model_config = ConfigDict(extra="ignore")
    id: int | str
    issuer_name: str | None = None
    common_name: str | None = None
    name_value: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    serial_number: str | None = None


class _Issuer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    friendly_name: str | None = None


class _Issuance(BaseModel):  # one Cert Spotter issuance object, expanded with dns_names and issuer
    model_config = ConfigDict(extra="ignore")
    id: str | int
    dns_names: list[str] = Field(default_factory=list)
    issuer: _Issuer | None = None
    not_before: str | None = None
    not_after: str | None = None
    cert_sha256: str | None = None


@dataclass(frozen=True)
class _Cert:
    id: str
    issuer: str | None
    not_before: str | None
    not_after: str | None
    names: list[str]
    serial: str | None = None
    sha256: str | None = None


class CtAdapter(Adapter[CtOptions]):
    name = "ct"
    description = "Subdomains from certificate transparency (crt.sh, Cert Spotter as fallback)"
    kinds = frozenset({TargetKind.DOMAIN})
    key = KeyPolicy.OPTIONAL
    key_env = "CERTSPOTTER_API_KEY"
    default_timeout_s = 30.0
    Options = CtOptions
    rate_limits: ClassVar[dict[str, str]] = {"crtsh": "1/s", "certspotter": "100/h"}

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        domain = target.value

        async def crtsh(part: Context) -> tuple[list[_Cert], str | None]:
            return await self._crtsh(domain, part), None

        async def certspotter(rest: Context, error: AdapterError) -> tuple[list[_Cert], str | None]:
            return await self._certspotter(domain, rest), error.message

        # crt.sh gets a share of the time (its rate-limit waits aside), Cert Spotter the rest
        certs, crtsh_error = await ctx.fallback(
            crtsh, certspotter, share=self.options.crtsh_share, names=("crt.sh", "Cert Spotter")
        )
        if not certs:
            raise NotFound(f"no certificates for {domain}")
        certs.sort(key=lambda cert: cert.not_before or "", reverse=True)  # newest first
        names = sorted({name for cert in certs for name in _in_domain(cert.names, domain)})
        shown = certs[: self.options.max_certificates]
        return {
            "source": "crtsh" if crtsh_error is None else "certspotter",
            "domain": domain,
            "names": names,
            "subdomains": [name for name in names if name != domain],
            "total_certificates": len(certs),
            "truncated": len(shown) < len(certs),
            "certificates": [vars(cert) for cert in shown],
            "crtsh_error": crtsh_error,
        }

    def summarize(self, data: dict[str, Any]) -> str:
        subs, total = len(data.get("subdomains", [])), data.get("total_certificates", 0)
        source = "crt.sh" if data.get("source") == "crtsh" else "Cert Spotter"
        return f"{_plural(subs, 'subdomain')} · {_plural(total, 'certificate')} ({source})"

    async def _crtsh(self, domain: str, ctx: Context) -> list[_Cert]:
        params = {"q": f"%.{domain}", "output": "json"}
        if self.options.exclude_expired:
            params["exclude"] = "expired"
        url = f"{self.options.crtsh_url}/"
        response = await ctx.http.get(url, params=params, upstream="crtsh")
        if response.status == 404:  # crt.sh's answer for no match
            raise NotFound(f"crt.sh knows no certificate for {domain}")
        response.raise_for_status()
        rows = response.json_as(list[_CrtshRow])
        certs: dict[tuple[str, str], _Cert] = {}
        for row in rows:
            names = [*(row.name_value or "").split("\n"), row.common_name or ""]
            cert = _Cert(
                str(row.id), row.issuer_name, row.not_before, row.not_after, _clean(names), row.serial_number
            )
            # A precertificate and its certificate share issuer and serial: count them once.
            key = (row.issuer_name or "", row.serial_number) if row.serial_number else ("id", str(row.id))
            certs.setdefault(key, cert)
        return list(certs.values())

    async def _certspotter(self, domain: str, ctx: Context) -> list[_Cert]:
        params = {"domain": domain, "include_subdomains": "true", "expand": ["dns_names", "issuer"]}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        url = f"{self.options.certspotter_url}/v1/issuances"
        response = await ctx.http.get(url, params=params, headers=headers, upstream="certspotter")
        if response.status == 429 and not self.api_key:
            response.raise_for_status(f"{response.excerpt()} (set {self.key_env} for a larger quota)")
        response.raise_for_status()
        issuances = response.json_as(list[_Issuance])
        return [
            _Cert(
                str(item.id), _issuer(item.issuer), item.not_before, item.not_after, _clean(item.dns_names),
                sha256=item.cert_sha256,
            )
            for item in issuances
        ]

    def facts(self, data: dict[str, Any]) -> Facts | None:
        """Subdomains; the certificates' ids when every one is listed (not `truncated`).
        crt.sh and Cert Spotter number certificates differently: each has its own fact."""
        found: Facts = {"subdomains": frozenset(data.get("subdomains", []))}
        if not data.get("truncated"):
            key = "certificates" if data.get("source") == "crtsh" else "certspotter_certificates"
            found[key] = frozenset(str(cert["id"]) for cert in data.get("certificates", []))
        return found

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """Subdomains (subdomain-of the target), and each listed certificate with the names it
        covers (a wildcard covers its base name). A certificate is its SHA-256 fingerprint when
        the source gives one (Cert Spotter), else issuer and serial (crt.sh), else its log id."""
        found = Findings()
        me = found.add(AssetType.DOMAIN, target.value)
        assert me is not None  # the target is a valid name
        add_subdomains(found, me, data.get("subdomains", []))
        for cert in data.get("certificates", []):
            names = [str(name) for name in cert.get("names", [])]
            ref = found.add(
                AssetType.CERTIFICATE,
                _cert_value(cert, data.get("source")),
                issuer=cert.get("issuer"),
                serial=cert.get("serial"),
                not_before=_rfc3339(cert.get("not_before")),
                not_after=_rfc3339(cert.get("not_after")),
                names=names,
            )
            for name in dict.fromkeys(name.removeprefix("*.") for name in names):
                found.relate(ref, RelationKind.COVERS, found.add(AssetType.DOMAIN, name))
        return found


def _cert_value(cert: dict[str, Any], source: str | None) -> str:
    if cert.get("sha256"):
        return str(cert["sha256"])
    if cert.get("serial"):
        return f"{cert.get('issuer') or ''} serial {cert['serial']}"
    return f"{'crt.sh' if source == 'crtsh' else 'certspotter'} {cert.get('id')}"


def _rfc3339(value: Any) -> str | None:
    """crt.sh's '2024-01-30T00:00:00' (UTC, no zone) as '2024-01-30T00:00:00Z'; others as given."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace(" ", "T")
    return text if text.endswith("Z") or "+" in text[10:] or "-" in text[10:] else f"{text}Z"


def _issuer(issuer: _Issuer | None) -> str | None:
    return (issuer.name or issuer.friendly_name) if issuer else None


def _clean(names: list[str]) -> list[str]:
    """Lowercased, unique, order kept; e-mail addresses and junk dropped, wildcards kept."""
    found: dict[str, None] = {}
    for raw in names:
        name = raw.strip().lower().rstrip(".")
        if _HOSTNAME.match(name.removeprefix("*.")):
            found[name] = None
    return list(found)


def _in_domain(names: list[str], domain: str) -> list[str]:
    """Wildcards reduced to their base; only the domain itself and names inside it."""
    bases = (name.removeprefix("*.") for name in names)
    return [name for name in bases if name == domain or name.endswith(f".{domain}")]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
