"""Adapter discovery through the `osint_fanout.adapters` entry-point group (the entry
points themselves remembered between runs, see _epcache.py; the adapters always loaded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._adapter import Adapter, metadata_problems
from ._epcache import entry_points
from ._redact import one_line

__all__ = ["ENTRY_POINT_GROUP", "Registry", "discover"]

ENTRY_POINT_GROUP = "osint_fanout.adapters"


@dataclass
class Registry:
    adapters: dict[str, type[Adapter[Any]]] = field(default_factory=dict)
    """Loaded adapter classes by name, sorted by name."""
    failed: dict[str, str] = field(default_factory=dict)
    """Entry-point names that failed to load, with the reason."""
    origins: dict[str, str] = field(default_factory=dict)
    """The distribution that provides each adapter."""


def discover() -> Registry:
    """Load every adapter plugin; one that fails is recorded in `failed`, not raised."""
    from importlib.metadata import EntryPoint

    registry = Registry()
    found: dict[str, type[Adapter[Any]]] = {}
    for name, value, origin in entry_points(ENTRY_POINT_GROUP):
        try:
            cls = EntryPoint(name, value, ENTRY_POINT_GROUP).load()
        except Exception as exc:  # a broken plugin must not stop the others
            registry.failed[name] = one_line(f"{type(exc).__name__}: {exc}")
            continue
        problems = metadata_problems(cls)
        if not problems and cls.name != name:
            problems = [f"its name is {cls.name!r} but its entry point is {name!r}"]
        if not problems and name in found:
            problems = [f"{registry.origins[name]} already provides an adapter of that name"]
        if problems:
            registry.failed[name] = one_line("; ".join(problems))
            continue
        found[name] = cls
        registry.origins[name] = origin
    registry.adapters = dict(sorted(found.items()))
    return registry
