"""The world's second state: the same world a while later, so that `diff` and
`search --changes` have something real to report.

Every service keeps its fixtures; the second state swaps a few strings in what they
answer (`replace`, see templates.render), for every target:

- certificate transparency logs a new name (`vpn.` beside the fixture's `api.`);
- Shodan and InternetDB see port 8443 open on an address;
- WHOIS (RDAP and port 43) names another registrar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import WILDCARD

if TYPE_CHECKING:
    from .world import World

__all__ = ["CHANGED", "NEW_PORT", "NEW_REGISTRAR", "NEW_SUBDOMAIN", "set_state"]

NEW_SUBDOMAIN = "vpn"
NEW_PORT = 8443
OLD_REGISTRAR = "Example Registrar, LLC"
NEW_REGISTRAR = "Second Registrar, Inc."
_WHOIS = {OLD_REGISTRAR: NEW_REGISTRAR}
CHANGED: dict[str, dict[str, str]] = {
    # crt.sh's fixture lists `api.T` twice, the second time with a final dot: that one becomes vpn.T
    "crtsh": {"\\napi.": f"\n{NEW_SUBDOMAIN}."},
    "shodan": {"[22, 443]": f"[22, 443, {NEW_PORT}]"},
    "internetdb": {"[22, 443]": f"[22, 443, {NEW_PORT}]"},
    "rdap": _WHOIS,
    "whois": _WHOIS,
}
"""Per service: old text -> new text, in every answer of the second state."""

SUMMARY = (
    f"a new name {NEW_SUBDOMAIN}.<domain> in certificate transparency, port {NEW_PORT} open on every address "
    f"(Shodan), registrar {NEW_REGISTRAR!r} (WHOIS)"
)


def set_state(world: World, changed: bool, delays_s: dict[str, float] | None = None) -> None:
    """Move the world to its second state (`changed`) or back to the first; `delays_s`
    keeps services slow (by service name), as `--slow` made them."""
    delays_s = delays_s or {}
    for service in world.services:
        replace = CHANGED.get(service) if changed else None
        delay_s = delays_s.get(service)
        if replace is None and delay_s is None:
            if service in CHANGED:
                world.behave(service, WILDCARD, "normal")
            continue
        params = {"replace": replace} if replace else {}
        if delay_s is not None:
            world.behave(service, WILDCARD, "slow", delay_s=delay_s, **params)
        else:
            world.behave(service, WILDCARD, "normal", **params)
