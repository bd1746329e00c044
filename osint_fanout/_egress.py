"""Where an upstream may send us: no deeper inward than the upstream the user configured.

An address that an upstream supplies (a redirect, a WHOIS referral, a bootstrap entry) is
hostile: it could point the tool at the user's own network (a metadata service, a Redis on
loopback) and have its answer echoed back. So such an address is refused when it is more
internal than where it came from (public < private < link-local < loopback) or when it
trades https for http. Host names are judged by their form, not resolved: "localhost" and
single-label or site-local names are internal, every other name is public.
"""

from __future__ import annotations

import ipaddress
from enum import IntEnum
from urllib.parse import urlsplit

__all__ = ["Zone", "inward_reason", "is_loopback_host", "referral_reason", "zone_of"]

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")


class Zone(IntEnum):
    PUBLIC = 0
    PRIVATE = 1
    LINK_LOCAL = 2
    LOOPBACK = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


def zone_of(host: str) -> Zone:
    """How internal `host` (an IP literal or a name, IPv6 with or without brackets) is."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return Zone.LOOPBACK
        if "." not in host or host.endswith(_LOCAL_SUFFIXES):
            return Zone.PRIVATE
        return Zone.PUBLIC
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 reaches this host too
        return Zone.LOOPBACK
    if ip.is_link_local:
        return Zone.LINK_LOCAL
    return Zone.PUBLIC if ip.is_global else Zone.PRIVATE


def is_loopback_host(host: str) -> bool:
    return zone_of(host) is Zone.LOOPBACK


def inward_reason(origin: str, target: str) -> str | None:
    """Why following `target` (a URL) from `origin` (a URL) is refused, or None if it is not."""
    before, after = urlsplit(origin), urlsplit(target)
    if before.scheme == "https" and after.scheme != "https":
        return f"it leads from https to {after.scheme or 'an unknown scheme'}"
    here, there = zone_of(before.hostname or ""), zone_of(after.hostname or "")
    if there > here:
        return f"it leads from a {here.label} address to a {there.label} one"
    return None


def referral_reason(origin: tuple[str, int], target: tuple[str, int], *, default_port: int) -> str | None:
    """Why a referral from the server `origin` (host, port) to `target` is refused, or None.
    It may not lead further inward, and it keeps to `default_port` (43 for WHOIS) unless the
    configured server itself uses another port."""
    (here, here_port), (there, there_port) = origin, target
    if there_port != default_port and here_port == default_port:
        return f"it names port {there_port}; referrals keep to port {default_port}"
    if zone_of(there) > zone_of(here):
        return f"it leads from a {zone_of(here).label} address to a {zone_of(there).label} one"
    return None
