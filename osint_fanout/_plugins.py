"""Adapter discovery through the `osint_fanout.adapters` entry-point group."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from ._adapter import Adapter, metadata_problems
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
    registry = Registry()
    found: dict[str, type[Adapter[Any]]] = {}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        origin = point.dist.name if point.dist else "?"
        try:
            cls = point.load()
        except Exception as exc:  # a broken plugin must not stop the others
            registry.failed[point.name] = one_line(f"{type(exc).__name__}: {exc}")
            continue
        problems = metadata_problems(cls)
        if not problems and cls.name != point.name:
            problems = [f"its name is {cls.name!r} but its entry point is {point.name!r}"]
        if not problems and point.name in found:
            problems = [f"{registry.origins[point.name]} already provides an adapter of that name"]
        if problems:
            registry.failed[point.name] = one_line("; ".join(problems))
            continue
        found[point.name] = cls
        registry.origins[point.name] = origin
    registry.adapters = dict(sorted(found.items()))
    return registry
