"""Target parsing: one normalised value, or one clear refusal."""

from __future__ import annotations

import re

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
        ("..example.com", "empty label"),
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


@pytest.mark.parametrize(
    ("text", "value", "note"),
    [
        ("user@example.com", "example.com", "'user@example.com' is an e-mail address: searching example.com"),
        ("mailto:Soc@Example.org?subject=hi", "example.org", "is an e-mail address"),
        ("user@[198.51.100.7]", "198.51.100.7", "is an e-mail address"),
        ("*.example.com", "example.com", "'*.example.com' is a wildcard: searching example.com"),
        ("*.api.example.com:443", "api.example.com", "is a wildcard"),
        (".example.com", "example.com", "is a name with a leading dot"),
        ("example[.]com", "example.com", "is a defanged indicator: searching example.com"),
        ("hxxps://www(.)example{.}net/x", "www.example.net", "is a defanged indicator"),
        ("198[.]51[.]100[.]7", "198.51.100.7", "is a defanged indicator"),
        ("user[@]example[dot]com", "example.com", "is a defanged indicator and an e-mail address"),
    ],
)
def test_pasted_forms_with_one_meaning_are_read_with_a_note(text: str, value: str, note: str) -> None:
    target = parse_target(text)
    assert target.value == value
    assert target.note is not None and note in target.note
    assert "note" not in target.model_dump()  # the output's target object is unchanged


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("example.com:8443", "example.com"),
        ("Example.com:8443/login?next=/", "example.com"),
        ("example.com/path", "example.com"),
        ("198.51.100.7:443", "198.51.100.7"),
        ("[2001:db8::7]:8443", "2001:db8::7"),
        ("example.com#top", "example.com"),
    ],
)
def test_host_and_port_or_path_is_read_like_a_url_without_a_note(text: str, value: str) -> None:
    target = parse_target(text)
    assert (target.value, target.note) == (value, None)
    assert target.value == parse_target(f"https://{text}").value


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("198.51.100.0/24", "CIDR ranges are not supported as targets; list the addresses"),
        ("2001:db8::/32", "CIDR ranges are not supported"),
        ("198.51.100.0/255.255.255.0", "CIDR ranges are not supported"),
        ("198.51.100.1-198.51.100.9", "address ranges are not supported"),
        ("AS64496", "AS numbers are not supported"),
        ("d41d8cd98f00b204e9800998ecf8427e", "file hashes are not supported"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "file hashes are not supported"),
        ("@example.com", "needs a name before '@'"),
        ("user@", "needs a name before '@'"),
        ("example.com:http", "the port is not a number from 0 to 65535"),
        ("example.com:99999", "the port is not a number from 0 to 65535"),
        ("*.*.example.com", "bad label"),
    ],
)
def test_pasted_forms_without_one_meaning_get_a_plain_line(text: str, why: str) -> None:
    with pytest.raises(InvalidTarget, match=re.escape(why)) as info:
        parse_target(text)
    assert "bad label" not in str(info.value) or why == "bad label"


@pytest.mark.parametrize("name", ["fxpro.com", "hxxpfoo.example", "fxp.example.org", "hxxps.example.net"])
def test_a_name_that_only_starts_like_a_defanged_scheme_is_searched_as_written(name: str) -> None:
    target = parse_target(name)
    assert (target.value, target.note) == (name, None)  # fxpro.com was searched as ftpro.com


@pytest.mark.parametrize(("text", "value"), [("fxp://a.example", "a.example"), ("HXXPS[:]//b.example/x", "b.example")])
def test_a_defanged_scheme_is_refanged(text: str, value: str) -> None:
    target = parse_target(text)
    assert target.value == value and target.note is not None and "defanged" in target.note
