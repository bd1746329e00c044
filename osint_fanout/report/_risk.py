"""What makes an asset worth a look, from the attribute conventions of docs/assets.md:
VirusTotal counts on names and addresses, risky open services, certificates near expiry.
A pure function of one asset's type and attrs (and the report's clock)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..assets import AssetType

__all__ = ["EXPIRY_WARNING", "RISKY_PORTS", "Flag", "flags", "severity"]

RISKY_PORTS: dict[int, str] = {
    21: "FTP",
    23: "Telnet",
    69: "TFTP",
    111: "RPC portmapper",
    135: "MS RPC",
    139: "NetBIOS",
    445: "SMB",
    161: "SNMP",
    389: "LDAP",
    1433: "MS SQL",
    1521: "Oracle DB",
    2375: "Docker API (plain)",
    3306: "MySQL",
    3389: "RDP",
    5432: "PostgreSQL",
    5900: "VNC",
    5984: "CouchDB",
    6379: "Redis",
    9200: "Elasticsearch",
    11211: "Memcached",
    27017: "MongoDB",
}
"""Services that should rarely face the internet: remote desktops and shells, file sharing,
databases and caches without a front."""

EXPIRY_WARNING = timedelta(days=30)
"""A certificate whose not_after is this close (or past) is flagged."""

Flag = tuple[str, int, str]
"""(code, severity 1 warning | 2 danger, a sentence for the panel)."""


def flags(kind: AssetType, attrs: Mapping[str, Any], now: datetime) -> list[Flag]:
    """Why this asset matters, most severe first; [] when nothing stands out."""
    found: list[Flag] = []
    malicious, suspicious = _count(attrs.get("malicious")), _count(attrs.get("suspicious"))
    if malicious:
        found.append(("malicious", 2, f"VirusTotal: {malicious} engines say malicious"))
    if suspicious:
        found.append(("suspicious", 1, f"VirusTotal: {suspicious} engines say suspicious"))
    if kind is AssetType.SERVICE:
        port = _count(attrs.get("port"))
        if port in RISKY_PORTS:
            found.append(("risky-service", 2, f"{RISKY_PORTS[port]} (port {port}) open to the internet"))
        cves = attrs.get("cves")
        if isinstance(cves, list) and cves:
            found.append(("cves", 1, f"{len(cves)} known CVEs"))
    if kind is AssetType.CERTIFICATE:
        not_after = _time(attrs.get("not_after"))
        if not_after is not None and not_after <= now:
            found.append(("cert-expired", 2, "certificate expired"))
        elif not_after is not None and not_after - now <= EXPIRY_WARNING:
            found.append(("cert-expiring", 1, f"certificate expires within {EXPIRY_WARNING.days} days"))
    return sorted(found, key=lambda flag: -flag[1])


def severity(found: list[Flag]) -> int:
    return max((level for _, level, _ in found), default=0)


def _count(value: Any) -> int:
    """A non-negative integer from upstream data (bools and junk count as 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        number = int(value)
    except (ValueError, OverflowError):  # "junk", nan, inf
        return 0
    return max(number, 0)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
