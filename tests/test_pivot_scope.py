"""Pivot scope (registered domains from the shipped Public Suffix List) and wildcard detection, as units."""

from __future__ import annotations

import asyncio

import pytest

from osint_fanout._targets import parse_target
from osint_fanout.pivot import Reason, Scope, ScopeError, Wildcards, registered_domain


@pytest.mark.parametrize(
    ("name", "registered"),
    [
        ("a.b.example.co.uk", "example.co.uk"),
        ("www.example.com", "example.com"),
        ("user.github.io", "user.github.io"),  # the private section: a user's site is its own domain
        ("co.uk", "co.uk"),  # a public suffix is its own (tiny) scope
        ("host.example.test", "example.test"),
        ("a.b.xn--55qx5d.cn", "b.xn--55qx5d.cn"),  # 公司.cn: an IDN public suffix, in punycode
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("shop.example.xn--fiqs8s", "example.xn--fiqs8s"),
    ],
)
def test_registered_domain_is_public_suffix_aware(name: str, registered: str) -> None:
    assert registered_domain(name) == registered


def test_the_psl_is_the_packaged_snapshot_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the PSL must not be fetched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert registered_domain("x.y.example.org.uk") == "example.org.uk"


def test_names_under_a_seeds_registered_domain_are_in_scope_others_explained() -> None:
    scope = Scope()
    scope.add_seed(parse_target("www.example.co.uk"))
    assert scope.name("deep.api.example.co.uk")[0] is None
    assert scope.name("example.co.uk")[0] is None
    reason, why = scope.name("example.com")
    assert reason is Reason.OUT_OF_SCOPE and "example.co.uk" in why
    assert scope.name("notexample.co.uk")[0] is Reason.OUT_OF_SCOPE  # a suffix match is not enough


def test_extra_scope_exclusions_and_addresses() -> None:
    scope = Scope(extra=("Partner.NET",), exclude=("*.dev.*", "staging*"), follow_ips=True)
    assert scope.name("cdn.partner.net")[0] is None
    assert scope.name("a.dev.partner.net")[0] is Reason.EXCLUDED
    assert scope.name("staging.partner.net")[0] is Reason.EXCLUDED
    assert scope.address(None)[0] is Reason.OUT_OF_SCOPE
    assert scope.address("www.partner.net") == (None, "www.partner.net resolves to it")
    assert Scope(follow_ips=False).address("www.partner.net")[0] is Reason.OUT_OF_SCOPE


@pytest.mark.parametrize("bad", ["192.0.2.1", "not a domain", "-x.com", ""])
def test_a_bad_scope_is_one_clear_error(bad: str) -> None:
    with pytest.raises(ScopeError, match="--scope"):
        Scope(extra=(bad,))


def test_wildcard_parent_is_probed_once_and_only_names_answering_like_it_are_made_up() -> None:
    asked: list[str] = []
    zone = {"real.wild.example.com": frozenset({"resolves-to:192.0.2.5"})}

    async def resolve(name: str) -> frozenset[str] | None:
        asked.append(name)
        if name in zone:
            return zone[name]
        if name.endswith(".wild.example.com"):
            return frozenset({"resolves-to:192.0.2.99"})
        return frozenset()

    async def main() -> list[bool]:
        wildcards = Wildcards(resolve, label=lambda: "random")
        checks = [
            wildcards.made_up("a.wild.example.com", "wild.example.com"),
            wildcards.made_up("b.wild.example.com", "wild.example.com"),
            wildcards.made_up("real.wild.example.com", "wild.example.com"),
            wildcards.made_up("www.example.com", "example.com"),
            # its answer known from the finding: nothing more to ask
            wildcards.made_up("c.wild.example.com", "wild.example.com", frozenset({"resolves-to:192.0.2.99"})),
        ]
        made_up = list(await asyncio.gather(*checks))
        assert wildcards.found == {"*.wild.example.com": 3}
        return made_up

    assert asyncio.run(main()) == [True, True, False, False, True]
    assert asked.count("random.wild.example.com") == 1
    assert "c.wild.example.com" not in asked and "www.example.com" not in asked


def test_a_failed_probe_means_follow() -> None:
    async def resolve(name: str) -> frozenset[str] | None:
        return None

    assert asyncio.run(Wildcards(resolve).made_up("a.example.com", "example.com")) is False


def test_the_per_tld_rules_agree_with_the_whole_list() -> None:
    """registered_domain parses only the rules of a name's TLD (the whole list costs a
    pivot's start-up 0.2-0.6 s): it must agree with the library's own whole-list answer."""
    import idna
    from publicsuffixlist import PublicSuffixList

    from osint_fanout.pivot._scope import _rules

    whole = PublicSuffixList()
    checked = 0
    for rule in _rules()[::23]:
        base = rule.lstrip("!*.")
        for name in (f"x.y.{base}", f"y.{base}", base):
            try:
                ascii_name = idna.encode(name, uts46=True).decode("ascii")
            except idna.IDNAError:
                continue
            assert registered_domain(ascii_name) == (whole.privatesuffix(ascii_name) or ascii_name), name
            checked += 1
    assert checked > 1000
