"""Target parsing: one normalised value, or one clear refusal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osint_fanout._targets import InvalidTarget, TargetKind, parse_target


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("example.com", "example.com", TargetKind.DOMAIN),
        ("Example.COM.", "example.com", TargetKind.DOMAIN),
        ("  www.example.com  ", "www.example.com", TargetKind.DOMAIN),
        ("https://Example.com/x?y=1", "example.com", TargetKind.DOMAIN),
        ("http://user:pw@sub.example.org:8080/", "sub.example.org", TargetKind.DOMAIN),
        ("_dmarc.example.com", "_dmarc.example.com", TargetKind.DOMAIN),
        ("198.51.100.7", "198.51.100.7", TargetKind.IPV4),
        ("2001:DB8::1", "2001:db8::1", TargetKind.IPV6),
        ("[2001:db8::1]:443", "2001:db8::1", TargetKind.IPV6),
        ("http://[2001:db8::1]/path", "2001:db8::1", TargetKind.IPV6),
        ("https://198.51.100.7:8443/", "198.51.100.7", TargetKind.IPV4),
    ],
)
def test_valid_targets_are_normalised(text: str, value: str, kind: TargetKind) -> None:
    target = parse_target(text)
    assert (target.value, target.kind, target.input) == (value, kind, text)
    assert target.unicode is None


def test_internationalised_names_become_punycode_and_keep_the_original() -> None:
    target = parse_target("Bücher.DE")
    assert target.value == "xn--bcher-kva.de"
    assert target.unicode == "bücher.de"
    assert target.input == "Bücher.DE"
    assert parse_target("xn--bcher-kva.de").unicode == "bücher.de"
    assert parse_target("bücher\u3002de").value == "xn--bcher-kva.de"  # an ideographic full stop
    assert parse_target("例え\uff0eテスト").value == "xn--r8jz45g.xn--zckzah"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty target"),
        ("   ", "empty target"),
        ("exa mple.com", "spaces"),
        ("a..b.com", "empty label"),
        (".example.com", "empty label"),
        ("x" * 64 + ".com", "longer than 63"),
        (".".join(["a" * 60] * 5), "longer than 253"),
        ("ex\x1bample.com", "control"),
        ("example.com\u202e", "control"),
        ("-example.com", "starts with '-'"),
        ("exa$mple.com", "bad label"),
        ("localhost", "needs a dot"),
        ("999.1.1.1", "not a valid IP"),
        ("1.2.3", "not a valid IP"),
        ("xn--zz.com", "punycode"),
        ("http://", "no host"),
        ("foo-.com", "bad label"),
    ],
)
def test_invalid_targets_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidTarget, match=why):
        parse_target(text)


def test_the_error_names_the_input_safely() -> None:
    with pytest.raises(InvalidTarget) as info:
        parse_target("bad\x1b[2Jname.com")
    message = str(info.value)
    assert "\x1b" not in message and "\\x1b" in message


@given(st.text(max_size=300))
def test_any_string_is_a_valid_target_or_a_clean_refusal(text: str) -> None:
    try:
        target = parse_target(text)
    except InvalidTarget as exc:
        message = str(exc)
        assert "\n" not in message and "\x1b" not in message
        assert len(message) < 400
        return
    assert target.value == target.value.lower().strip()
    assert target.value.isascii() and len(target.value) <= 253
    assert target.value == parse_target(target.value).value  # normalising is idempotent
