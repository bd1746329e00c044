"""Target parsing: one validated, normalised value that every adapter receives."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from enum import StrEnum
from urllib.parse import urlsplit

import idna
from pydantic import BaseModel, ConfigDict, PrivateAttr

from ._redact import one_line

__all__ = ["InvalidTarget", "Target", "TargetKind", "parse_target"]

_MAX_NAME = 253
_MAX_LABEL = 63
# Letters, digits, hyphen, plus "_" because real DNS names use it (_dmarc, _sip._tcp).
_ASCII_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class TargetKind(StrEnum):
    DOMAIN = "domain"
    IPV4 = "ipv4"
    IPV6 = "ipv6"


class InvalidTarget(ValueError):
    """The input is not a domain name or an IP address; the message is one short line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message, 300))


class Target(BaseModel):
    """A parsed target. `value` is the canonical ASCII form adapters query."""

    model_config = ConfigDict(frozen=True)

    input: str
    value: str
    kind: TargetKind
    unicode: str | None = None
    """The internationalised form of an IDN domain, else None."""
    _note: str | None = PrivateAttr(None)

    @property
    def note(self) -> str | None:
        """How a pasted form was read (an e-mail address's domain, a wildcard stripped), to
        tell the user once; not part of the output or its schema."""
        return self._note

    @property
    def is_ip(self) -> bool:
        return self.kind is not TargetKind.DOMAIN

    def __str__(self) -> str:
        return self.value


def parse_target(text: str) -> Target:
    """Parse a domain, an IP address or a URL (reduced to its host), and the forms people
    paste: `host:port` and `host/path` (like a URL), an e-mail address (its domain),
    `*.domain` and `.domain` (the domain), defanged indicators (`example[.]com`,
    `hxxps://`). What has no one meaning (a CIDR range, an address range, an AS number,
    a file hash) is refused with a line that says so."""
    raw = text
    text = text.strip()
    shown = _printable(raw)
    if not text:
        raise InvalidTarget("empty target")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        raise InvalidTarget(f"invalid target {shown}: contains control or invisible characters")
    if text.startswith("-"):
        raise InvalidTarget(f"invalid target {shown}: starts with '-'")
    if any(ch.isspace() for ch in text):
        raise InvalidTarget(f"invalid target {shown}: contains spaces")
    text, notes = _pasted(text, shown)
    host = _host_of(text, shown)
    ip = _as_ip(host)
    if ip is not None:
        kind = TargetKind.IPV4 if ip.version == 4 else TargetKind.IPV6
        return _noted(Target(input=raw, value=ip.compressed, kind=kind), shown, notes)
    host, stripped = _unwildcard(host)
    value, unicode_form = _normalise_domain(host, shown)
    return _noted(Target(input=raw, value=value, kind=TargetKind.DOMAIN, unicode=unicode_form), shown, notes + stripped)


# Defanged indicators, as threat reports and IOC feeds write them: example[.]com, hxxps://.
# A defanged scheme only where a scheme stands: fxpro.com and hxxpfoo.com are plain names.
_DEFANGED = re.compile(
    r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[@\]|\[at\]|^hxxp(?=s?(?::|\[:\])//)|^fxp(?=(?::|\[:\])//)",
    re.IGNORECASE,
)
_REFANG = {"[:]": ":", "[@]": "@", "[at]": "@", "hxxp": "http", "fxp": "ftp"}
_HASH = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$", re.IGNORECASE)
_ASN = re.compile(r"^AS\d+$", re.IGNORECASE)


def _pasted(text: str, shown: str) -> tuple[str, list[str]]:
    """`text` as a domain, an IP or a URL, with what was done to it; InvalidTarget for
    the pasted forms that are no target."""
    notes: list[str] = []
    if _DEFANGED.search(text):
        text = _DEFANGED.sub(lambda m: _REFANG.get(m.group(0).lower(), "."), text)
        notes.append("a defanged indicator")
    if _HASH.match(text):
        raise InvalidTarget(f"invalid target {shown}: file hashes are not supported as targets")
    if _ASN.match(text):
        raise InvalidTarget(f"invalid target {shown}: AS numbers are not supported as targets; give a domain or an IP")
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :].split("?", 1)[0]
    if "/" in text and not _SCHEME.match(text):
        address, _, length = text.partition("/")
        if (length.isdigit() or _as_ip(length) is not None) and _as_ip(address.strip("[]")) is not None:
            raise InvalidTarget(f"invalid target {shown}: CIDR ranges are not supported as targets; list the addresses")
    if "-" in text and all(_as_ip(part) is not None for part in text.split("-", 1)):
        raise InvalidTarget(f"invalid target {shown}: address ranges are not supported as targets; list the addresses")
    if "@" in text and not _SCHEME.match(text) and "/" not in text.partition("@")[0]:
        local, _, domain = text.rpartition("@")
        if not local or not domain:
            raise InvalidTarget(f"invalid target {shown}: an e-mail address needs a name before '@' and a domain after")
        text = domain[1:-1] if domain.startswith("[") and domain.endswith("]") else domain  # user@[192.0.2.1]
        notes.append("an e-mail address")
    elif not _SCHEME.match(text) and _as_ip(text) is None and any(ch in text for ch in ":/?#"):
        text = "//" + text  # host:port, host/path: read like a URL (an IPv6 address stays as it is)
    return text, notes


def _unwildcard(host: str) -> tuple[str, list[str]]:
    """`*.example.com` and `.example.com` (how certificates and lists write a domain with
    everything under it) mean the domain."""
    if host.startswith("*."):
        return host[2:], ["a wildcard"]
    if host.startswith(".") and not host.startswith(".."):
        return host[1:], ["a name with a leading dot"]
    return host, []


def _noted(target: Target, shown: str, notes: list[str]) -> Target:
    if notes:
        target._note = f"{shown} is {' and '.join(notes)}: searching {target.value}"
    return target


def _printable(text: str, limit: int = 80) -> str:
    """Quote user input safely for an error line: escapes, bounded length."""
    short = text if len(text) <= limit else text[:limit] + "..."
    return ascii(short) if not short.isprintable() else repr(short)


def _host_of(text: str, shown: str) -> str:
    if _SCHEME.match(text) or text.startswith("//"):
        try:
            parts = urlsplit(text)
            host = parts.hostname
        except ValueError as exc:
            raise InvalidTarget(f"invalid target {shown}: {exc}") from None
        try:
            _ = parts.port  # checked, then dropped: adapters ask about the host
        except ValueError:
            raise InvalidTarget(f"invalid target {shown}: the port is not a number from 0 to 65535") from None
        if not host:
            raise InvalidTarget(f"invalid target {shown}: the URL has no host")
        return host
    if text.startswith("[") and "]" in text:  # [2001:db8::1] or [2001:db8::1]:443
        return text[1 : text.index("]")]
    return text


def _as_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        return None


# Full stops that IDNA treats as label separators (UTS 46): ideographic, fullwidth, halfwidth.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _normalise_domain(host: str, shown: str) -> tuple[str, str | None]:
    name = host.translate(_DOTS).removesuffix(".")
    if not name:
        raise InvalidTarget(f"invalid target {shown}: empty name")
    if ".." in name or name.startswith("."):
        raise InvalidTarget(f"invalid target {shown}: empty label")
    labels = [_ascii_label(label, shown) for label in name.split(".")]
    value = ".".join(labels)
    if len(value) > _MAX_NAME:
        raise InvalidTarget(f"invalid target {shown}: name longer than {_MAX_NAME} characters")
    if len(labels) < 2:
        raise InvalidTarget(f"invalid target {shown}: not an IP address, and a domain needs a dot")
    if labels[-1].isdigit():
        raise InvalidTarget(f"invalid target {shown}: not a valid IP address or domain")
    unicode_form = None
    if any(label.startswith("xn--") for label in labels):
        unicode_form = ".".join(_unicode_label(label) for label in labels)
        if unicode_form == value:
            unicode_form = None
    return value, unicode_form


def _ascii_label(label: str, shown: str) -> str:
    if label.isascii():
        lowered = label.lower()
        if len(lowered) > _MAX_LABEL:
            raise InvalidTarget(f"invalid target {shown}: label longer than {_MAX_LABEL} characters")
        if not _ASCII_LABEL.match(lowered):
            raise InvalidTarget(f"invalid target {shown}: bad label {lowered!r}")
        if lowered.startswith("xn--"):
            _unicode_label(lowered, shown)
        return lowered
    try:
        encoded = idna.encode(label, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError as exc:  # its message quotes the label: keep only what is wrong
        raise InvalidTarget(f"invalid target {shown}: {str(exc).split(' in ', 1)[0]}") from None
    if len(encoded) > _MAX_LABEL:
        raise InvalidTarget(f"invalid target {shown}: label longer than {_MAX_LABEL} characters")
    return encoded


def _unicode_label(label: str, shown: str | None = None) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return idna.decode(label)
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidTarget(f"invalid target {shown or repr(label)}: bad punycode label: {exc}") from None
