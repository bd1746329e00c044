"""Terminal safety by Unicode category, and redaction that never breaks JSON."""

from __future__ import annotations

import json
import sys
import unicodedata
from urllib.parse import quote

import pytest

from osint_fanout import _redact
from osint_fanout._redact import json_escape_unsafe, redact_values, register_secret, terminal_safe, unsafe_char

CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def test_every_character_of_the_unsafe_categories_is_escaped() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in CATEGORIES and char not in "\t\n":
            assert unsafe_char(char), f"U+{code:04X}"


@pytest.mark.parametrize(
    "char", ["\u061c", "\U000e0041", "\u00ad", "\u3164", "\u115f", "\u1160", "\uffa0", "\u2060", "\u180e", "\ufff9"]
)
def test_the_invisible_ones_reported(char: str) -> None:
    shown = terminal_safe(f"a{char}b")
    assert shown.startswith("a\\") and shown.endswith("b") and char not in shown


def test_ordinary_text_is_left_alone() -> None:
    texts = ("example.com", "Bücher · 東京 · Ελληνικά · emoji 🙂", "tab\tand\nnewline", "nbsp\u00a0ideographic\u3000")
    for text in texts:
        assert terminal_safe(text) == text


def test_json_escapes_keep_the_data_exact() -> None:
    data = {"x": "a\x1b[2J\x9b\u202e\U000e0041\u2028b", "ok": "東京"}
    text = json_escape_unsafe(json.dumps(data, ensure_ascii=False))
    assert json.loads(text) == data
    assert not any(unsafe_char(c) for c in text)
    assert "東京" in text  # readable Unicode stays readable


def test_redaction_is_per_value_so_json_stays_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_redact, "_secrets", frozenset())  # restored after the test
    register_secret("null")
    data = {"a": None, "b": "the key null is here", "null": [None, True]}
    text = json.dumps(redact_values(data))
    assert json.loads(text) == {"a": None, "b": "the key *** is here", "***": [None, True]}


@pytest.mark.parametrize("key", ["k3y-0123456789", 'quo"te\\key-99', "ключ-0123456789", "tab\tkey-0123"])
def test_json_output_never_holds_a_key_whatever_its_characters(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    from osint_fanout._output import json_text

    monkeypatch.setattr(_redact, "_secrets", frozenset())  # restored after the test
    register_secret(key)
    clean = {"a": ["x", {"b": 1.5, "c": None}], "d": "東京"}
    assert json_text(clean) == json.dumps(clean, ensure_ascii=False)  # nothing to scrub: written once
    dirty = {"a": [f"pre{key}post"], key: {"n": f"{key}"}, "url": f"https://x/?k={quote(key, safe='')}"}
    text = json_text(dirty)
    assert key not in text and json.dumps(key, ensure_ascii=False)[1:-1] not in text
    assert quote(key, safe="") not in text
    assert json.loads(text) == {"a": ["pre***post"], "***": {"n": "***"}, "url": "https://x/?k=***"}
