"""Scope: which found names and addresses a pivot may follow, and why (or why not).

Conservative and explainable: a name is in scope when it is a seed's registered domain or a
name under it (or under a `--scope` domain); an address only when a followed name resolves
to it. Registered domains come from the Public Suffix List snapshot that the
`publicsuffixlist` package ships (never fetched at run time); it is loaded only by a run
with --depth (it takes about 0.2 s to parse).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

import idna

from .._targets import InvalidTarget, Target, TargetKind, parse_target

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = ["Reason", "Scope", "ScopeError", "registered_domain"]


class Reason(StrEnum):
    """Why something found was not followed (the summary counts each asset once)."""

    OUT_OF_SCOPE = "out-of-scope"
    EXCLUDED = "excluded"
    DEPTH = "depth"
    WILDCARD = "wildcard"
    MAX_TARGETS = "max-targets"
    TIME = "time"


class ScopeError(ValueError):
    """A --scope or --exclude-pattern value that cannot be used; one line."""


@cache
def _rules() -> list[str]:
    from publicsuffixlist import PSLFILE

    with open(PSLFILE, encoding="utf-8") as source:
        return [line.split(" ")[0].strip().lower() for line in source if line[:2] not in ("//", "\n")]


@cache
def _psl(tld: str) -> PublicSuffixList:
    """The list's rules for one top-level domain, parsed by the library. The whole list
    takes 0.2-0.6 s to parse (the IDNA encoding of every rule, mostly): a pivot's start-up
    would cost more than its bookkeeping. A run needs the rules of its seeds' TLDs only;
    IDN names are looked up decoded (the rules' own form), so no rule is encoded."""
    from publicsuffixlist import PublicSuffixList

    rules = [rule for rule in _rules() if rule == tld or rule.endswith("." + tld)]
    return PublicSuffixList(rules, accept_encoded_idn=False)  # the private section too: conservative


def registered_domain(name: str) -> str:
    """The registered domain of `name` (example.co.uk for a.b.example.co.uk). A name that
    is itself a public suffix (co.uk, github.io) is its own scope: nothing under it is
    followed but itself."""
    if "xn--" not in name:
        return _psl(name.rpartition(".")[2]).privatesuffix(name) or name
    try:
        shown = idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name  # conservative: the name alone
    found = _psl(shown.rpartition(".")[2]).privatesuffix(shown)
    if found is None:
        return name
    return ".".join(name.split(".")[-(found.count(".") + 1) :])  # the same labels, in ASCII


def _under(name: str, domain: str) -> bool:
    return name == domain or name.endswith("." + domain)


@dataclass
class Scope:
    """The rules of one pivoted run. Seeds are added as the run reads them."""

    extra: tuple[str, ...] = ()
    """--scope: more domains (taken as given, with every name under them)."""
    follow_ips: bool = True
    exclude: tuple[str, ...] = ()
    """--exclude-pattern: shell globs matched against names (a*.example.com, *.dev.*)."""
    domains: dict[str, str] = field(default_factory=dict)
    """Each domain in scope, with why."""

    def __post_init__(self) -> None:
        for text in self.extra:
            domain = _domain(text, "--scope")
            self.domains.setdefault(domain, "--scope")
        self.exclude = tuple(pattern.strip().lower().rstrip(".") for pattern in self.exclude)
        if any(not pattern for pattern in self.exclude):
            raise ScopeError("--exclude-pattern: an empty pattern")

    def add_seed(self, seed: Target) -> None:
        if seed.kind is TargetKind.DOMAIN:
            self.domains.setdefault(registered_domain(seed.value), f"the registered domain of seed {seed.value}")

    def name(self, name: str) -> tuple[Reason | None, str]:
        """Whether a found name may be followed: (None, why) or (a Reason, why not)."""
        for pattern in self.exclude:
            if fnmatch.fnmatchcase(name, pattern):
                return Reason.EXCLUDED, f"matches --exclude-pattern {pattern}"
        for domain, why in self.domains.items():
            if _under(name, domain):
                return None, f"under {domain} ({why})"
        return Reason.OUT_OF_SCOPE, f"not under {', '.join(sorted(self.domains)) or 'any domain in scope'}"

    def address(self, resolved_from: str | None) -> tuple[Reason | None, str]:
        """Whether a found address may be followed: only when a followed name resolves to it."""
        if not self.follow_ips:
            return Reason.OUT_OF_SCOPE, "addresses are not followed (--no-follow-ips)"
        if resolved_from is None:
            return Reason.OUT_OF_SCOPE, "no followed name resolves to it"
        return None, f"{resolved_from} resolves to it"

    def parent_in_scope(self, name: str) -> str | None:
        """The parent of `name` when it is strictly under a domain in scope (where a wildcard
        record could make it up), else None."""
        parent = name.partition(".")[2]
        return parent if any(_under(parent, domain) for domain in self.domains) else None


def _domain(text: str, flag: str) -> str:
    try:
        target = parse_target(text)
    except InvalidTarget as exc:
        raise ScopeError(f"{flag}: {exc}") from None
    if target.kind is not TargetKind.DOMAIN:
        raise ScopeError(f"{flag}: {target.value} is an address, not a domain")
    return target.value
