"""The generic reader of port-43 WHOIS text, which checks and completes python-whois's reading.

RFC 3912 gives WHOIS answers no format, and registries write the same facts in a few shapes:
`Key: value` lines (with dot leaders, tabs, `[Key]` brackets or `a. [Key]` as JPRS has them), a
usual key and its value apart by a tab or spaces with no colon (`Registrar<TAB>Name`), a key's
value continued on indented lines, and sections: a header (`Registrar:`, a bare `Nameservers`
line after an empty one, or a usual key standing alone) over indented lines, or over a
paragraph of lines. The
reader turns any answer into entries (section, key, value) in one pass over its lines, and finds
each fact by its usual keys and section names; it never sees a registry's name. It reads only what
`trimmed` keeps (WHOIS_TEXT_MAX of lines of at most WHOIS_LINE_MAX characters), with string methods
and regexes on single short lines: linear in the text, however hostile.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .whois_dates import read_date, slash_order

__all__ = ["WHOIS_LINE_MAX", "WHOIS_SCAN_MAX", "WHOIS_TEXT_MAX", "Entry", "entries", "fields", "trimmed"]

# What is read of an answer: registries put the facts first, and python-whois's time grows faster
# than the text (with the square of a line's length, for one), so it gets lines of at most
# WHOIS_LINE_MAX characters, WHOIS_TEXT_MAX in all, from the first WHOIS_SCAN_MAX of the answer.
WHOIS_SCAN_MAX = 64 * 1024
WHOIS_TEXT_MAX = 16 * 1024
WHOIS_LINE_MAX = 256
KEY_MAX = 48  # longer "keys" are prose with a colon in it
_BRACKET_KEY = re.compile(r"(?:[A-Za-z]\.[ \t]*)?\[([^\[\]]{1,48})\][ \t]*(.*)")  # "[State] x", "a. [Domain Name] x"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")  # EPP's "clientTransferProhibited" (RFC 5731) into words (RFC 8056)
_DOTTED = re.compile(r"\w\.\w")  # a host name or an address in a "key"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")  # one label of a host name

# The keys (lower case, "-", "_" and dot leaders as spaces, a trailing " on" dropped) and section
# names each fact goes by, as registries write them.
CREATED = frozenset({
    "creation date", "created", "created date", "create date", "creation time", "registered", "registered date",
    "registration date", "registration time", "domain created", "domain registered", "record created",
    "domain registration date", "commencement date", "domain name commencement date", "domain record activated",
    "activated", "first registration date", "date registered", "date created", "date of registration",
})  # fmt: skip
EXPIRES = frozenset({
    "registry expiry date", "registrar registration expiration date", "expiration date", "expiration time",
    "expiry date", "expiry", "expires", "expire", "expire date", "paid till", "renewal date", "record expires",
    "domain expiration date", "domain expires", "registration expiration date", "valid until", "expiration",
    "record will expire", "date expires", "date of expiry",
})  # fmt: skip
UPDATED = frozenset({
    "updated date", "updated", "last updated", "last update", "last modified", "modified", "changed",
    "last changed", "last updated date", "domain last updated", "update date", "modified date", "record last updated",
    "domain record last updated",
})  # fmt: skip
REGISTRAR = frozenset({
    "registrar", "registrar name", "sponsoring registrar", "registration service provider", "current registrar",
    "current registar", "registrar organization", "registrar organisation", "authorized agency",
})  # fmt: skip
# "DNS:" alone is a name server only in a name-server section (.dk's "DNS:" is the domain's name).
NAMESERVER_KEYS = frozenset({
    "name server", "name servers", "nameserver", "nameservers", "nserver", "nservers", "domain nameservers",
    "dns servers", "domain servers", "primary server", "secondary server", "name servers information",
})  # fmt: skip
_SERVER_KEYS = ("", "host", "hostname", "host name", "name", "dns")  # of a name-server section
STATUS = frozenset({"status", "domain status", "state", "registration status", "flags", "epp status"})
DNSSEC = frozenset({"dnssec", "signed", "dnssec status", "domain dnssec"})
ABUSE = frozenset({"registrar abuse contact email", "abuse email", "abuse contact email", "abuse mailbox"})
REGISTRANT_NAME = frozenset({"registrant name", "registrant"})
REGISTRANT_ORG = frozenset({"registrant organization", "registrant organisation", "registrant org"})
REGISTRANT_COUNTRY = frozenset({"registrant country", "registrant country code"})
_ORG_KEYS = ("organization", "organisation", "org", "company", "organization name", "organisation name")
_REGISTRAR_SECTIONS = frozenset({"registrar", "sponsoring registrar", "registrar information"}).__contains__
_REGISTRAR_NAMES = ("", *_ORG_KEYS, "name", "registrar name", "registrar")  # "" a plain line: "Registrar:\n  Name Inc."
_CONTACTS = (
    "registrant", "admin", "tech", "billing", "holder", "owner", "contact", "zone c", "person", "organi", "address",
)  # fmt: skip
_FOREIGN = (*_CONTACTS, "registrar", "server", "dnssec", "keys")  # sections about other objects than the domain
# The keys a line may have without a colon: "Registrar<TAB>Example Ltd", or "Registrar" alone over its value.
KNOWN_KEYS = (
    CREATED
    | EXPIRES
    | UPDATED
    | REGISTRAR
    | NAMESERVER_KEYS
    | STATUS
    | DNSSEC
    | ABUSE
    | REGISTRANT_NAME
    | REGISTRANT_ORG
    | REGISTRANT_COUNTRY
    | {"domain", "domain name", "registrar iana id"}
)
_APART = re.compile(r"([^:\t]{1,48}?)(?:\t| {2,})[ \t]*([^ \t:].*)")  # a key, then a tab or spaces, then no colon
_PUNCTUATION = ".,;:!?\"'"
_HANDLE = re.compile(r"(?=\S*\d)[\w-]{2,64}")  # one word with a digit: CON000020360, CL62533-007244, go438-irnic


@dataclass(frozen=True)
class Entry:
    line: int  # where it was read: of two entries for one fact, the first wins
    section: str  # the normalised header it is under, "" outside any section
    key: str  # the normalised key; "" for a plain line of a section
    value: str


def trimmed(answer: str) -> str:
    """The part of a port-43 answer that is read (see WHOIS_SCAN_MAX): lines of at most
    WHOIS_LINE_MAX characters (longer ones are prose or DNSSEC keys), one empty line for a run of
    them. Linear, and at most about 10 ms whatever the answer."""
    kept: list[str] = []
    size = 0
    for line in io.StringIO(answer[:WHOIS_SCAN_MAX], newline=None):  # CR LF, CR or LF: a line
        stripped = line.rstrip()
        if len(stripped) > WHOIS_LINE_MAX or (not stripped and kept and not kept[-1]):
            continue
        size += len(stripped) + 1
        if size > WHOIS_TEXT_MAX:
            break
        kept.append(stripped)
    return "\n".join(kept)


def normal_key(key: str) -> str:
    """'Domain Name.......' -> 'domain name'; 'paid-till' -> 'paid till'; 'Registered on' -> 'registered'."""
    key = " ".join(key.lower().replace("_", " ").replace("-", " ").lstrip(">* ").rstrip(". ").split())
    return key.removesuffix(" on")


def _split(line: str) -> tuple[str, str, str]:
    """(kind, key, value) of one stripped line: kind is "kv", "header" (a key with nothing after
    it) or "plain"."""
    bracket = _BRACKET_KEY.fullmatch(line)
    if bracket:
        key, value = normal_key(bracket.group(1)), bracket.group(2).strip()
        return ("kv" if value else "header", key, value) if key else ("plain", "", line)
    apart = _APART.fullmatch(line)  # "Creation Date<TAB>2001-06-14 10:32:43": the first colon is the value's
    if apart and normal_key(apart.group(1)) in KNOWN_KEYS:
        return "kv", normal_key(apart.group(1)), apart.group(2).strip()
    phrase, on, when = line.partition(" on ")  # "Record expires on 2021-11-09 00:00:00", "Registered on 30th April"
    if on and len(phrase) <= KEY_MAX and all(c.isalpha() or c == " " for c in phrase):
        return "kv", normal_key(phrase), when.strip().removeprefix(":").strip()  # "Record will expire on: 12/18/2001"
    raw_key, colon, value = line.partition(":")
    key, value = normal_key(raw_key), value.strip()
    # Not a key: nothing, prose, a URL's "http", "ns1.example.net  192.0.2.1  2001" (a host, an address)
    words = raw_key.rstrip(". \t").split(" ")
    if not colon or not key or len(key) > KEY_MAX or "" in words or value.startswith("//") or _DOTTED.search(key):
        return "plain", "", line
    return ("kv" if value else "header", key, value) if any(c.isalpha() for c in key) else ("plain", "", line)


def _bare_header(line: str) -> bool:
    """A line like 'Nameservers' or 'Administrative Contact/Agent': a title, not a value."""
    return (
        len(line) <= KEY_MAX
        and len(line.split()) <= 5
        and line[0].isalpha()
        and all(c.isalpha() or c in " /-()" for c in line)
    )


@dataclass
class _Section:
    """The section being read: its name and header's indent, and how its lines sit."""

    name: str = ""
    indent: int = 0
    bare: bool = False  # opened by a bare header line, without a colon
    mode: str = ""  # "open" (no line yet), "deeper" (lines indented under it), "paragraph" (lines right after it)
    blank: bool = False  # an empty line came after the header, before any line of it

    def close(self) -> None:
        self.name, self.mode = "", ""

    def place(self, kind: str, key: str, indent: int) -> None:
        """Before a line is read: does it end the section, or say how the section's lines sit?"""
        if self.mode == "deeper" and indent <= self.indent:
            self.close()
        elif self.mode == "open" and indent > self.indent:
            self.mode = "deeper"
        elif self.mode == "open" and self.blank and not self.bare and kind == "kv":
            self.close()  # "Abuse Contact:", an empty line, then the next field: an empty section
        elif self.mode == "open":  # the same indent: a section ("Registrant:", then "name: x"; "Name Servers:",
            self.mode = "paragraph"  # then lines), or an empty field ("Registrar IANA ID:", then "Registrar
            if not self.bare and kind == "kv" and " " in key and " " in self.name:  # Abuse Contact Email: x")
                self.close()


def entries(text: str) -> list[Entry]:
    """Every key/value the text holds, with the section each is under.

    A section is opened by a header at some indent. Its lines either sit deeper than the header
    (the section ends at the first line that does not, empty lines allowed in between) or at the
    same indent right after it (then it ends at an empty line). A bare header (no colon) comes
    after an empty line and may have empty lines before its lines, as in .fi or .kz answers. A
    plain line deeper than the key/value line right before it continues that key's value."""
    out: list[Entry] = []
    section = _Section()
    last_key, last_indent, after_blank = "", 0, True
    for number, raw in enumerate(text.split("\n")):
        line = raw.strip()
        if not line:
            if section.mode == "paragraph":
                section.close()
            section.blank = section.blank or section.mode == "open"
            last_key, after_blank = "", True
            continue
        indent = len(raw.expandtabs(8)) - len(raw.expandtabs(8).lstrip())
        blank_before, after_blank = after_blank, False
        if line[0] in "%#":  # a comment
            continue
        kind, key, value = _split(line)
        if kind == "plain" and last_key and indent > last_indent:
            out.append(Entry(number, section.name, last_key, line))  # an indented continuation of last_key's value
            continue
        if kind == "header" and section.mode == "deeper" and indent > section.indent:
            last_key, last_indent = key, indent  # "Address:" inside a section: a key whose value follows
            continue
        bare = kind == "plain" and section.mode != "open" and _bare_header(line)
        bare = bare and ((blank_before and indent == 0) or normal_key(line) in KNOWN_KEYS)  # a usual key, alone
        if kind == "header" or bare:
            section = _Section(key or normal_key(line), indent, bare, "open")
            last_key = ""
            continue
        section.place(kind, key, indent)
        out.append(Entry(number, section.name, key, value if kind == "kv" else line))
        last_key, last_indent = (key, indent) if kind == "kv" else ("", 0)
    return out


def _in(section: str, words: tuple[str, ...]) -> bool:
    return any(word in section for word in words)


def _first(
    found: list[Entry], keys: frozenset[str], avoid: tuple[str, ...] = _FOREIGN, headed: bool = False
) -> Entry | None:
    """The first entry for one of `keys` outside the sections `avoid` names; `headed`: or the first
    line under a header of that name ("First registration date:" over "before 1 January 1996")."""
    for e in found:
        if (e.key in keys and not _in(e.section, avoid)) or (headed and not e.key and e.section in keys):
            return e
    return None


def _holders(section: str) -> bool:
    """A section about the domain's holder: "Registrant:", "Holder of domain name:", "Owner"."""
    return _in(section, ("registrant", "holder", "owner")) and not _in(section, ("admin", "tech", "billing", "zone"))


def _in_section(found: list[Entry], sections: Callable[[str], bool], keys: tuple[str, ...]) -> Entry | None:
    """The first entry of a section `sections` says yes to whose key is one of `keys` (or a
    plain line, when "" is among them) and whose value is not a link, an e-mail or a phone."""
    for e in found:
        value = _unbracketed(e.value).strip()  # "MarkMonitor Inc. (http://www.markmonitor.com)"
        if sections(e.section) and e.key in keys and value and not re.search(r"://|@|www\.|^\+?[\d .-]+$", value):
            return Entry(e.line, e.section, e.key, value)
    return None


def _unbracketed(text: str) -> str:
    """`text` without what it has in parentheses."""
    kept, depth = [], 0
    for char in text:
        depth += char == "("
        if not depth:
            kept.append(char)
        depth -= char == ")" and depth > 0
    return "".join(kept)


def host_names(value: str) -> list[str]:
    """The host names in a value ('ns1.example.net [OK]', 'a.example, b.example'), lower case,
    without a trailing dot; IP addresses and other words are left out, and so is a line of prose
    (three words, two before its first host name, or a word and a www. name: "Please visit
    www.registry.example for more info." names no name server)."""
    names = []
    for line in value.split("\n"):
        hosts, words, before = [], 0, 0
        for token in _unbracketed(line).replace(",", " ").split():
            name = token.lower().rstrip(".")
            labels = name.split(".")
            if (
                len(labels) >= 2
                and len(name) <= 253
                and labels[-1][:1].isalpha()
                and all(map(_LABEL.fullmatch, labels))
            ):
                hosts.append(name)
            elif len(word := token.strip(_PUNCTUATION)) > 1 and word.isalpha():
                words += 1
                before += not hosts
        web = any(host.startswith("www.") for host in hosts)  # "See www.registry.example": a web page
        if words < 3 and before < 2 and not (words and web):
            names += hosts
    return names


def status_words(value: str) -> list[str]:
    """Statuses as RDAP writes them (RFC 8056): 'clientTransferProhibited https://icann.org/epp#...'
    -> 'client transfer prohibited'; 'ok (paid and in zone)' -> 'ok'; 'A, B' -> two."""
    out = []
    for part in value.split(","):
        words = [w for w in _unbracketed(part).split(" - ")[0].split() if "://" not in w]
        if words and re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", words[0]):
            words = [words[0]]  # an EPP code, maybe followed by its explanation
        text = _CAMEL.sub(" ", " ".join(words)).lower().replace("_", " ").strip(" .")
        if text and len(text) <= 64:
            out.append(" ".join(text.split()))
    return out


def _email(value: str | None) -> str | None:
    return value if value and re.fullmatch(r"[^\s@]{1,64}@[^\s@]{1,255}", value) else None


def _flag(value: str | None) -> bool | None:
    word = (value or "").strip().lower()
    if word == "y" or word.startswith(("signed", "yes", "true", "active")):
        return True
    return False if word == "n" or word.startswith(("unsigned", "no", "false", "inactive", "not signed")) else None


def _line(value: Any) -> str | None:
    """python-whois's value as one line of text, if it is one (not a block, a link or nothing)."""
    text = str(value).strip().split("\n")[0].strip() if value is not None else ""
    return text if text and "://" not in text and len(text) <= WHOIS_LINE_MAX else None


def fields(text: str, parsed: dict[str, list[str]], name: str = "") -> tuple[dict[str, Any], list[str]]:
    """The facts of a port-43 answer about the domain `name`: python-whois's reading (`parsed`,
    {key: [values]}) checked and completed by the entries of `text`. Returns the data fields and
    the warnings."""
    found = entries(text)
    theirs = {key: values[0] for key, values in parsed.items() if values}
    warnings: list[str] = []
    registrars = [_first(found, REGISTRAR, _CONTACTS), _in_section(found, _REGISTRAR_SECTIONS, _REGISTRAR_NAMES)]
    ours = min((e for e in registrars if e), key=lambda e: e.line, default=None)
    iana_id = _first(found, frozenset({"registrar iana id"}))
    data: dict[str, Any] = {
        "registrar": _line(theirs.get("registrar")) or (ours and ours.value),
        "registrar_iana_id": iana_id.value if iana_id and iana_id.value.isdigit() else None,
    }
    data.update(_dates(found, theirs, slash_order((e.value for e in found), name), warnings))
    statuses = [str(raw) for raw in parsed.get("status", [])]
    statuses += [e.value for e in found if e.key in STATUS and not _in(e.section, _FOREIGN)]
    statuses += [e.value for e in found if e.section in STATUS and not e.key]  # "Registration status:" over a line
    data["status"] = sorted({word for raw in statuses for word in status_words(raw)})
    hosts = [str(raw) for raw in parsed.get("name_servers", [])]  # python-whois may give one block of lines
    hosts += [e.value for e in found if e.key in NAMESERVER_KEYS or (e.section in NAMESERVER_KEYS and not e.key)]
    hosts += [e.value for e in found if "server" in e.section and ("server" in e.key or e.key in _SERVER_KEYS)]
    data["nameservers"] = sorted({name for raw in hosts for name in host_names(raw)})
    dnssec = _first(found, DNSSEC, _CONTACTS, headed=True)
    data["dnssec"] = _flag(theirs["dnssec"]) if theirs.get("dnssec") else _flag(dnssec and dnssec.value)
    abuse = _first(found, ABUSE, ()) or _in_section(found, {"abuse contact", "abuse"}.__contains__, ("email", "e mail"))
    data["abuse_email"] = _email(abuse and abuse.value)
    org = _first(found, REGISTRANT_ORG, ()) or _in_section(found, _holders, _ORG_KEYS)
    person = _first(found, REGISTRANT_NAME, ()) or _in_section(found, _holders, ("name", ""))
    country = _first(found, REGISTRANT_COUNTRY, ()) or _in_section(found, _holders, ("country", "country code"))
    holders = [e.value for e in (person, org) if e]  # a contact ID ("registrant: ACS25-IS") is no name
    data["registrant"] = next((v for v in holders if not _HANDLE.fullmatch(v)), None)
    data["registrant_handle"] = next((v for v in holders if _HANDLE.fullmatch(v)), None)
    data["registrant_org"] = org and org.value
    data["registrant_country"] = country and country.value
    return data, warnings


def _dates(found: list[Entry], theirs: dict[str, str], slashes: Any, warnings: list[str]) -> dict[str, Any]:
    """The domain's dates in the normal form (whois_dates.py): the registry's own words read again,
    since python-whois makes "before Aug-1996" a day and reads "03/02/2020" one way for every
    registry; python-whois's reading where the words are in a form this reader does not know.
    `slashes` says what comes first in the answer's slashed dates."""
    data: dict[str, Any] = {"no_time_zone": []}
    for field, keys, their_key in (
        ("created", CREATED, "creation_date"),
        ("expires", EXPIRES, "expiration_date"),
        ("updated", UPDATED, "updated_date"),
    ):
        entry = _first(found, keys, headed=True)
        date = read_date(entry.value, slashes) if entry else None
        if (date is None or date.problem == "unknown date format") and theirs.get(their_key):
            kept = read_date(theirs[their_key])  # python-whois's ISO reading, into the normal form
            date = kept if kept.value else date
            if entry and kept.value:
                warnings.append(f"{field}: unknown date format {entry.value!r}, python-whois's reading kept")
        elif entry and date and date.problem:
            warnings.append(f"{field}: {date.problem} {entry.value!r}")
        data[field] = date and date.value
        data[f"{field}_text"] = entry.value if entry else None
        if date and date.no_zone:
            data["no_time_zone"].append(field)
    return data
