"""Fixture data for the world's answers, templated for whatever target is asked about.

Files come from tests/fixtures/ (written by the adapter authors) when they exist, else
from tests/world/data/. Both are written for example.com and 198.51.100.7; those are
replaced by the requested target.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
SOURCES = (TESTS / "fixtures", Path(__file__).resolve().parent / "data")
DOMAIN = "example.com"
IP = "198.51.100.7"


@functools.cache
def load(name: str) -> str:
    """The text of fixture `name` (e.g. "shodan/host.json")."""
    for folder in SOURCES:
        path = folder / name
        if path.is_file():
            return path.read_text("utf-8")
    raise FileNotFoundError(f"no fixture {name} in {', '.join(map(str, SOURCES))}")


def is_ip(target: str) -> bool:
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return False
    return True


def render(name: str, target: str, replace: dict[str, str] | None = None) -> bytes:
    """Fixture `name` about `target`; `replace` swaps more strings afterwards (values
    are JSON-escaped in .json files, so any text can be injected)."""
    text = load(name)
    pairs = [(IP, target)] if is_ip(target) else [(DOMAIN, target), (DOMAIN.upper(), target.upper())]
    pairs += list((replace or {}).items())
    escape = name.endswith(".json")
    for old, new in pairs:
        text = text.replace(old, json.dumps(new, ensure_ascii=False)[1:-1] if escape else new)
    return text.encode("utf-8")
